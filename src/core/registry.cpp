// The registry: staged load with rollback, attributed references, unload.
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
#include <umod/umod.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>

#include "core/events.h"
#include "core/export_index.h"
#include "core/objects.h"
#include "core/rcu.h"
#include "core/stacks.h"
#include "core/symbolize.h"
#include "support/mutex.h"

namespace umod {

namespace {
class LoadTransaction;
}

using core::ExportEntry;
using core::Use;
using core::UseTable;

namespace {

constexpr std::string_view kCoreOwner = "(core)";
constexpr std::string_view kModuleSlot = "(module)";
constexpr std::string_view kUntrackedSlot = "(untracked)";

std::string_view kind_name(UserKind kind) {
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

std::string_view slot_name(const Use& use, std::size_t slot) {
    if (slot < use.provider->exports.size()) return use.provider->exports[slot].name;
    return slot == use.module_slot() ? kModuleSlot : kUntrackedSlot;
}

// The counter a get raises: the symbol's own, or at the off level the pair's.
std::size_t slot_for_get(const Use& use, std::size_t ordinal, TrackLevel level) {
    return level == TrackLevel::Off ? use.untracked_slot() : ordinal;
}

// The counters a put tries, in order: the slot's own, then the pair's
// untracked references (the reverse at the off level). Module references are
// never untracked.
std::pair<std::size_t, std::size_t> slots_for_put(const Use& use, std::size_t slot, TrackLevel level) {
    if (slot == use.module_slot()) return {slot, slot};
    if (level == TrackLevel::Off) return {use.untracked_slot(), slot};
    return {slot, use.untracked_slot()};
}

std::uint64_t dynamic_count(const Use& use) {
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < use.slots; ++i) sum += use.per_symbol[i].load(std::memory_order_acquire);
    return sum;
}

// A pair holds its provider while it has a static use or any reference.
bool is_active(const Use& use) { return use.static_use || dynamic_count(use) != 0; }

void zero_counts(Use& use) {
    for (std::size_t i = 0; i < use.slots; ++i) use.per_symbol[i].store(0, std::memory_order_relaxed);
}

HolderCounts holder_counts(const Use& use) {
    HolderCounts counts;
    counts.user = use.user->name();
    counts.kind = std::string(kind_name(use.user->kind()));
    counts.static_uses = use.static_use ? 1 : 0;
    counts.dynamic = dynamic_count(use);
    for (std::size_t i = 0; i < use.slots; ++i) {
        std::uint64_t n = use.per_symbol[i].load(std::memory_order_relaxed);
        if (n != 0) counts.symbols.push_back({std::string(slot_name(use, i)), n});
    }
    return counts;
}

std::string_view owner_name(const ExportEntry& entry) {
    return entry.owner ? std::string_view(entry.owner->name()) : kCoreOwner;
}

// What a binding is for: a load linking its imports (where a provider still
// Coming is waited for, then checked again), or a get.
enum class BindPurpose : std::uint8_t { Link, LinkNoWait, Get, TypedGet };

// The one binding policy, for links and gets alike: may `user` bind to
// `entry` now? Licence (GPL-only exports to GPL-compatible modules), symbol
// namespace (links), provider state (Live; Coming passes for a Link, which
// waits), recorded type (typed gets). Requires the registry mutex.
Status check_binding(const ExportEntry& entry, const User& user, BindPurpose purpose, std::string_view type = {}) {
    bool link = purpose == BindPurpose::Link || purpose == BindPurpose::LinkNoWait;
    const Module* as_module = user.kind() == UserKind::Module ? static_cast<const Module*>(&user) : nullptr;
    if (entry.license == ExportLicense::GplOnly && as_module != nullptr && !as_module->gpl_compatible)
        return Error::with<GplOnlySymbol>(
            EPERM, GplOnlySymbol{user.name(), as_module->license.empty() ? "(none)" : as_module->license,
                                 entry.name, std::string(owner_name(entry))});
    if (link && !entry.ns.empty() && as_module != nullptr &&
        std::find(as_module->import_ns.begin(), as_module->import_ns.end(), entry.ns) == as_module->import_ns.end())
        return Error::with<NamespaceNotImported>(
            EINVAL, NamespaceNotImported{user.name(), entry.name, entry.ns, std::string(owner_name(entry))});
    if (entry.owner != nullptr) {
        ModuleState state = entry.owner->state.load();
        bool waits = purpose == BindPurpose::Link && state == ModuleState::Coming;
        if (state != ModuleState::Live && !waits)
            return Error::with<ProviderNotReady>(
                EBUSY, ProviderNotReady{user.name(), entry.owner->name(), entry.name, std::string(to_string(state))});
    }
    if (purpose == BindPurpose::TypedGet && entry.type != type)
        return Error::with<TypeMismatch>(
            EINVAL, TypeMismatch{entry.name, std::string(owner_name(entry)),
                                 entry.type.empty() ? "(untyped)" : entry.type, std::string(type)});
    if (as_module != nullptr && !link && as_module->state.load() == ModuleState::Gone)
        return Error(EINVAL, "user " + user.name() + " is unloaded");
    return {};
}

}  // namespace

std::string_view to_string(ModuleState state) {
    switch (state) {
        case ModuleState::Unformed: return "unformed";
        case ModuleState::Coming: return "coming";
        case ModuleState::Live: return "live";
        case ModuleState::Going: return "going";
        case ModuleState::Gone: return "gone";
    }
    return "?";
}

std::string_view to_string(TrackLevel level) {
    switch (level) {
        case TrackLevel::Off: return "off";
        case TrackLevel::Counts: return "counts";
        case TrackLevel::Stacks: return "stacks";
    }
    return "?";
}

Expected<TrackLevel> parse_track_level(std::string_view text) {
    for (TrackLevel level : {TrackLevel::Off, TrackLevel::Counts, TrackLevel::Stacks})
        if (text == to_string(level)) return level;
    return Error(EINVAL, "tracking level \"" + std::string(text) + "\" is not off, counts or stacks");
}

std::string_view to_string(EventKind kind) {
    switch (kind) {
        case EventKind::Loaded: return "loaded";
        case EventKind::Unloaded: return "unloaded";
        case EventKind::Get: return "get";
        case EventKind::Put: return "put";
        case EventKind::Leak: return "leak";
        case EventKind::UnmatchedPut: return "unmatched-put";
        case EventKind::Warning: return "warning";
    }
    return "?";
}

bool license_is_gpl_compatible(std::string_view license) {
    return license == "GPL" || license == "GPL v2" || license == "GPL and additional rights" ||
           license == "Dual BSD/GPL" || license == "Dual MIT/GPL" || license == "Dual MPL/GPL";
}

User* ModuleHandle::user() const { return module_.get(); }
std::string_view ModuleHandle::name() const { return module_ ? std::string_view(module_->name()) : ""; }
ModuleState ModuleHandle::state() const {
    return module_ ? module_->state.load(std::memory_order_acquire) : ModuleState::Gone;
}

std::string_view user_name(const User* user) { return user ? std::string_view(user->name()) : "(anonymous)"; }
UserKind user_kind(const User* user) { return user ? user->kind() : UserKind::Anonymous; }

struct Registry::Impl {
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
    std::string taints UMOD_GUARDED_BY(mutex);

