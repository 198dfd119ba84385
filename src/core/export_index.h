// The name → export index: an open-addressing hash table that readers probe
// inside an RCU read section without any lock, and that writers change under
// the registry mutex.
//
// Readers never see a half-made state: a slot goes from empty to a fully built
// node (release store), and from a node to the tombstone. Growing builds a new
// table and publishes it; the old table and erased nodes are kept on a retire
// list until the writer has called rcu::synchronize() and then reclaim().
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace umod::core {

struct ExportEntry;

class ExportIndex {
public:
    ExportIndex();
    ~ExportIndex();
    ExportIndex(const ExportIndex&) = delete;
    ExportIndex& operator=(const ExportIndex&) = delete;

    // A fast hash for symbol names: 8 bytes at a time, multiply-xorshift mixed.
    __attribute__((always_inline)) static std::uint64_t hash(std::string_view key) {
        constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ull;
        std::uint64_t h = key.size() * kMul;
        const char* p = key.data();
        std::size_t n = key.size();
        if (n >= 8) {
            for (; n > 8; n -= 8, p += 8) {
                std::uint64_t chunk;
                std::memcpy(&chunk, p, 8);
                h = (h ^ chunk) * kMul;
                h ^= h >> 29;
            }
            std::uint64_t last;  // the last 8 bytes, overlapping the previous chunk
            std::memcpy(&last, key.data() + key.size() - 8, 8);
            h = (h ^ last) * kMul;
        } else {
            for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(p[i])) * kMul;
        }
        h ^= h >> 32;
        h *= kMul;
        return h ^ (h >> 29);
    }

    // Equal keys, compared a word at a time inline (the hot path's probe
    // would otherwise call memcmp for every hit).
    __attribute__((always_inline)) static bool same_key(std::string_view a, std::string_view b) {
        std::size_t n = a.size();
        if (n != b.size()) return false;
        const char* p = a.data();
        const char* q = b.data();
        auto word = [](const char* at) {
            std::uint64_t w;
            std::memcpy(&w, at, 8);
            return w;
        };
        if (n >= 8) {
            for (std::size_t i = 0; i + 8 < n; i += 8)
                if (word(p + i) != word(q + i)) return false;
            return word(p + n - 8) == word(q + n - 8);  // the last 8 bytes, overlapping
        }
        for (std::size_t i = 0; i < n; ++i)
            if (p[i] != q[i]) return false;
        return true;
    }

    // Reader side: requires an RCU read section (or the writer's lock); the
    // result stays valid until the section ends.
    // Inlined: the hot paths' one probe (a call would also go through the PLT
    // in libumod.so, where this inline function is interposable).
    __attribute__((always_inline)) ExportEntry* find(std::string_view key) const { return find(key, hash(key)); }
    __attribute__((always_inline)) ExportEntry* find(std::string_view key, std::uint64_t h) const {
        const Table* table = table_.load(std::memory_order_acquire);
        for (std::size_t i = h & table->mask;; i = (i + 1) & table->mask) {
            const Node* node = table->slots[i].load(std::memory_order_acquire);
            if (node == nullptr) return nullptr;
            if (node->hash == h && same_key(node->key, key)) return node->entry;
        }
    }

    // Writer side: requires the registry mutex. `key` must outlive the entry's
    // presence in the index (it points into the entry). Returns false if the
    // key is present already.
    [[nodiscard]] bool insert(std::string_view key, ExportEntry* entry);
    // Removes the key; the node is retired, not freed.
    void erase(std::string_view key);
    // Hands over what was retired (requires the registry mutex); the caller
    // frees it after rcu::synchronize().
    void take_retired(std::vector<std::shared_ptr<void>>& garbage);

private:
    // One cache line: a hit reads the hash, the key's bytes (kept here when
    // they fit) and the entry without another dependent load.
    struct alignas(64) Node {
        Node(std::uint64_t h, std::string_view k, ExportEntry* e) : hash(h), key(k), entry(e) {
            if (k.empty() || k.size() > sizeof(bytes)) return;  // longer keys stay where the entry keeps them
            std::memcpy(bytes, k.data(), k.size());
            key = std::string_view(bytes, k.size());
        }
        Node(const Node&) = delete;
        Node& operator=(const Node&) = delete;

        std::uint64_t hash;
        std::string_view key;
        ExportEntry* entry;
        char bytes[64 - sizeof(std::uint64_t) - sizeof(std::string_view) - sizeof(ExportEntry*)];
    };
    struct Table {
        explicit Table(std::size_t capacity);
        std::size_t mask;
        std::unique_ptr<std::atomic<Node*>[]> slots;
    };

    static Node* tombstone();
    void grow(std::size_t capacity);
    static bool place(Table& table, Node* node);

    std::atomic<Table*> table_;
    std::size_t live_ = 0;   // guarded by the registry mutex
    std::size_t used_ = 0;   // live + tombstones; guarded by the registry mutex
    std::vector<std::shared_ptr<void>> retired_;  // guarded by the registry mutex
};

}  // namespace umod::core
