// The registry's state and the declarations its files share (internal to
// src/core). Which file holds what:
//   registry.cpp      construction, teardown, lookups, core exports, subscriptions
//   load.cpp          the load stages, each a named function, with their undo steps
//   load_transaction.{h,cpp}  the named undo steps, run (and logged) in reverse on failure
//   link_policy.cpp   check_binding: the one policy links and gets share
//   uses.cpp          the module_use graph: pairs made, published, unlinked
//   references.cpp    symbol_get/put, try_module_get/module_put, RAII handles' slow paths
//   symbol_cache.cpp  the call-site caches of <umod/module.h>
//   unload.cpp        unload: a plan (or a refusal), then exit, unlink, report, unmap
//   reload*.cpp       reload: a plan from the files (reload_plan), then one transaction (reload)
//   reports.cpp       holders and leaks: collected under the lock, symbolized after
//   tracking.cpp      the tracking level and the stack ledgers
//   snapshot.cpp      RegistrySnapshot (umod's procfs)
//   events.cpp        observers and event delivery
//   orphans.cpp       pairs that outlive their registry
//
// Locking. One mutex, `mutex_` (the kernel's module_mutex), guards: the module
// list, the named holders, the export index's writers, every UseTable
// publication, Use::static_use, Module::users_of_me and Module::depends, and
// the state transitions of modules. It is never held while module code runs
// (init, exit, backend map/unmap) nor while observers run, nor across
// rcu::synchronize() (readers may be waiting for it on their slow path).
//
// The hot path — symbol_get/symbol_put of an existing (user, provider) pair —
// takes no lock: an RCU read section, one probe of the export index, one scan
// of the user's UseTable, and atomic updates of that pair's counters.
#pragma once

#include <umod/umod.h>

#include <algorithm>
#include <atomic>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/attachment.h"
#include "core/events.h"
#include "core/export_index.h"
#include "core/load_transaction.h"
#include "core/objects.h"
#include "core/rcu.h"
#include "core/stacks.h"
#include "core/symbolize.h"
#include "support/mutex.h"

namespace umod {

using core::ExportEntry;
using core::LoadTransaction;
using core::UndoStep;
using core::Use;
using core::UseTable;

inline constexpr std::string_view kCoreOwner = "(core)";
inline constexpr std::string_view kModuleSlot = "(module)";
inline constexpr std::string_view kUntrackedSlot = "(untracked)";

inline std::string_view kind_name(UserKind kind) {
    switch (kind) {
        case UserKind::Module: return "module";
        case UserKind::Holder: return "holder";
        case UserKind::Anonymous: return "anonymous";
    }
    return "?";
}

// Decrements a per-symbol count unless it is zero.
inline __attribute__((always_inline)) bool slot_release(std::atomic<std::uint64_t>& slot) {
    std::uint64_t count = slot.load(std::memory_order_relaxed);
    while (count > 0)
        if (slot.compare_exchange_weak(count, count - 1, std::memory_order_relaxed)) return true;
    return false;
}

inline std::string_view slot_name(const Use& use, std::size_t slot) {
    if (slot < use.provider->exports.size()) return use.provider->exports[slot].name;
    return slot == use.module_slot() ? kModuleSlot : kUntrackedSlot;
}

// The counter a get raises: the symbol's own, or at the off level the pair's.
__attribute__((always_inline)) inline std::size_t slot_for_get(const Use& use, std::size_t ordinal, TrackLevel level) {
    return level == TrackLevel::Off ? use.untracked_slot() : ordinal;
}

// The put-fallback rule, the one place it is written: a reference raised on
// `raised` (for the symbol `symbol_slot`) is lowered there, else on the
// counter a put at another level would have used instead — the pair's
// untracked references for a symbol's own counter, the symbol's own for an
// untracked one. Module references are never untracked.
__attribute__((always_inline)) inline std::pair<std::size_t, std::size_t> put_order(const Use& use, std::size_t raised, std::size_t symbol_slot) {
    if (raised == use.module_slot()) return {raised, raised};
    if (raised == use.untracked_slot()) return {raised, symbol_slot};
    return {raised, use.untracked_slot()};
}

// The counters a put of `slot` at `level` tries, in order: where a get at
// that level raises (slot_for_get), then the other.
__attribute__((always_inline)) inline std::pair<std::size_t, std::size_t> slots_for_put(const Use& use, std::size_t slot, TrackLevel level) {
    std::size_t raised = slot == use.module_slot() ? slot : slot_for_get(use, slot, level);
    return put_order(use, raised, slot);
}

inline std::uint64_t dynamic_count(const Use& use) {
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < use.slots; ++i) sum += use.per_symbol[i].load(std::memory_order_acquire);
    return sum;
}