    // Observers; events are delivered through it with no lock held.
    const std::shared_ptr<core::ObserverHub> hub = std::make_shared<core::ObserverHub>();

    // ---- helpers -------------------------------------------------------

    User& resolve_user(User* user) { return user ? *user : anonymous; }

    Module* find_locked(std::string_view name) const UMOD_REQUIRES(mutex) {
        for (const auto& m : modules)
            if (m->name() == name) return m.get();
        return nullptr;
    }

    // Requires no registry lock held (see core/events.h).
    void emit(const Event& event) UMOD_EXCLUDES(mutex) { hub->deliver(event); }
    bool get_put_observed() const { return hub->any_get_put(); }

    // Publishes `user`'s table with `use` added (or removed when `add` is
    // false); the old table goes to `garbage`.
    void republish_locked(User& user, Use* use, bool add, std::vector<std::shared_ptr<void>>& garbage)
        UMOD_REQUIRES(mutex) {
        auto table = std::make_shared<UseTable>();
        if (user.uses_owner) table->entries = user.uses_owner->entries;
        if (add) {
            table->entries.emplace_back(use->provider, use);
        } else {
            std::erase_if(table->entries, [&](const auto& e) { return e.second == use; });
        }
        user.uses.store(table.get(), std::memory_order_release);
        if (user.uses_owner) garbage.push_back(std::const_pointer_cast<UseTable>(user.uses_owner));
        user.uses_owner = std::move(table);
    }

    void unpublish_exports_locked(Module& mod, std::vector<std::shared_ptr<void>>& garbage) UMOD_REQUIRES(mutex) {
        generation.fetch_add(1, std::memory_order_seq_cst);
        for (const auto& e : mod.exports) {
            index.erase(e.name);
            if (!e.alias.empty()) index.erase(e.alias);
        }
        index.take_retired(garbage);
    }

    std::shared_ptr<Module> shared_from_registry(const Module& module) UMOD_REQUIRES(mutex) {
        for (const auto& m : modules)
            if (m.get() == &module) return m;
        return nullptr;
    }

    Use* find_use_locked(User& user, const Module* provider) UMOD_REQUIRES(mutex) {
        return user.uses_owner ? user.uses_owner->find(provider) : nullptr;
    }

    Use& make_use_locked(User& user, Module& provider, std::vector<std::shared_ptr<void>>& garbage)
        UMOD_REQUIRES(mutex) {
        auto use = std::make_shared<Use>(&user, &provider, provider.exports.size());
        use->recording.store(recording.load(std::memory_order_relaxed), std::memory_order_relaxed);
        user.owned_uses.push_back(use);
        provider.users_of_me.insert(provider.users_of_me.begin(), use.get());
        republish_locked(user, use.get(), true, garbage);
        return *use;
    }

    // Unlinks a pair from its user's table and its provider's list; the Use
    // itself goes to `garbage`.
    void drop_use_locked(Use& use, std::vector<std::shared_ptr<void>>& garbage) UMOD_REQUIRES(mutex) {
        generation.fetch_add(1, std::memory_order_seq_cst);
        User& user = *use.user;
        republish_locked(user, &use, false, garbage);
        std::erase(use.provider->users_of_me, &use);
        auto it = std::find_if(user.owned_uses.begin(), user.owned_uses.end(),
                               [&](const auto& p) { return p.get() == &use; });
        if (it != user.owned_uses.end()) {
            if (dynamic_count(use) != 0)
                zombies.push_back({std::move(*it), shared_from_registry(*use.provider),
                                   user.kind() == UserKind::Module
                                       ? shared_from_registry(static_cast<const Module&>(user))
                                       : nullptr});
            else
                garbage.push_back(std::move(*it));
            user.owned_uses.erase(it);
        }
    }

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
    PairLookup lookup_pair(std::string_view name, const User& user) const {
        ExportEntry* entry = index.find(name);
        if (entry == nullptr || entry->owner == nullptr) return {entry, nullptr};
        const UseTable* table = user.uses.load(std::memory_order_acquire);
        return {entry, table ? table->find(entry->owner) : nullptr};
    }

    // A reference as taken: its address and the counter raised (none for
    // the host's own exports).
    struct Acquired {
        void* address = nullptr;
        Use* use = nullptr;
        std::size_t slot = 0;         // the counter raised
        std::size_t symbol_slot = 0;  // the symbol's own (the off level raises the pair's)
    };
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

