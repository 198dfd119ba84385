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

    static std::uint64_t hash(std::string_view key);

    // Reader side: requires an RCU read section (or the writer's lock); the
    // result stays valid until the section ends.
    ExportEntry* find(std::string_view key) const { return find(key, hash(key)); }
    ExportEntry* find(std::string_view key, std::uint64_t hash) const;

    // Writer side: requires the registry mutex. `key` must outlive the entry's
    // presence in the index (it points into the entry). Returns false if the
    // key is present already.
    bool insert(std::string_view key, ExportEntry* entry);
    // Removes the key; the node is retired, not freed.
    void erase(std::string_view key);
    // Hands over what was retired (requires the registry mutex); the caller
    // frees it after rcu::synchronize().
    void take_retired(std::vector<std::shared_ptr<void>>& garbage);
    // Everything: for snapshots under the registry mutex.
    std::size_t size() const { return live_; }

private:
    struct Node {
        std::uint64_t hash;
        std::string_view key;
        ExportEntry* entry;
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