// A pair holds its provider while it has a static use or any reference.
inline bool is_active(const Use& use) { return use.static_use || dynamic_count(use) != 0; }

// True while another module links to `mod` (a holder that never drains).
// Requires the registry mutex.
inline bool linked_to(const Module& mod) {
    return std::any_of(mod.users_of_me.begin(), mod.users_of_me.end(), [](const Use* u) { return u->static_use; });
}

inline void zero_counts(Use& use) {
    for (std::size_t i = 0; i < use.slots; ++i) use.per_symbol[i].store(0, std::memory_order_relaxed);
}

// Requires an RCU read section. `user`'s pair with `provider` as published
// for lock-free readers, or null.
inline Use* published_use(const User& user, const Module* provider) {
    const UseTable* table = user.uses.load(std::memory_order_acquire);
    return table != nullptr ? table->find(provider) : nullptr;
}

// One pair's counts as reports show them (reports.cpp).
HolderCounts holder_counts(const Use& use);

inline std::string_view owner_name(const ExportEntry& entry) {
    return entry.owner ? std::string_view(entry.owner->name()) : kCoreOwner;
}

// What a binding is for: a load linking its imports (where a provider still
// Coming is waited for, then checked again), or a get.
enum class BindPurpose : std::uint8_t { Link, LinkNoWait, Get, TypedGet };

// The one binding policy, for links and gets alike: may `user` bind to
// `entry` now? Licence (GPL-only exports to GPL-compatible modules), symbol
// namespace (links), provider state (Live; Coming passes for a Link, which
// waits), recorded type (typed gets). Requires the registry mutex.
Status check_binding(const ExportEntry& entry, const User& user, BindPurpose purpose, std::string_view type = {});

// An unload decided and not yet carried out (Registry::Impl::plan_unload):
// the module is Going, so no get, link or other unload reaches it any more,
// and none of its code has run. Registry::Impl::carry_out() is the only way
// on: it runs `exit`, unlinks the module's pairs and exports, reports its
// leaks while its code is mapped, unmaps it and removes it. A refusal is not
// a plan but an error (EWOULDBLOCK with every holder, EBUSY, ENOENT).
struct UnloadPlan {
    std::shared_ptr<Module> module;    // what will be unloaded (Going)
    std::vector<HolderCounts> forced;  // references others still hold (a forced unload), symbolized
    bool taints = false;               // a forced unload with references held: the registry is tainted "F"

    // What will run first: the module's exit (empty for a module without one).
    const std::function<void()>& exit() const { return module->exit; }
};

// Each entry point records, at the stacks level, the stack above its own
// frame unless told where the caller's begins.
#define UMOD_CALLER_FRAME(given) ((given) != nullptr ? (given) : __builtin_frame_address(0))

struct Registry::Impl {
    std::unique_ptr<core::Attachment> attachment;  // see core/attachment.h
    explicit Impl(RegistryOptions o) : options(o) {}

    const RegistryOptions options;
    User anonymous{"(anonymous)", UserKind::Anonymous};

    mutable support::Mutex mutex;  // see the comment at the top of this file
    support::CondVar state_changed;  // any module state change; waits use `mutex`
    std::vector<std::shared_ptr<Module>> modules UMOD_GUARDED_BY(mutex);  // newest first
    std::unordered_map<std::string, std::unique_ptr<User>> holders UMOD_GUARDED_BY(mutex);
    std::vector<std::unique_ptr<ExportEntry>> core_exports UMOD_GUARDED_BY(mutex);
    core::ExportIndex index;  // readers: RCU; writers: `mutex`
    // Moves (under `mutex`) whenever an export is unpublished or a pair
    // unlinked, before the grace period that frees them: a SymbolCache filled
    // at another generation is stale.
    std::atomic<unsigned long> generation{1};
    // Unique in the process (addresses are reused): what a LastGet names.
    const std::uint64_t id = next_id();
    static std::uint64_t next_id() {
        static std::atomic<std::uint64_t> counter{1};
        return counter.fetch_add(1, std::memory_order_relaxed);
    }
    std::string taints UMOD_GUARDED_BY(mutex);
    // Adds a taint letter, once, in the kernel's order (core/taints.cpp).
    void add_taint_locked(char letter) UMOD_REQUIRES(mutex);
    // A module whose licence is not GPL-compatible (none: "unspecified")
    // taints the registry with P and says so in a Warning, as the kernel
    // does; called once its code is mapped, before init.
    void taint_for_license(const Module& mod) UMOD_EXCLUDES(mutex);