    // The load stages, in order (see load()).
    Expected<ModuleHandle> load(ModuleImage image);
    Status reserve(const std::shared_ptr<Module>& module, LoadTransaction& transaction);
    Expected<std::vector<const ExportEntry*>> resolve_imports_locked(Module& mod,
                                                                     const std::vector<std::string>& imports,
                                                                     support::MutexLock& lock)
        UMOD_REQUIRES(mutex);
    void link_static_uses_locked(Module& mod, const std::vector<const ExportEntry*>& targets,
                                 std::vector<ResolvedImport>& resolved) UMOD_REQUIRES(mutex);
    Status map(Module& mod, const std::vector<ResolvedImport>& resolved, LoadTransaction& transaction);
    Status init(Module& mod, LoadTransaction& transaction);
    void set_state(Module& mod, ModuleState state);
    // Publishes `entries` under their names and aliases, or none of them:
    // ENOEXEC naming the first name taken (by `publisher` itself or another).
    Status publish_exports_locked(std::span<ExportEntry> entries, std::string_view publisher) UMOD_REQUIRES(mutex);
    Expected<UnloadReport> unload(std::string_view name, UnloadOptions options);
    // unload() without its refusal: sets `refused` (and the raw stacks of its
    // holders, to be symbolized once the mutex is released) instead.
    Expected<UnloadReport> unload_or_refuse(std::string_view name, UnloadOptions options,
                                            std::optional<ModuleInUse>& refused,
                                            std::vector<std::vector<RawGroup>>& refused_stacks);
    std::vector<Leak> release_user_uses(Module& module);
    std::vector<Use*> unlink_user_uses_locked(Module& module, std::vector<std::shared_ptr<void>>& garbage)
        UMOD_REQUIRES(mutex);
    std::vector<Leak> leaks_of(Module& module, const std::vector<Use*>& held);
};

// ---------------------------------------------------------------------------
// References

// The hot path: an untyped get on an existing pair, nobody observing, no
// stacks. Anything else, or any doubt, takes get_reported().
Expected<void*> Registry::Impl::get(std::string_view name, std::string_view type, bool typed, User* who,
                                    const void* frame, Acquired& got) {
    TrackLevel track = level.load(std::memory_order_relaxed);
    if (!typed && track != TrackLevel::Stacks && !get_put_observed()) {
        rcu::ReadGuard read;
        auto [entry, use] = lookup_pair(name, resolve_user(who));
        if (entry != nullptr && entry->owner == nullptr) return const_cast<void*>(entry->address);
        if (use != nullptr) {
            std::size_t slot = slot_for_get(*use, entry->ordinal, track);
            if (raise_counter(*use, slot)) {
                got = {const_cast<void*>(entry->address), use, slot, entry->ordinal};
                return got.address;
            }
        }
    }
    return get_reported(name, type, typed, who, track, frame, got);
}

Expected<void*> Registry::Impl::get_reported(std::string_view name, std::string_view type, bool typed,
                                             User* who, TrackLevel track, const void* frame, Acquired& got) {
    User& user = resolve_user(who);
    std::string provider_name;  // filled only when someone observes gets
    {
        rcu::ReadGuard read;
        auto [entry, use] = lookup_pair(name, user);
        if (entry == nullptr || typed) goto slow;
        Module* provider = entry->owner;
        if (provider == nullptr) return const_cast<void*>(entry->address);
        if (use == nullptr) goto slow;
        std::size_t slot = slot_for_get(*use, entry->ordinal, track);
        if (!raise(*use, slot, capture_if_stacks(track, frame))) goto slow;
        got = {const_cast<void*>(entry->address), use, slot, entry->ordinal};
        if (!get_put_observed()) return got.address;
        provider_name = provider->name();
    }
    emit(Event{.kind = EventKind::Get, .user = user.name(), .provider = provider_name, .symbol = name});
    return got.address;
slow:
    return get_slow(name, type, typed, user, track, frame, got);
}

Status Registry::Impl::check_get_locked(const ExportEntry* entry, std::string_view name,
                                        std::string_view type, bool typed, User& user) {
    if (entry == nullptr || (entry->owner != nullptr &&
                             entry->owner->state.load() == ModuleState::Unformed))
        return Error::with<UnknownExport>(ENOENT, UnknownExport{std::string(name)});
    return check_binding(*entry, user, typed ? BindPurpose::TypedGet : BindPurpose::Get, type);
}

Expected<void*> Registry::Impl::get_slow(std::string_view name, std::string_view type, bool typed,
                                         User& user, TrackLevel track, const void* frame, Acquired& got) {
    std::vector<std::shared_ptr<void>> garbage;
    Module* provider = nullptr;
    std::string symbol;
    const core::StackRecord* stack = capture_if_stacks(track, frame);
    {
        support::MutexLock lock(mutex);
        const ExportEntry* entry = index.find(name);
        if (Status ok = check_get_locked(entry, name, type, typed, user); !ok) return ok.error();
        got.address = const_cast<void*>(entry->address);
        provider = entry->owner;
        if (provider == nullptr) return got.address;  // the host's own exports are not counted
        Use* use = find_use_locked(user, provider);
        if (use == nullptr) use = &make_use_locked(user, *provider, garbage);
        got.use = use;
        got.slot = slot_for_get(*use, entry->ordinal, track);
        got.symbol_slot = entry->ordinal;
        (void)raise(*use, got.slot, stack);  // Live: checked under the mutex
        symbol = entry->name;
    }
    collect(garbage);
    emit(Event{.kind = EventKind::Get, .user = user.name(), .provider = provider->name(),
               .symbol = symbol});
    return got.address;
}

Expected<Registry::Impl::Acquired> Registry::Impl::acquire_module(User& user, Module& provider,
                                                                const void* frame) {
    const core::StackRecord* stack = capture_if_stacks(level.load(std::memory_order_relaxed), frame);
    std::size_t slot = provider.exports.size();  // the "(module)" slot
    {
        rcu::ReadGuard read;
        const UseTable* table = user.uses.load(std::memory_order_acquire);
        Use* use = table ? table->find(&provider) : nullptr;
        if (use != nullptr && raise(*use, slot, stack)) return Acquired{nullptr, use, slot, slot};
    }
    std::vector<std::shared_ptr<void>> garbage;
    Acquired got;
    {
        support::MutexLock lock(mutex);
        ModuleState state = provider.state.load();
        if (state != ModuleState::Live)
            return Error::with<ProviderNotReady>(
                EBUSY, ProviderNotReady{user.name(), provider.name(), std::string(kModuleSlot),
                                        std::string(to_string(state))});
        Use* use = find_use_locked(user, &provider);
        if (use == nullptr) use = &make_use_locked(user, provider, garbage);
        (void)raise(*use, slot, stack);
        got = {nullptr, use, slot, slot};
    }
    collect(garbage);
    return got;
}

Status Registry::Impl::unmatched(User& user, std::string_view provider, std::string_view symbol,
                                 const PutEvidence& evidence) {
    UnmatchedPut report{user.name(), std::string(provider), std::string(symbol), {}, {}};
    report.put_stack = symbolize(evidence.put);
    for (const auto& release : evidence.releases)
        report.recent_releases.push_back({symbolize(release.acquired), symbolize(release.released)});
    Error error = Error::with<UnmatchedPut>(EINVAL, std::move(report));
    emit(Event{.kind = EventKind::UnmatchedPut, .user = user.name(), .provider = provider,
               .symbol = symbol, .error = &error, .text = error.message()});
    if (options.unmatched_put == UnmatchedPutPolicy::Abort) {
        std::fprintf(stderr, "umod: %s\n", error.message().c_str());
        std::abort();
    }
    return error;
}

// The hot path: a matched put, nobody observing, no stacks. Anything else
// takes release_reported().
Status Registry::Impl::release(User& user, const ReleaseTarget& target, const void* frame) {
    TrackLevel track = level.load(std::memory_order_relaxed);
    if (track != TrackLevel::Stacks && !get_put_observed()) {
        rcu::ReadGuard read;
        Module* provider = target.provider;
        std::size_t slot = target.slot;
        if (!resolve(target, provider, slot)) return {};  // the host's exports are not counted
        const UseTable* table = user.uses.load(std::memory_order_acquire);
        Use* use = provider != nullptr && table != nullptr ? table->find(provider) : nullptr;
        if (use != nullptr && slot < use->slots && lower(*use, slot, track, nullptr)) return {};
    }
    return release_reported(user, target, track, frame);
}

Status Registry::Impl::release_reported(User& user, const ReleaseTarget& target, TrackLevel track,
                                        const void* frame) {
    const core::StackRecord* stack = capture_if_stacks(track, frame);
    std::string provider_name;  // copied out of the read section when needed
    std::string symbol;         // the same; stays empty on the fast path
    bool matched = false;
    PutEvidence evidence{.put = stack, .releases = {}};
    {
        rcu::ReadGuard read;
        Module* provider = target.provider;
        std::size_t slot = target.slot;
        if (!resolve(target, provider, slot)) return {};  // the host's exports are not counted
        if (provider == nullptr) {
            symbol = target.symbol;
        } else {
            const UseTable* table = user.uses.load(std::memory_order_acquire);
            Use* use = table ? table->find(provider) : nullptr;
            matched = use != nullptr && slot < use->slots && lower(*use, slot, track, stack);
            if (matched && !get_put_observed()) return {};
            provider_name = provider->name();
            symbol = slot < provider->exports.size() ? provider->exports[slot].name : std::string(kModuleSlot);
            if (!matched && use != nullptr && stack != nullptr) {
                if (core::StackLedger* ledger = use->ledger.load(std::memory_order_acquire)) {
                    support::MutexLock lock(ledger->mutex);
                    for (std::size_t i = 0; i < ledger->filled; ++i) {
                        const auto& r = ledger->quarantine[(ledger->next + ledger->quarantine.size() - 1 - i) %
                                                           ledger->quarantine.size()];
                        if (r.slot == slot || (r.slot == use->untracked_slot() && slot != use->module_slot()))
                            evidence.releases.push_back(r);
                    }
                }
            }
        }
    }
    if (!matched) return unmatched(user, provider_name, symbol, evidence);
    emit(Event{.kind = EventKind::Put, .user = user.name(), .provider = provider_name, .symbol = symbol});
    return {};
}

// Where `use`'s references still held were taken: for each slot, its newest
// recorded acquisitions (as many as it counts), grouped by stack, and what
// its count has beyond them (taken while stacks were not recorded).
// Nothing below the stacks level.
std::vector<Registry::Impl::RawGroup> Registry::Impl::acquisitions_of(const Use& use) const {
    std::vector<RawGroup> groups;
    core::StackLedger* ledger = use.ledger.load(std::memory_order_acquire);
    if (ledger == nullptr || level.load(std::memory_order_relaxed) != TrackLevel::Stacks) return groups;
    support::MutexLock lock(ledger->mutex);
    for (std::size_t slot = 0; slot < use.slots; ++slot) {
        std::uint64_t count = use.per_symbol[slot].load(std::memory_order_relaxed);
        if (count == 0) continue;
        const auto& recorded = ledger->outstanding[slot];
        std::size_t taken = std::min<std::size_t>(recorded.size(), count);
        std::vector<RawGroup> of_slot;
        for (std::size_t i = recorded.size() - taken; i < recorded.size(); ++i) {
            auto it = std::find_if(of_slot.begin(), of_slot.end(),
                                   [&](const RawGroup& g) { return g.stack == recorded[i]; });
            if (it == of_slot.end())
                of_slot.push_back({std::string(slot_name(use, slot)), 1, recorded[i]});
            else
                ++it->count;
        }
        if (count > taken) of_slot.push_back({std::string(slot_name(use, slot)), count - taken, nullptr});
        groups.insert(groups.end(), of_slot.begin(), of_slot.end());
    }
    std::stable_sort(groups.begin(), groups.end(),
                     [](const RawGroup& a, const RawGroup& b) { return a.count > b.count; });
    return groups;
}

void Registry::Impl::attach_acquisitions(HolderCounts& holder, const std::vector<RawGroup>& raw) {
    for (const RawGroup& group : raw)
        holder.acquired.push_back({group.symbol, group.count, symbolize(group.stack)});
}

// ---------------------------------------------------------------------------
// Load

namespace {

// Undo steps of a load, each named, run in reverse unless committed (the
// kernel's goto ladder as a transaction).
class LoadTransaction {
public:
    LoadTransaction() = default;
    LoadTransaction(const LoadTransaction&) = delete;
    LoadTransaction& operator=(const LoadTransaction&) = delete;
    ~LoadTransaction() {
        if (committed_) return;
        for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) it->second();
    }
    void on_failure(std::string_view step, std::function<void()> undo) { undo_.emplace_back(step, std::move(undo)); }
    void commit() { committed_ = true; }

private:
    std::vector<std::pair<std::string_view, std::function<void()>>> undo_;
    bool committed_ = false;
};

// A module as its image describes it, not yet known to anyone.
std::shared_ptr<Module> form_module(ModuleImage& image) {
    auto module = std::make_shared<Module>(image.name);
    Module& mod = *module;
    for (const auto& [key, value] : image.modinfo) {
        if (key == "license" && mod.license.empty()) mod.license = value;
        if (key == "import_ns") mod.import_ns.push_back(value);
    }
    mod.gpl_compatible = license_is_gpl_compatible(mod.license);
    mod.modinfo = std::move(image.modinfo);
    mod.init = std::move(image.init);
    mod.exit = std::move(image.exit);
    mod.size = image.size;
    mod.backend = std::move(image.backend);
    mod.exports.reserve(image.exports.size());
    for (auto& spec : image.exports) {
        mod.exports.push_back(ExportEntry{std::move(spec.name), std::move(spec.alias), spec.address,
                                          &mod, spec.license, std::move(spec.ns),
                                          std::move(spec.type),
                                          static_cast<std::uint32_t>(mod.exports.size())});
    }
    return module;
}

}  // namespace

