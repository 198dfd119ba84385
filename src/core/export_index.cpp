#include "core/export_index.h"


namespace umod::core {

ExportIndex::Table::Table(std::size_t capacity)
    : mask(capacity - 1), slots(new std::atomic<Node*>[capacity]) {
    for (std::size_t i = 0; i < capacity; ++i) slots[i].store(nullptr, std::memory_order_relaxed);
}

ExportIndex::ExportIndex() : table_(new Table(64)) {}

ExportIndex::~ExportIndex() {
    Table* table = table_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i <= table->mask; ++i) {
        Node* node = table->slots[i].load(std::memory_order_relaxed);
        if (node != nullptr && node != tombstone()) delete node;
    }
    delete table;
}

ExportIndex::Node* ExportIndex::tombstone() {
    static Node marker(0, {}, nullptr);
    return &marker;
}

bool ExportIndex::place(Table& table, Node* node) {
    for (std::size_t i = node->hash & table.mask;; i = (i + 1) & table.mask) {
        Node* slot = table.slots[i].load(std::memory_order_relaxed);
        if (slot == nullptr) {
            table.slots[i].store(node, std::memory_order_release);
            return true;
        }
    }
}

bool ExportIndex::insert(std::string_view key, ExportEntry* entry) {
    std::uint64_t h = hash(key);
    if (find(key, h) != nullptr) return false;
    Table* table = table_.load(std::memory_order_relaxed);
    // Keep the load (tombstones included) at most one half.
    if ((used_ + 1) * 2 > table->mask + 1) grow((live_ + 1) * 4 > table->mask + 1 ? (table->mask + 1) * 2 : table->mask + 1);
    ++live_;
    ++used_;
    return place(*table_.load(std::memory_order_relaxed), new Node(h, key, entry));
}

void ExportIndex::erase(std::string_view key) {
    std::uint64_t h = hash(key);
    Table* table = table_.load(std::memory_order_relaxed);
    for (std::size_t i = h & table->mask;; i = (i + 1) & table->mask) {
        Node* node = table->slots[i].load(std::memory_order_relaxed);
        if (node == nullptr) return;
        if (node != tombstone() && node->hash == h && node->key == key) {
            table->slots[i].store(tombstone(), std::memory_order_release);
            retired_.emplace_back(std::shared_ptr<Node>(node));
            --live_;
            return;
        }
    }
}

void ExportIndex::grow(std::size_t capacity) {
    auto fresh = std::make_unique<Table>(capacity);
    Table* old = table_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i <= old->mask; ++i) {
        Node* node = old->slots[i].load(std::memory_order_relaxed);
        if (node != nullptr && node != tombstone()) place(*fresh, node);
    }
    used_ = live_;
    table_.store(fresh.release(), std::memory_order_release);
    retired_.emplace_back(std::shared_ptr<Table>(old));
}

void ExportIndex::take_retired(std::vector<std::shared_ptr<void>>& garbage) {
    for (auto& item : retired_) garbage.push_back(std::move(item));
    retired_.clear();
}

}  // namespace umod::core
