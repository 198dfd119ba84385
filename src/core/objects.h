// The registry's objects: users, modules, exports and uses. Internal to
// src/core; the public API sees Module and User only as opaque pointers and
// handles.
//
// Lifetimes: a Module is owned by the registry (shared with client handles)
// and never moves; its exports live inside it. A Use (one (user, provider)
// pair) is owned by its user and reachable lock-free through the user's
// RCU-published UseTable; it is freed only after an rcu::synchronize() that
// follows its removal from every table.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include <umod/umod.h>

#include "core/stacks.h"
#include "support/mutex.h"

namespace umod::core {

struct Use;

// Where a pair's references were taken and released, at the stacks level.
// Its mutex guards every member and, at that level, is held across each count
// change of the pair together with its record, so records and counts agree.
// A leaf lock: taken under the registry mutex, never the other way round.
struct StackLedger {
    StackLedger(std::size_t slots, std::size_t quarantine_size)
        : outstanding(slots), quarantine(quarantine_size) {}

    struct Release {
        std::size_t slot = 0;
        const StackRecord* acquired = nullptr;  // null: the get was not recorded
        const StackRecord* released = nullptr;
    };

    support::Mutex mutex;
    // Acquisitions not yet released, per slot, oldest first. A put removes
    // the newest of its slot.
    std::vector<std::vector<const StackRecord*>> outstanding UMOD_GUARDED_BY(mutex);
    // The last releases, a ring: `next` is where the next one goes.
    std::vector<Release> quarantine UMOD_GUARDED_BY(mutex);
    std::size_t next UMOD_GUARDED_BY(mutex) = 0;
    std::size_t filled UMOD_GUARDED_BY(mutex) = 0;

    void remember(const Release& release) UMOD_REQUIRES(mutex) {
        if (quarantine.empty()) return;
        quarantine[next] = release;
        next = (next + 1) % quarantine.size();
        filled = std::min(filled + 1, quarantine.size());
    }
};

// A user's pairs, keyed by provider. Immutable once published.
struct UseTable {
    std::vector<std::pair<const Module*, Use*>> entries;

    Use* find(const Module* provider) const {
        for (const auto& [p, use] : entries)
            if (p == provider) return use;
        return nullptr;
    }
};

struct ExportEntry {
    std::string name;
    std::string alias;
    const void* address = nullptr;  // written before the owner becomes Coming
    Module* owner = nullptr;        // nullptr: the host's core table
    ExportLicense license = ExportLicense::Any;
    std::string ns;
    std::string type;
    std::uint32_t ordinal = 0;      // index into the owner's exports

    // The keys the export index finds it by: the name, then the alias (empty
    // when it has none).
    std::array<std::string_view, 2> keys() const { return {name, alias}; }
};

// One (user, provider) pair: the seed's `module_use`, with the static use kept
// apart from the dynamic references.
struct alignas(64) Use {
    Use(User* u, Module* p, std::size_t exports)
        : user(u), provider(p), slots(exports + 2), per_symbol(allocate_counters(slots)) {}
    ~Use() { delete ledger.load(std::memory_order_acquire); }
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;

    User* const user;
    Module* const provider;
    bool static_use = false;  // guarded by the registry mutex
    const std::size_t slots;  // provider's exports + 2
    // Dynamic references per provider export ordinal, then try_module_get
    // references ("(module)"), then references taken at the off tracking
    // level, attributed to the pair only ("(untracked)"). The pair's dynamic
    // count is their sum; a pair with no static use and no references is
    // dormant and stays in the tables for reuse.
    struct FreeCounters {
        void operator()(std::atomic<std::uint64_t>* p) const { ::operator delete(p, std::align_val_t{64}); }
    };
    const std::unique_ptr<std::atomic<std::uint64_t>[], FreeCounters> per_symbol;
    // Created by the first reference recorded at the stacks level; owned.
    std::atomic<StackLedger*> ledger{nullptr};
    // The registry's "record each reference" switch, copied here (under the
    // registry mutex) so that the RAII handles counting on this pair read
    // only memory the pair owns: a pair outlives its registry while handles
    // on it remain (see orphan()).
    std::atomic<bool> recording{false};
    // Set when the registry is destroyed with references on this pair still
    // counted: the pair then belongs to them, and `orphan_refs` counts them.
    std::atomic<bool> orphaned{false};
    std::atomic<std::uint64_t> orphan_refs{0};

    std::size_t module_slot() const { return slots - 2; }
    std::size_t untracked_slot() const { return slots - 1; }

private:
    // Counters on cache lines of their own: pairs used by different threads
    // never share a line.
    static std::atomic<std::uint64_t>* allocate_counters(std::size_t n) {
        std::size_t bytes = (n * sizeof(std::atomic<std::uint64_t>) + 63) / 64 * 64;
        auto* counters = static_cast<std::atomic<std::uint64_t>*>(::operator new(bytes, std::align_val_t{64}));
        for (std::size_t i = 0; i < n; ++i) new (&counters[i]) std::atomic<std::uint64_t>(0);
        return counters;
    }
};

// A pair whose registry is gone but whose references are still counted:
// kept (reachable, for leak checkers) until the last of them is released.
// `references` is how many that is.
void orphan(std::shared_ptr<Use> use, std::uint64_t references);
// An RAII handle on an orphaned pair copied (one more reference) or released.
void orphan_duplicate(Use& use);
void orphan_release(Use& use);

}  // namespace umod::core

namespace umod {

class User {
public:
    User(std::string name, UserKind kind) : name_(std::move(name)), kind_(kind) {}
    virtual ~User() = default;
    User(const User&) = delete;
    User& operator=(const User&) = delete;

    const std::string& name() const { return name_; }
    UserKind kind() const { return kind_; }

    // The pairs this user is part of, published for lock-free readers;
    // replaced (never changed in place) under the registry mutex.
    std::atomic<const core::UseTable*> uses{nullptr};
    // Owns the published table and every Use in it; guarded by the registry mutex.
    std::shared_ptr<const core::UseTable> uses_owner;
    std::vector<std::shared_ptr<core::Use>> owned_uses;

private:
    const std::string name_;
    const UserKind kind_;
};

class Module final : public User {
public:
    explicit Module(std::string name) : User(std::move(name), UserKind::Module) {}

    // Changed under the registry mutex; read lock-free. A reference taken on
    // the hot path counts only if the state was Live *after* the count was
    // raised (see Registry::Impl::get).
    std::atomic<ModuleState> state{ModuleState::Unformed};

    // Fixed once the module is formed (under the registry mutex).
    std::string license;
    bool gpl_compatible = false;
    std::vector<std::string> import_ns;
    ModInfo modinfo;
    std::vector<core::ExportEntry> exports;  // never resized after formation
    std::function<int()> init;
    std::function<void()> exit;
    std::unique_ptr<ModuleBackend> backend;
    std::size_t size = 0;
    std::uintptr_t base = 0;
    std::string taints;  // fixed at formation ("E": loaded without a valid signature)

    // Guarded by the registry mutex.
    std::vector<core::Use*> users_of_me;  // pairs with this module as provider, newest first
    std::vector<Module*> depends;         // providers it links to, in link order
};

}  // namespace umod