Status Registry::Impl::publish_exports_locked(std::span<ExportEntry> entries, std::string_view publisher) {
    std::vector<std::string_view> published;
    for (ExportEntry& e : entries) {
        for (std::string_view key : {std::string_view(e.name), std::string_view(e.alias)}) {
            if (key.empty()) continue;
            if (index.insert(key, &e)) {
                published.push_back(key);
                continue;
            }
            const ExportEntry* other = index.find(key);
            std::string owner = other && other->owner ? other->owner->name() : std::string(kCoreOwner);
            for (std::string_view done : published) index.erase(done);
            return Error::with<DuplicateExport>(ENOEXEC, DuplicateExport{std::string(publisher), std::string(key), owner});
        }
    }
    return {};
}

// Stage 1 (locked): reserve the name and the exports. The module is
// Unformed: lookups and links do not see its exports, but nobody else can
// take its name or their names while it waits for providers.
Status Registry::Impl::reserve(const std::shared_ptr<Module>& module, LoadTransaction& transaction) {
    Module& mod = *module;
    {
        support::MutexLock lock(mutex);
        if (find_locked(mod.name())) return Error::with<ModuleExists>(EEXIST, ModuleExists{mod.name()});
        if (Status published = publish_exports_locked(mod.exports, mod.name()); !published) return published;
        modules.insert(modules.begin(), module);
    }
    transaction.on_failure("unreserve name and exports", [this, &mod] {
        std::vector<std::shared_ptr<void>> garbage;
        std::shared_ptr<Module> keep;
        {
            support::MutexLock relock(mutex);
            unpublish_exports_locked(mod, garbage);
            auto it = std::find_if(modules.begin(), modules.end(), [&](const auto& m) { return m.get() == &mod; });
            if (it != modules.end()) {
                keep = *it;
                modules.erase(it);
            }
            mod.state.store(ModuleState::Gone);
        }
        state_changed.notify_all();
        collect(garbage);
    });
    return {};
}