    // Observers; events are delivered through it with no lock held.
    const std::shared_ptr<core::ObserverHub> hub = std::make_shared<core::ObserverHub>();

    // ---- helpers -------------------------------------------------------

    User& resolve_user(User* user) { return user ? *user : anonymous; }

    // The module named `name` (whatever its state), or null: the one lookup by name.
    const std::shared_ptr<Module>* find_shared_locked(std::string_view name) const UMOD_REQUIRES(mutex) {
        for (const auto& m : modules)
            if (m->name() == name) return &m;
        return nullptr;
    }
    Module* find_locked(std::string_view name) const UMOD_REQUIRES(mutex) {
        const std::shared_ptr<Module>* m = find_shared_locked(name);
        return m ? m->get() : nullptr;
    }

    // Requires no registry lock held (see core/events.h).
    void emit(const Event& event) UMOD_EXCLUDES(mutex) { hub->deliver(event); }
    bool get_put_observed() const { return hub->any_get_put(); }

    // The module_use graph (uses.cpp). Publishes `user`'s table with `use`
    // added (or removed when `add` is false); the old table goes to `garbage`.
    void republish_locked(User& user, Use* use, bool add, std::vector<std::shared_ptr<void>>& garbage)
        UMOD_REQUIRES(mutex);

    void unpublish_exports_locked(Module& mod, std::vector<std::shared_ptr<void>>& garbage) UMOD_REQUIRES(mutex) {
        generation.fetch_add(1, std::memory_order_seq_cst);
        for (const auto& e : mod.exports)
            for (std::string_view key : e.keys())
                if (!key.empty()) index.erase(key);
        index.take_retired(garbage);
    }

    std::shared_ptr<Module> shared_from_registry(const Module& module) UMOD_REQUIRES(mutex) {
        for (const auto& m : modules)
            if (m.get() == &module) return m;
        return nullptr;
    }
    // Takes `module` off the module list; returns the list's reference (null
    // if it was not there), so that the caller decides when it goes.
    std::shared_ptr<Module> remove_module_locked(const Module& module) UMOD_REQUIRES(mutex) {
        auto it = std::find_if(modules.begin(), modules.end(), [&](const auto& m) { return m.get() == &module; });
        if (it == modules.end()) return nullptr;
        std::shared_ptr<Module> removed = std::move(*it);
        modules.erase(it);
        return removed;
    }

    Use* find_use_locked(User& user, const Module* provider) UMOD_REQUIRES(mutex) {
        return user.uses_owner ? user.uses_owner->find(provider) : nullptr;
    }
    // `user`'s pair with `provider`: the existing one, or a new one, published.
    Use& use_of_locked(User& user, Module& provider, std::vector<std::shared_ptr<void>>& garbage)
        UMOD_REQUIRES(mutex) {
        Use* use = find_use_locked(user, &provider);
        return use != nullptr ? *use : make_use_locked(user, provider, garbage);
    }

    // A new pair, published.
    Use& make_use_locked(User& user, Module& provider, std::vector<std::shared_ptr<void>>& garbage)
        UMOD_REQUIRES(mutex);
    // Unlinks a pair from its user's table and its provider's list; the Use
    // itself goes to `garbage`, or to the zombies while it still counts.
    void drop_use_locked(Use& use, std::vector<std::shared_ptr<void>>& garbage) UMOD_REQUIRES(mutex);

    void emit_leak(const Leak& leak) {
        std::string text = describe_leak(leak);
        emit(Event{.kind = EventKind::Leak, .user = leak.user, .provider = leak.provider,
                   .leaked = &leak.references, .text = text});
    }

    static void collect(std::vector<std::shared_ptr<void>>& garbage) {
        if (garbage.empty()) return;
        rcu::synchronize();
        garbage.clear();
    }

