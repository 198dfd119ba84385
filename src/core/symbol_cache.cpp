// The call-site caches of <umod/module.h>'s symbol_get and symbol_put.
#include "core/registry_impl.h"

namespace umod {

namespace {

// The cache is shared by every thread running the call site: a seqlock of
// sorts. Writers take `busy` (or give up), readers re-check the generation.
void fill_cache(SymbolCache& cache, Registry* registry, unsigned long generation, ExportEntry* entry, Use* use) {
    if (__atomic_exchange_n(&cache.busy, 1, __ATOMIC_ACQUIRE) != 0) return;
    // Sequentially consistent throughout: a reader that sees a new field
    // also sees the generation cleared before it (no fences: TSan checks this).
    __atomic_store_n(&cache.generation, 0UL, __ATOMIC_SEQ_CST);
    __atomic_store_n(&cache.registry, static_cast<void*>(registry), __ATOMIC_SEQ_CST);
    __atomic_store_n(&cache.entry, static_cast<void*>(entry), __ATOMIC_SEQ_CST);
    __atomic_store_n(&cache.use, static_cast<void*>(use), __ATOMIC_SEQ_CST);
    __atomic_store_n(&cache.generation, generation, __ATOMIC_SEQ_CST);
    __atomic_store_n(&cache.busy, 0, __ATOMIC_RELEASE);
}

// Requires an RCU read section. The cached pair, if still valid.
bool read_cache(const SymbolCache& cache, const Registry* registry, unsigned long current, ExportEntry*& entry,
                Use*& use) {
    unsigned long seen = __atomic_load_n(&cache.generation, __ATOMIC_SEQ_CST);
    if (seen == 0 || seen != current || __atomic_load_n(&cache.registry, __ATOMIC_SEQ_CST) != registry)
        return false;
    entry = static_cast<ExportEntry*>(__atomic_load_n(&cache.entry, __ATOMIC_SEQ_CST));
    use = static_cast<Use*>(__atomic_load_n(&cache.use, __ATOMIC_SEQ_CST));
    return __atomic_load_n(&cache.generation, __ATOMIC_SEQ_CST) == seen && entry != nullptr && use != nullptr;
}

}  // namespace

// Fills `cache` with the export `name` and `who`'s pair for it, as they are now.
void Registry::remember(SymbolCache& cache, std::string_view name, User& who) {
    Impl& impl = *impl_;
    rcu::ReadGuard read;
    unsigned long generation = impl.generation.load(std::memory_order_seq_cst);
    auto [entry, use] = impl.lookup_pair(name, who);
    if (use != nullptr) fill_cache(cache, this, generation, entry, use);
}

// The cached paths serve the counts and off levels without observers; the
// stacks level and observed gets take the plain path.
void* Registry::symbol_get_cached(std::string_view name, SymbolCache& cache, User* user, const void* caller_frame) {
    Impl& impl = *impl_;
    const void* frame = UMOD_CALLER_FRAME(caller_frame);
    User& who = impl.resolve_user(user);
    TrackLevel track = impl.level.load(std::memory_order_relaxed);
    if (!impl.recording.load(std::memory_order_relaxed)) {
        rcu::ReadGuard read;
        ExportEntry* entry = nullptr;
        Use* use = nullptr;
        if (read_cache(cache, this, impl.generation.load(std::memory_order_seq_cst), entry, use) &&
            impl.raise(*use, slot_for_get(*use, entry->ordinal, track), nullptr))
            return const_cast<void*>(entry->address);
    }
    Impl::Acquired acquired;
    auto got = impl.get(name, {}, false, user, frame, acquired);
    if (!got) return nullptr;
    remember(cache, name, who);
    return *got;
}

bool Registry::symbol_put_cached(std::string_view name, SymbolCache& cache, User* user, const void* caller_frame) {
    Impl& impl = *impl_;
    const void* frame = UMOD_CALLER_FRAME(caller_frame);
    TrackLevel track = impl.level.load(std::memory_order_relaxed);
    if (!impl.recording.load(std::memory_order_relaxed)) {
        rcu::ReadGuard read;
        ExportEntry* entry = nullptr;
        Use* use = nullptr;
        if (read_cache(cache, this, impl.generation.load(std::memory_order_seq_cst), entry, use) &&
            impl.lower(*use, entry->ordinal, track, nullptr))
            return true;
    }
    User& who = impl.resolve_user(user);
    if (!impl.release(who, {.symbol = name}, frame)) return false;
    remember(cache, name, who);
    return true;
}

}  // namespace umod