// Stage 2 (locked, may wait): the export each import binds to, once every
// provider is Live, waiting (bounded) for those still coming. Every import
// is checked by check_binding, as a get is.
Expected<std::vector<const ExportEntry*>> Registry::Impl::resolve_imports_locked(
    Module& mod, const std::vector<std::string>& imports, support::MutexLock& lock) {
    auto deadline = std::chrono::steady_clock::now() + options.provider_wait;
    BindPurpose purpose = BindPurpose::Link;
    for (;;) {
        std::vector<const ExportEntry*> targets;
        UnknownSymbols missing;
        missing.module = mod.name();
        const ExportEntry* coming = nullptr;
        for (const auto& name : imports) {
            const ExportEntry* entry = index.find(name);
            if (entry == nullptr || (entry->owner && entry->owner->state.load() == ModuleState::Unformed)) {
                missing.symbols.push_back({name, {}});
                continue;
            }
            if (Status ok = check_binding(*entry, mod, purpose); !ok) return ok.error();
            if (entry->owner != nullptr && entry->owner->state.load() == ModuleState::Coming && coming == nullptr)
                coming = entry;
            targets.push_back(entry);
        }
        if (!missing.symbols.empty()) return Error::with<UnknownSymbols>(ENOENT, std::move(missing));
        if (coming == nullptr) return targets;
        if (state_changed.wait_until(lock, deadline) == std::cv_status::timeout &&
            std::chrono::steady_clock::now() >= deadline)
            purpose = BindPurpose::LinkNoWait;  // one last look: a provider still coming is EBUSY
        // Something changed: entries may be gone; resolve again.
    }
}

// Stage 3 (locked): one static use per distinct provider, and what each
// import resolved to for the backend.
void Registry::Impl::link_static_uses_locked(Module& mod, const std::vector<const ExportEntry*>& targets,
                                             std::vector<ResolvedImport>& resolved) {
    std::vector<std::shared_ptr<void>> garbage;  // fresh tables: nothing to retire yet that readers hold
    for (const ExportEntry* entry : targets) {
        resolved.push_back({entry->name, entry->address, owner_name(*entry)});
        Module* provider = entry->owner;
        if (provider == nullptr || find_use_locked(mod, provider) != nullptr) continue;
        Use& use = make_use_locked(mod, *provider, garbage);
        use.static_use = true;
        mod.depends.push_back(provider);
    }
    // The module is not visible as a user to anyone yet: its old tables
    // were never read.
    garbage.clear();
}

// Stage 4 (unlocked): map the code. Nothing of the module has run yet.
Status Registry::Impl::map(Module& mod, const std::vector<ResolvedImport>& resolved, LoadTransaction& transaction) {
    if (!mod.backend) return {};
    auto mapped = mod.backend->map(resolved, &mod);
    if (!mapped) return mapped.error();
    if (mapped->export_addresses.size() != mod.exports.size())
        return Error::with<MapFailed>(
            ENOEXEC, MapFailed{mod.name(), "backend returned the wrong number of export addresses"});
    transaction.on_failure("unmap", [&mod] { (void)mod.backend->unmap(); });
    {
        support::MutexLock lock(mutex);
        for (std::size_t i = 0; i < mod.exports.size(); ++i) mod.exports[i].address = mapped->export_addresses[i];
        mod.init = std::move(mapped->init);
        mod.exit = std::move(mapped->exit);
        mod.size = mapped->size;
        mod.base = mapped->base;
    }
    for (const auto& warning : mapped->warnings)
        emit(Event{.kind = EventKind::Warning, .module = mod.name(), .text = warning});
    return {};
}

// Stage 5: exports visible (gets still refused), init runs unlocked. A
// negative return fails the load; a positive one is a warning, as in the
// kernel ("suspiciously returned").
Status Registry::Impl::init(Module& mod, LoadTransaction& transaction) {
    set_state(mod, ModuleState::Coming);
    // Whatever init takes and does not give back is reported as leaks,
    // while its code is still mapped (this undo runs before "unmap").
    transaction.on_failure("release init's references", [this, &mod] {
        set_state(mod, ModuleState::Going);
        release_user_uses(mod);
    });
    if (!mod.init) return {};
    int rc = mod.init();
    if (rc < 0) return Error::with<InitFailed>(-rc, InitFailed{mod.name(), -rc});
    if (rc > 0) {
        std::string text = core::describe_suspicious_init(mod.name(), rc);
        emit(Event{.kind = EventKind::Warning, .module = mod.name(), .text = text});
    }
    return {};
}

void Registry::Impl::set_state(Module& mod, ModuleState state) {
    {
        support::MutexLock lock(mutex);
        mod.state.store(state, std::memory_order_release);
    }
    state_changed.notify_all();
}

Expected<ModuleHandle> Registry::Impl::load(ModuleImage image) {
    std::shared_ptr<Module> module = form_module(image);
    Module& mod = *module;
    LoadTransaction transaction;
    if (Status reserved = reserve(module, transaction); !reserved) return reserved.error();

    std::vector<ResolvedImport> resolved;
    {
        support::MutexLock lock(mutex);
        auto targets = resolve_imports_locked(mod, image.imports, lock);
        if (!targets) return targets.error();
        link_static_uses_locked(mod, *targets, resolved);
    }
    // Drops every pair the module is part of as a user.
    transaction.on_failure("unlink static uses", [this, &mod] { release_user_uses(mod); });

    if (Status mapped = map(mod, resolved, transaction); !mapped) return mapped.error();
    if (Status initialised = init(mod, transaction); !initialised) return initialised.error();

    // Stage 6: live.
    set_state(mod, ModuleState::Live);
    transaction.commit();
    std::string text = "loaded " + mod.name();
    emit(Event{.kind = EventKind::Loaded, .module = mod.name(), .text = text});
    return ModuleHandle(module);
}

// Drops every pair `module` is part of as a user. Static uses go silently;
// dynamic references still held are reported as leaks, then released.
std::vector<Leak> Registry::Impl::release_user_uses(Module& module) {
    std::vector<std::shared_ptr<void>> garbage;
    std::vector<Use*> held;
    {
        support::MutexLock lock(mutex);
        held = unlink_user_uses_locked(module, garbage);
    }
    // Wait for in-flight readers (e.g. another thread's put on these pairs).
    if (!garbage.empty()) rcu::synchronize();
    return leaks_of(module, held);
}