    // Guards `request_handler`; never held while it runs.
    support::Mutex request_mutex;
    RequestHandler request_handler UMOD_GUARDED_BY(request_mutex);

    // ---- tracking -------------------------------------------------------

    std::atomic<TrackLevel> level{TrackLevel::Counts};
    // True while RAII handles must take the slow path: the stacks level, or
    // observers of gets and puts. Written under `mutex`, with every pair's copy.
    std::atomic<bool> recording{false};
    core::StackDepot depot;
    core::Symbolizer symbolizer;
    // Pairs unlinked while they still counted references (a forced unload, a
    // leak), with their modules: RAII handles may still lower their
    // counters, so they live as long as the registry.
    struct Zombie {
        std::shared_ptr<Use> use;
        std::shared_ptr<Module> provider;
        std::shared_ptr<Module> user;  // null unless the user is a module
    };
    std::vector<Zombie> zombies UMOD_GUARDED_BY(mutex);

    void update_recording() UMOD_EXCLUDES(mutex) {
        support::MutexLock lock(mutex);
        bool on = level.load() == TrackLevel::Stacks || hub->any_get_put();
        recording.store(on);
        for_each_use_locked([&](Use& use) { use.recording.store(on, std::memory_order_relaxed); });
    }

    // Calls `f` on every pair: those of each user, and the zombies.
    template <class F>
    void for_each_use_locked(F f) UMOD_REQUIRES(mutex) {
        auto of_user = [&](User& user) {
            for (const auto& use : user.owned_uses) f(*use);
        };
        for (const auto& m : modules) of_user(*m);
        for (const auto& [name, holder] : holders) of_user(*holder);
        of_user(anonymous);
        for (const auto& zombie : zombies) f(*zombie.use);
    }

    core::StackLedger& ledger_of(Use& use) {
        core::StackLedger* ledger = use.ledger.load(std::memory_order_acquire);
        if (ledger != nullptr) return *ledger;
        auto* fresh = new core::StackLedger(use.slots, options.quarantine);
        if (use.ledger.compare_exchange_strong(ledger, fresh, std::memory_order_acq_rel)) return *fresh;
        delete fresh;
        return *ledger;
    }

    // Raises `slot` of `use` unless its provider is no longer Live; at the
    // stacks level records `stack` with it. Requires an RCU read section or
    // the registry mutex.
    __attribute__((always_inline)) bool raise(Use& use, std::size_t slot, const core::StackRecord* stack) {
        if (stack != nullptr) return raise_recorded(use, slot, stack);
        return raise_counter(use, slot);
    }
    // Raise first, then check the provider is still Live: an unload sets
    // Going and then waits for every read section, so either it sees this
    // reference or this get sees Going and backs off.
    __attribute__((always_inline)) static bool raise_counter(Use& use, std::size_t slot) {
        std::atomic<std::uint64_t>& counter = use.per_symbol[slot];
        counter.fetch_add(1, std::memory_order_seq_cst);
        if (use.provider->state.load(std::memory_order_seq_cst) == ModuleState::Live) return true;
        counter.fetch_sub(1, std::memory_order_relaxed);
        return false;
    }
    bool raise_recorded(Use& use, std::size_t slot, const core::StackRecord* stack) {
        core::StackLedger& ledger = ledger_of(use);
        support::MutexLock lock(ledger.mutex);
        if (!raise_counter(use, slot)) return false;
        ledger.outstanding[slot].push_back(stack);
        return true;
    }

    // Lowers one reference of `use` for `slot` (see slots_for_put); at the
    // stacks level records the release against the newest acquisition.
    // Requires an RCU read section or the registry mutex.
    __attribute__((always_inline)) bool lower(Use& use, std::size_t slot, TrackLevel track,
                                              const core::StackRecord* stack) {
        auto [first, second] = slots_for_put(use, slot, track);
        return lower_either(use, first, second, stack);
    }
    // Lowers `first`, else `second`, never below zero.
    __attribute__((always_inline)) bool lower_either(Use& use, std::size_t first, std::size_t second,
                                                     const core::StackRecord* stack) {
        if (stack != nullptr) return lower_recorded(use, first, second, stack);
        return slot_release(use.per_symbol[first]) || slot_release(use.per_symbol[second]);
    }
    bool lower_recorded(Use& use, std::size_t first, std::size_t second, const core::StackRecord* stack) {
        core::StackLedger& ledger = ledger_of(use);
        support::MutexLock lock(ledger.mutex);
        for (std::size_t s : {first, second}) {
            if (!slot_release(use.per_symbol[s])) continue;
            const core::StackRecord* acquired = nullptr;
            if (!ledger.outstanding[s].empty()) {
                acquired = ledger.outstanding[s].back();
                ledger.outstanding[s].pop_back();
            }
            ledger.remember({s, acquired, stack});
            return true;
        }
        return false;
    }

