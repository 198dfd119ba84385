// Pairs that outlive their registry: a host may destroy a registry while
// RAII handles (<umod/ref.h>) still count references on its pairs. Such a
// pair is handed to those references and freed with the last of them.
#include <unordered_map>

#include "core/objects.h"
#include "support/mutex.h"

namespace umod::core {

namespace {

struct Orphanage {
    support::Mutex mutex;
    std::unordered_map<Use*, std::shared_ptr<Use>> pairs UMOD_GUARDED_BY(mutex);
};

// Never destroyed: handles in static storage may be released at exit.
Orphanage& orphanage() {
    static Orphanage* const instance = new Orphanage;
    return *instance;
}

}  // namespace

void orphan(std::shared_ptr<Use> use, std::uint64_t references) {
    use->orphan_refs.store(references, std::memory_order_relaxed);
    use->recording.store(true, std::memory_order_relaxed);  // handles take the path that checks `orphaned`
    use->orphaned.store(true, std::memory_order_release);
    Orphanage& o = orphanage();
    support::MutexLock lock(o.mutex);
    Use* key = use.get();
    o.pairs.emplace(key, std::move(use));
}

void orphan_duplicate(Use& use) { use.orphan_refs.fetch_add(1, std::memory_order_relaxed); }

void orphan_release(Use& use) {
    std::uint64_t count = use.orphan_refs.load(std::memory_order_relaxed);
    while (count != 0)
        if (use.orphan_refs.compare_exchange_weak(count, count - 1, std::memory_order_acq_rel)) break;
    if (count != 1) return;  // others remain (or none was counted)
    std::shared_ptr<Use> last;
    Orphanage& o = orphanage();
    support::MutexLock lock(o.mutex);
    auto it = o.pairs.find(&use);
    if (it == o.pairs.end()) return;
    last = std::move(it->second);
    o.pairs.erase(it);
    lock.unlock();
}

}  // namespace umod::core