// Unlinks the pairs `module` is part of as a user; they stay alive in
// `garbage` for leaks_of(), which must run after an rcu::synchronize().
std::vector<Use*> Registry::Impl::unlink_user_uses_locked(Module& module,
                                                          std::vector<std::shared_ptr<void>>& garbage) {
    std::vector<Use*> held;
    for (const auto& use : module.owned_uses) held.push_back(use.get());
    for (Use* use : held) drop_use_locked(*use, garbage);
    module.depends.clear();
    return held;
}

std::vector<Leak> Registry::Impl::leaks_of(Module& module, const std::vector<Use*>& held) {
    std::vector<Leak> leaks;
    for (Use* use : held) {
        HolderCounts counts = holder_counts(*use);
        if (counts.dynamic > 0) {
            counts.static_uses = 0;
            // Symbolized now: the leaking module's code is still mapped.
            attach_acquisitions(counts, acquisitions_of(*use));
            leaks.push_back(Leak{module.name(), use->provider->name(), counts});
        }
        zero_counts(*use);
    }
    for (const Leak& leak : leaks) emit_leak(leak);
    return leaks;
}

// ---------------------------------------------------------------------------
// Unload

Expected<UnloadReport> Registry::Impl::unload(std::string_view name, UnloadOptions options_) {
    std::optional<ModuleInUse> refused;
    std::vector<std::vector<RawGroup>> refused_stacks;
    auto report = unload_or_refuse(name, options_, refused, refused_stacks);
    if (!refused) return report;
    // Symbolized outside the registry mutex (see core/symbolize.h).
    for (std::size_t i = 0; i < refused->holders.size(); ++i)
        attach_acquisitions(refused->holders[i], refused_stacks[i]);
    return Error::with<ModuleInUse>(EWOULDBLOCK, std::move(*refused));
}

Expected<UnloadReport> Registry::Impl::unload_or_refuse(std::string_view name, UnloadOptions options_,
                                                        std::optional<ModuleInUse>& refused,
                                                        std::vector<std::vector<RawGroup>>& refused_stacks) {
    std::shared_ptr<Module> module;
    UnloadReport report;
    std::vector<std::vector<RawGroup>> forced_stacks;
    {
        support::MutexLock lock(mutex);
        Module* mod = find_locked(name);
        if (mod == nullptr) return Error::with<NoSuchModule>(ENOENT, NoSuchModule{std::string(name)});
        for (const auto& m : modules)
            if (m.get() == mod) module = m;
        ModuleState state = mod->state.load();
        if (state != ModuleState::Live)
            return Error::with<ModuleBusy>(
                EBUSY, ModuleBusy{mod->name(), "it is " + std::string(to_string(state))});
        auto holders_of = [&](std::vector<std::vector<RawGroup>>& stacks) {
            std::vector<HolderCounts> out;
            for (const Use* use : mod->users_of_me) {
                if (!is_active(*use)) continue;
                out.push_back(holder_counts(*use));
                stacks.push_back(acquisitions_of(*use));
            }
            return out;
        };
        auto refuse = [&](bool waited) {
            refused = ModuleInUse{mod->name(), holders_of(refused_stacks), waited};
            return Error(EWOULDBLOCK, "refused");  // replaced by unload()
        };
        auto has_references = [&] {
            return std::any_of(mod->users_of_me.begin(), mod->users_of_me.end(),
                               [](const Use* u) { return dynamic_count(*u) != 0; });
        };
        bool has_static_users = std::any_of(mod->users_of_me.begin(), mod->users_of_me.end(),
                                            [](const Use* u) { return u->static_use; });
        if (has_static_users) return refuse(false);
        if (mod->init && !mod->exit && options_.mode != UnloadMode::Force)
            return Error::with<ModuleBusy>(
                EBUSY, ModuleBusy{mod->name(), "it has an init function but no exit function"});

        // Gets take no lock. Set Going, wait for every read section that may
        // have seen Live, then look: a get either raised its count before
        // (and is seen here: the unload fails) or saw Going and failed.
        auto deadline = std::chrono::steady_clock::now() + options_.wait;
        bool forced = options_.mode == UnloadMode::Force;
        for (;;) {
            if (!forced && !has_references()) {
                mod->state.store(ModuleState::Going, std::memory_order_seq_cst);
                if (mod->users_of_me.empty()) break;  // no pair: no lock-free reader can hold it
                lock.unlock();
                rcu::synchronize();
                lock.lock();
                if (!has_references()) break;
                mod->state.store(ModuleState::Live, std::memory_order_seq_cst);  // a get won
            }
            if (forced) {
                mod->state.store(ModuleState::Going, std::memory_order_seq_cst);
                lock.unlock();
                rcu::synchronize();
                lock.lock();
                report.forced = holders_of(forced_stacks);
                if (!report.forced.empty()) taints = "F";
                break;
            }
            if (options_.wait.count() == 0 || std::chrono::steady_clock::now() >= deadline)
                return refuse(options_.wait.count() != 0);
            // Puts take no lock, so poll: a short sleep per round.
            state_changed.wait_for(lock, std::chrono::milliseconds(1));
        }
    }
    state_changed.notify_all();
    Module& mod = *module;
    // The holders' code is still mapped: symbolize where they took their references.
    for (std::size_t i = 0; i < report.forced.size(); ++i) attach_acquisitions(report.forced[i], forced_stacks[i]);

    if (mod.exit) mod.exit();

    // Unpublish the exports, every pair with this module as provider, and
    // every pair it is part of as a user; one grace period for all of them.
    std::vector<std::shared_ptr<void>> garbage;
    std::vector<Use*> held;
    {
        support::MutexLock lock(mutex);
        unpublish_exports_locked(mod, garbage);
        std::vector<Use*> pairs = mod.users_of_me;
        for (Use* use : pairs) drop_use_locked(*use, garbage);
        held = unlink_user_uses_locked(mod, garbage);
    }
    if (!garbage.empty()) rcu::synchronize();
    report.leaks = leaks_of(mod, held);
    garbage.clear();
    if (mod.backend) report.unmap = mod.backend->unmap();
    {
        support::MutexLock lock(mutex);
        std::erase_if(modules, [&](const auto& m) { return m.get() == &mod; });
        mod.state.store(ModuleState::Gone, std::memory_order_release);
    }
    state_changed.notify_all();
    std::string text = "unloaded " + mod.name();
    if (!report.unmap.unmapped) {
        text += " (still mapped:";
        for (const auto& reason : report.unmap.reasons) text += " " + reason + ";";
        text += ")";
    }
    emit(Event{.kind = EventKind::Unloaded, .module = mod.name(), .text = text});
    return report;
}

// ---------------------------------------------------------------------------
// Registry