    const core::StackRecord* capture_if_stacks(TrackLevel track, const void* frame) {
        return track == TrackLevel::Stacks ? depot.capture(frame) : nullptr;
    }

    // References still held, grouped by where they were taken, for reports:
    // collected under a lock, symbolized after it (see core/symbolize.h).
    struct RawGroup {
        std::string symbol;
        std::uint64_t count = 0;
        const core::StackRecord* stack = nullptr;
    };
    std::vector<RawGroup> acquisitions_of(const Use& use) const;
    // Holders as collected under the registry mutex: every active user of a
    // module with its counts, and (at the stacks level) where its references
    // were taken, one list per holder, to be symbolized with no lock held.
    struct CollectedHolders {
        std::vector<HolderCounts> counts;
        std::vector<std::vector<RawGroup>> stacks;  // parallel to `counts`
    };
    // The one holders loop.
    CollectedHolders holders_locked(const Module& mod) const UMOD_REQUIRES(mutex);
    // The counts with where their references were taken. Requires no lock.
    std::vector<HolderCounts> symbolized(CollectedHolders collected) UMOD_EXCLUDES(mutex);
    void attach_acquisitions(HolderCounts& holder, const std::vector<RawGroup>& raw);
    StackTrace symbolize(const core::StackRecord* stack) {
        return stack ? symbolizer.symbolize(stack->frames) : StackTrace{};
    }

    // ---- references -----------------------------------------------------

    // Requires an RCU read section. The export `name` and `user`'s pair with
    // its owner; the pair is null when there is none yet or the export is the
    // host's own (owner null), the entry when nothing exports `name`.
    struct PairLookup {
        ExportEntry* entry = nullptr;
        Use* use = nullptr;
    };
    __attribute__((always_inline)) PairLookup lookup_pair(std::string_view name, const User& user) const {
        ExportEntry* entry = index.find(name);
        if (entry == nullptr || entry->owner == nullptr) return {entry, nullptr};
        return {entry, published_use(user, entry->owner)};
    }

    // This thread's last get on the hot path. A put of the same name by the
    // same user in the same registry, while the generation has not moved (so
    // the entry and the pair are alive, as for a SymbolCache), lowers that
    // pair without probing the index again: a get and its put cost one probe.
    struct LastGet {
        std::uint64_t registry = 0;  // Impl::id; 0: none
        unsigned long generation = 0;
        const User* user = nullptr;
        const char* name = nullptr;  // the export's name (alive as long as its entry)
        std::size_t name_size = 0;
        Use* use = nullptr;
        std::uint32_t ordinal = 0;  // the export's
    };
    // Initial-exec: see "Thread-local state" in docs/design.md.
    static thread_local LastGet last_get __attribute__((tls_model("initial-exec")));