namespace {

// The level a registry starts at: the options', else $UMOD_TRACK's, else Counts.
TrackLevel initial_track_level(const RegistryOptions& options) {
    if (options.track) return *options.track;
    const char* text = std::getenv("UMOD_TRACK");
    if (text == nullptr || *text == '\0') return TrackLevel::Counts;
    auto level = parse_track_level(text);
    if (level) return *level;
    std::fprintf(stderr, "umod: %s; tracking counts\n", level.error().message().c_str());
    return TrackLevel::Counts;
}

}  // namespace

Registry::Registry(RegistryOptions options) : impl_(std::make_unique<Impl>(options)) {
    rcu::init();
    core::Symbolizer::preload();  // before any module: see its comment
    impl_->level.store(initial_track_level(options));
    impl_->update_recording();
}

Registry::~Registry() {
    // Users before providers: always unload a module nobody links to.
    for (;;) {
        std::string victim;
        {
            support::MutexLock lock(impl_->mutex);
            for (const auto& m : impl_->modules) {
                bool linked_to = std::any_of(m->users_of_me.begin(), m->users_of_me.end(),
                                             [](const Use* u) { return u->static_use; });
                if (!linked_to && m->state.load() == ModuleState::Live) {
                    victim = m->name();
                    break;
                }
            }
        }
        if (victim.empty()) break;
        auto report = impl_->unload(victim, UnloadOptions{.mode = UnloadMode::Force});
        if (!report) continue;
        // References others still held at teardown: leaks too.
        for (const HolderCounts& held : report->forced) {
            Leak leak{held.user, victim, held};
            impl_->emit_leak(leak);
        }
    }
    impl_->hub->close();
    // Pairs still counting references (RAII handles the host still holds)
    // outlive the registry; the rest go with it.
    support::MutexLock lock(impl_->mutex);
    for (auto& zombie : impl_->zombies) {
        std::uint64_t references = dynamic_count(*zombie.use);
        if (references != 0) core::orphan(std::move(zombie.use), references);
    }
}

Status Registry::add_core_export(ExportSpec spec) {
    support::MutexLock lock(impl_->mutex);
    auto entry = std::make_unique<ExportEntry>(ExportEntry{std::move(spec.name), std::move(spec.alias),
                                                           spec.address, nullptr, spec.license,
                                                           std::move(spec.ns), std::move(spec.type), 0});
    if (Status published = impl_->publish_exports_locked({entry.get(), 1}, kCoreOwner); !published) return published;
    impl_->core_exports.push_back(std::move(entry));
    return {};
}

Expected<ModuleHandle> Registry::load(ModuleImage image) { return impl_->load(std::move(image)); }

Expected<UnloadReport> Registry::unload(std::string_view name, UnloadOptions options) {
    return impl_->unload(name, options);
}

ModuleHandle Registry::find(std::string_view name) const {
    support::MutexLock lock(impl_->mutex);
    for (const auto& m : impl_->modules)
        if (m->name() == name) return ModuleHandle(m);
    return {};
}

bool Registry::exports(std::string_view name) const {
    rcu::ReadGuard read;
    const ExportEntry* entry = impl_->index.find(name);
    return entry != nullptr && (entry->owner == nullptr ||
                                entry->owner->state.load(std::memory_order_acquire) != ModuleState::Unformed);
}

std::vector<ModuleHandle> Registry::modules() const {
    support::MutexLock lock(impl_->mutex);
    std::vector<ModuleHandle> out;
    for (const auto& m : impl_->modules) out.emplace_back(m);
    return out;
}

User* Registry::holder(std::string_view name) {
    support::MutexLock lock(impl_->mutex);
    auto it = impl_->holders.find(std::string(name));
    if (it == impl_->holders.end())
        it = impl_->holders.emplace(std::string(name), std::make_unique<User>(std::string(name), UserKind::Holder))
                 .first;
    return it->second.get();
}

// Each entry point below records, at the stacks level, the stack above its
// own frame unless told where the caller's begins.
#define UMOD_CALLER_FRAME(given) ((given) != nullptr ? (given) : __builtin_frame_address(0))

Expected<void*> Registry::symbol_get(std::string_view name, User* user, const void* caller_frame) {
    Impl::Acquired got;
    return impl_->get(name, {}, false, user, UMOD_CALLER_FRAME(caller_frame), got);
}

Expected<void*> Registry::symbol_request(std::string_view name, User* user, const void* caller_frame) {
    const void* frame = UMOD_CALLER_FRAME(caller_frame);
    Impl::Acquired got;
    auto first = impl_->get(name, {}, false, user, frame, got);
    if (first || first.error().code() != ENOENT || exports(name)) return first;
    RequestHandler handler;
    {
        support::MutexLock lock(impl_->request_mutex);
        handler = impl_->request_handler;
    }
    if (!handler) return first;
    if (Status loaded = handler(name); !loaded) {
        std::string message = first.error().message() + "; requesting symbol:" + std::string(name) + " failed: " +
                              loaded.error().message();
        return Error(ENOENT, std::move(message));
    }
    return impl_->get(name, {}, false, user, frame, got);
}

void Registry::set_request_handler(RequestHandler handler) {
    support::MutexLock lock(impl_->request_mutex);
    impl_->request_handler = std::move(handler);
}

Expected<void*> Registry::symbol_get_typed(std::string_view name, std::string_view type, User* user,
                                           const void* caller_frame) {
    Impl::Acquired got;
    return impl_->get(name, type, true, user, UMOD_CALLER_FRAME(caller_frame), got);
}

Status Registry::symbol_put(std::string_view name, User* user, const void* caller_frame) {
    return impl_->release(impl_->resolve_user(user), {.symbol = name}, UMOD_CALLER_FRAME(caller_frame));
}

Status Registry::symbol_put_addr(const void* address, User* user, const void* caller_frame) {
    const void* frame = UMOD_CALLER_FRAME(caller_frame);
    User& who = impl_->resolve_user(user);
    Module* provider = nullptr;
    std::string symbol;
    {
        support::MutexLock lock(impl_->mutex);
        for (const auto& m : impl_->modules) {
            for (const auto& e : m->exports) {
                if (e.address == address) {
                    provider = m.get();
                    symbol = e.name;
                    break;
                }
            }
            if (provider) break;
        }
        if (provider == nullptr) {
            for (const auto& e : impl_->core_exports)
                if (e->address == address) return {};
        }
    }
    if (provider == nullptr)
        return Error::with<NotAnExportAddress>(EFAULT, NotAnExportAddress{address});
    // Resolved under the lock; the pair (if any) keeps the provider alive, and
    // an unload racing with this put makes it unmatched, as it should.
    return impl_->release(who, {.symbol = symbol}, frame);
}

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

Status Registry::try_module_get(Module* provider, User* user, const void* caller_frame) {
    auto got = impl_->acquire_module(impl_->resolve_user(user), *provider, UMOD_CALLER_FRAME(caller_frame));
    if (!got) return got.error();
    return {};
}