    // A reference as taken: its address and the counter raised (none for
    // the host's own exports).
    struct Acquired {
        void* address = nullptr;
        Use* use = nullptr;
        std::size_t slot = 0;         // the counter raised
        std::size_t symbol_slot = 0;  // the symbol's own (the off level raises the pair's)
    };
    // The lock-free hot paths (references.cpp): true when done, false when
    // the caller must take the reported path (nothing was changed).
    bool get_hot(std::string_view name, User* who, Acquired& got);
    bool put_hot(User& user, std::string_view symbol);
    // symbol_get; `got` tells what was raised.
    Expected<void*> get(std::string_view name, std::string_view type, bool typed, User* who, const void* frame,
                        Acquired& got);
    // get() with stacks, observers and the locked path for new pairs.
    __attribute__((noinline)) Expected<void*> get_reported(std::string_view name, std::string_view type,
                                                           bool typed, User* who, TrackLevel track,
                                                           const void* frame, Acquired& got);
    Expected<void*> get_slow(std::string_view name, std::string_view type, bool typed, User& user,
                             TrackLevel track, const void* frame, Acquired& got);
    Status check_get_locked(const ExportEntry* entry, std::string_view name, std::string_view type,
                            bool typed, User& user) UMOD_REQUIRES(mutex);
    Expected<Acquired> acquire_module(User& user, Module& provider, const void* frame);
    // What a put undoes: a symbol by name (provider null), or a provider's slot.
    struct ReleaseTarget {
        std::string_view symbol;
        Module* provider = nullptr;
        std::size_t slot = 0;
    };
    // Requires an RCU read section. The provider and slot a put by name
    // undoes (left as they are for a target that names them; provider null
    // when nothing exports the symbol); false for an export of the host's.
    bool resolve(const ReleaseTarget& target, Module*& provider, std::size_t& slot) const {
        if (provider != nullptr) return true;
        const ExportEntry* entry = index.find(target.symbol);
        if (entry == nullptr) return true;
        if (entry->owner == nullptr) return false;
        provider = entry->owner;
        slot = entry->ordinal;
        return true;
    }
    Status release(User& user, const ReleaseTarget& target, const void* frame);
    // release() with stacks, observers and the unmatched report.
    __attribute__((noinline)) Status release_reported(User& user, const ReleaseTarget& target, TrackLevel track,
                                                      const void* frame);
    // What an unmatched put's report shows at the stacks level.
    struct PutEvidence {
        const core::StackRecord* put = nullptr;
        std::vector<core::StackLedger::Release> releases;  // newest first
    };
    Status unmatched(User& user, std::string_view provider, std::string_view symbol, const PutEvidence& evidence);
    HeldReference held(const Acquired& got, Registry& registry) {
        if (got.use == nullptr) return HeldReference{.address = got.address};
        return HeldReference{.address = got.address, .counter = &got.use->per_symbol[got.slot],
                             .recording = &got.use->recording, .registry = &registry, .pair = got.use,
                             .slot = static_cast<std::uint32_t>(got.slot),
                             .symbol_slot = static_cast<std::uint32_t>(got.symbol_slot)};
    }

    // ---- load/unload ----------------------------------------------------

    // The load stages, in order (see load()). `before_init`, when given,
    // runs module code once the module is Coming, just before its init (a
    // reload's state restore); its error fails the load as init's would.
    using BeforeInit = std::function<Status(Module&)>;
    Expected<ModuleHandle> load(ModuleImage image, const BeforeInit& before_init = {});
    Status reserve(const std::shared_ptr<Module>& module, LoadTransaction& transaction);
    Expected<std::vector<const ExportEntry*>> resolve_imports_locked(Module& mod,
                                                                     const std::vector<std::string>& imports,
                                                                     support::MutexLock& lock)
        UMOD_REQUIRES(mutex);
    void link_static_uses_locked(Module& mod, const std::vector<const ExportEntry*>& targets,
                                 std::vector<ResolvedImport>& resolved) UMOD_REQUIRES(mutex);
    Status map(Module& mod, const std::vector<ResolvedImport>& resolved, LoadTransaction& transaction);
    Status init(Module& mod, LoadTransaction& transaction, const BeforeInit& before_init);
    void set_state(Module& mod, ModuleState state);
    // Publishes `entries` under their names and aliases, or none of them:
    // ENOEXEC naming the first name taken (by `publisher` itself or another).
    Status publish_exports_locked(std::span<ExportEntry> entries, std::string_view publisher) UMOD_REQUIRES(mutex);
    // Unload (unload.cpp): a plan, or the error that refuses it; then the
    // plan carried out.
    Expected<UnloadReport> unload(std::string_view name, UnloadOptions options);
    Expected<UnloadPlan> plan_unload(std::string_view name, UnloadOptions options) UMOD_EXCLUDES(mutex);
    UnloadReport carry_out(UnloadPlan plan) UMOD_EXCLUDES(mutex);
    std::vector<Leak> release_user_uses(Module& module);
    std::vector<Use*> unlink_user_uses_locked(Module& module, std::vector<std::shared_ptr<void>>& garbage)
        UMOD_REQUIRES(mutex);
    std::vector<Leak> leaks_of(Module& module, const std::vector<Use*>& held);
};

}  // namespace umod