Status Registry::module_put(Module* provider, User* user, const void* caller_frame) {
    return impl_->release(impl_->resolve_user(user),
                          {.symbol = kModuleSlot, .provider = provider, .slot = provider->exports.size()},
                          UMOD_CALLER_FRAME(caller_frame));
}

Expected<HeldReference> Registry::acquire(std::string_view name, User* user, const void* caller_frame) {
    Impl::Acquired acquired;
    auto got = impl_->get(name, {}, false, user, UMOD_CALLER_FRAME(caller_frame), acquired);
    if (!got) return got.error();
    return impl_->held(acquired, *this);
}

Expected<HeldReference> Registry::acquire_typed(std::string_view name, std::string_view type, User* user,
                                                const void* caller_frame) {
    Impl::Acquired acquired;
    auto got = impl_->get(name, type, true, user, UMOD_CALLER_FRAME(caller_frame), acquired);
    if (!got) return got.error();
    return impl_->held(acquired, *this);
}

Expected<HeldReference> Registry::acquire_module(Module* provider, User* user, const void* caller_frame) {
    auto got = impl_->acquire_module(impl_->resolve_user(user), *provider, UMOD_CALLER_FRAME(caller_frame));
    if (!got) return got.error();
    return impl_->held(*got, *this);
}

// A held reference keeps its provider from unloading (short of force), so its
// pair is alive and needs no Live check; after a forced unload the pair is a
// zombie whose counts nobody reads.
void Registry::duplicate_recorded(const HeldReference& held) {
    Use& use = *static_cast<Use*>(held.pair);
    if (use.orphaned.load(std::memory_order_acquire)) return core::orphan_duplicate(use);  // the registry is gone
    Impl& impl = *held.registry->impl_;
    const core::StackRecord* stack =
        impl.capture_if_stacks(impl.level.load(std::memory_order_relaxed), __builtin_frame_address(0));
    if (stack != nullptr) {
        core::StackLedger& ledger = impl.ledger_of(use);
        support::MutexLock record(ledger.mutex);
        held.counter->fetch_add(1, std::memory_order_relaxed);
        ledger.outstanding[held.slot].push_back(stack);
    } else {
        held.counter->fetch_add(1, std::memory_order_relaxed);
    }
    if (impl.get_put_observed())
        impl.emit(Event{.kind = EventKind::Get, .user = use.user->name(), .provider = use.provider->name(),
                        .symbol = slot_name(use, held.symbol_slot)});
}

void Registry::release_recorded(const HeldReference& held) {
    Use& use = *static_cast<Use*>(held.pair);
    if (use.orphaned.load(std::memory_order_acquire)) return core::orphan_release(use);  // the registry is gone
    Impl& impl = *held.registry->impl_;
    const core::StackRecord* stack =
        impl.capture_if_stacks(impl.level.load(std::memory_order_relaxed), __builtin_frame_address(0));
    // Its own counter first, then the one a put at another level would have
    // used instead; neither is lowered below zero (after a forced unload
    // both may be).
    std::size_t other = held.slot == use.untracked_slot() ? held.symbol_slot
                        : held.slot == use.module_slot()  ? held.slot
                                                          : use.untracked_slot();
    bool released = impl.lower_either(use, held.slot, other, stack);
    if (released && impl.get_put_observed())
        impl.emit(Event{.kind = EventKind::Put, .user = use.user->name(), .provider = use.provider->name(),
                        .symbol = slot_name(use, held.symbol_slot)});
}

void Registry::set_tracking(TrackLevel next) {
    {
        support::MutexLock lock(impl_->mutex);
        TrackLevel previous = impl_->level.exchange(next);
        if (previous == TrackLevel::Stacks && next != TrackLevel::Stacks) {
            // Puts below the stacks level do not keep the records: drop them
            // now rather than report stale ones later. Counts stay.
            auto forget = [](User& user) {
                for (const auto& use : user.owned_uses)
                    if (core::StackLedger* ledger = use->ledger.load(std::memory_order_acquire)) {
                        support::MutexLock record(ledger->mutex);
                        for (auto& slot : ledger->outstanding) slot.clear();
                    }
            };
            for (const auto& m : impl_->modules) forget(*m);
            for (const auto& [name, holder] : impl_->holders) forget(*holder);
            forget(impl_->anonymous);
        }
    }
    impl_->update_recording();
}

TrackLevel Registry::tracking() const { return impl_->level.load(std::memory_order_relaxed); }

Expected<std::vector<HolderCounts>> Registry::holders(std::string_view name) const {
    std::vector<HolderCounts> out;
    std::vector<std::vector<Impl::RawGroup>> stacks;
    {
        support::MutexLock lock(impl_->mutex);
        Module* mod = impl_->find_locked(name);
        if (mod == nullptr) return Error::with<NoSuchModule>(ENOENT, NoSuchModule{std::string(name)});
        for (const Use* use : mod->users_of_me) {
            if (!is_active(*use)) continue;
            out.push_back(holder_counts(*use));
            stacks.push_back(impl_->acquisitions_of(*use));
        }
    }
    for (std::size_t i = 0; i < out.size(); ++i) impl_->attach_acquisitions(out[i], stacks[i]);
    return out;
}

RegistrySnapshot Registry::snapshot() const {
    support::MutexLock lock(impl_->mutex);
    RegistrySnapshot snap;
    snap.taints = impl_->taints;
    for (const auto& [name, holder] : impl_->holders) snap.holders.push_back(name);
    std::sort(snap.holders.begin(), snap.holders.end());
    for (const auto& m : impl_->modules) {
        ModuleSnapshot s;
        s.name = m->name();
        s.state = m->state.load();
        s.size = m->size;
        s.address = m->base;
        // As the kernel shows it: references beyond the base, -1 while unloading.
        s.refcount = s.state == ModuleState::Going ? -1 : 0;
        s.permanent = m->init && !m->exit;
        s.license = m->license;
        for (const Use* use : m->users_of_me) {
            if (use->static_use) s.static_users.push_back(use->user->name());
            if (is_active(*use)) {
                s.holders.push_back(holder_counts(*use));
                if (s.state != ModuleState::Going) ++s.refcount;
            }
        }
        for (const Module* dep : m->depends) s.depends.push_back(dep->name());
        for (const auto& e : m->exports) s.exports.push_back({e.name, e.license, e.ns});
        snap.modules.push_back(std::move(s));
    }
    return snap;
}

void Registry::subscribe(Observer& observer, ObserveGetPut get_put) {
    impl_->hub->subscribe(observer, get_put);
    impl_->update_recording();
}

void Registry::unsubscribe(Observer& observer) {
    impl_->hub->unsubscribe(observer);
    impl_->update_recording();
}

}  // namespace umod
