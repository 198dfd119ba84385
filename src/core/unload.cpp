// Unloading in two parts: a plan (or the error that refuses it), decided
// under the registry mutex; then the plan carried out: exit, unlink, report
// leaks, unmap, remove.
#include "core/registry_impl.h"

namespace umod {

namespace {

bool referenced(const Module& mod) {
    return std::any_of(mod.users_of_me.begin(), mod.users_of_me.end(),
                       [](const Use* u) { return dynamic_count(*u) != 0; });
}

// What the locked part of plan_unload found: go (the module is then Going),
// or refuse, naming every holder.
struct Verdict {
    enum class Kind : std::uint8_t { Go, Refuse } kind;
    std::shared_ptr<Module> module;
    Registry::Impl::CollectedHolders holders;  // Go: references others hold (forced); Refuse: every holder
    bool waited = false;                       // Refuse: after waiting for references to drain
};

// The text of the Unloaded event.
std::string unloaded_text(const Module& mod, const UnmapReport& unmap) {
    std::string text = "unloaded " + mod.name();
    if (unmap.unmapped) return text;
    text += " (still mapped:";
    for (const auto& reason : unmap.reasons) text += " " + reason + ";";
    return text + ")";
}

// Waits for a grace period with the registry mutex released: it is never
// held across rcu::synchronize() (readers' slow paths may be waiting for it).
void synchronize_unlocked(Registry::Impl& impl) UMOD_REQUIRES(impl.mutex) {
    impl.mutex.unlock();
    rcu::synchronize();
    impl.mutex.lock();
}

// Gets take no lock, so an unload sets Going, waits for every read section
// that may have seen Live, and only then looks at the counters: a get either
// raised its count before (and is seen: the module stays Live) or saw Going
// and failed. Polls (puts take no lock either) until `wait` has passed.
// True: no reference is held and the module is Going; false: still
// referenced, and Live.
bool go_once_unreferenced_locked(Registry::Impl& impl, Module& mod, std::chrono::milliseconds wait,
                                 support::MutexLock& lock) UMOD_REQUIRES(impl.mutex) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
        if (!referenced(mod)) {
            mod.state.store(ModuleState::Going, std::memory_order_seq_cst);
            if (mod.users_of_me.empty()) return true;  // no pair: no lock-free reader can hold it
            synchronize_unlocked(impl);
            if (!referenced(mod)) return true;
            mod.state.store(ModuleState::Live, std::memory_order_seq_cst);  // a get won
        }
        if (wait.count() == 0 || std::chrono::steady_clock::now() >= deadline) return false;
        impl.state_changed.wait_for(lock, std::chrono::milliseconds(1));
    }
}

// Sets Going whatever references are held, and waits out the read sections
// that may have seen Live: the references are then final.
void go_despite_references_locked(Registry::Impl& impl, Module& mod) UMOD_REQUIRES(impl.mutex) {
    mod.state.store(ModuleState::Going, std::memory_order_seq_cst);
    synchronize_unlocked(impl);
}

// The locked part of plan_unload: ENOENT unknown; EBUSY not Live, or
// permanent (init without exit) unless forced; refused while another module
// links to it, or (unless forced) while references are held after `wait`.
Expected<Verdict> decide_unload_locked(Registry::Impl& impl, std::string_view name, UnloadOptions options,
                                       support::MutexLock& lock) UMOD_REQUIRES(impl.mutex) {
    const std::shared_ptr<Module>* found = impl.find_shared_locked(name);
    if (found == nullptr) return Error::with<NoSuchModule>(ENOENT, NoSuchModule{std::string(name)});
    std::shared_ptr<Module> module = *found;
    Module& mod = *module;
    ModuleState state = mod.state.load();
    if (state != ModuleState::Live)
        return Error::with<ModuleBusy>(EBUSY, ModuleBusy{mod.name(), "it is " + std::string(to_string(state))});
    if (linked_to(mod)) return Verdict{Verdict::Kind::Refuse, module, impl.holders_locked(mod), false};
    bool forced = options.mode == UnloadMode::Force;
    if (mod.init && !mod.exit && !forced)
        return Error::with<ModuleBusy>(EBUSY, ModuleBusy{mod.name(), "it has an init function but no exit function"});
    if (forced) {
        go_despite_references_locked(impl, mod);
        return Verdict{Verdict::Kind::Go, module, impl.holders_locked(mod), false};
    }
    if (go_once_unreferenced_locked(impl, mod, options.wait, lock))
        return Verdict{Verdict::Kind::Go, module, {}, false};
    return Verdict{Verdict::Kind::Refuse, module, impl.holders_locked(mod), options.wait.count() != 0};
}

}  // namespace

Expected<UnloadPlan> Registry::Impl::plan_unload(std::string_view name, UnloadOptions how) {
    Expected<Verdict> verdict = [&]() -> Expected<Verdict> {
        support::MutexLock lock(mutex);
        return decide_unload_locked(*this, name, how, lock);
    }();
    if (!verdict) return verdict.error();
    // Symbolized with no lock held, while the holders' code is still mapped.
    std::vector<HolderCounts> holding = symbolized(std::move(verdict->holders));
    if (verdict->kind == Verdict::Kind::Refuse)
        return Error::with<ModuleInUse>(EWOULDBLOCK,
                                        ModuleInUse{verdict->module->name(), std::move(holding), verdict->waited});
    state_changed.notify_all();
    bool tainting = !holding.empty();
    return UnloadPlan{std::move(verdict->module), std::move(holding), tainting};
}

UnloadReport Registry::Impl::carry_out(UnloadPlan plan) {
    Module& mod = *plan.module;
    UnloadReport report;
    report.forced = std::move(plan.forced);
    if (plan.exit()) plan.exit()();

    // Unpublish the exports, every pair with this module as provider, and
    // every pair it is part of as a user; one grace period for all of them.
    std::vector<std::shared_ptr<void>> garbage;
    std::vector<Use*> held;
    {
        support::MutexLock lock(mutex);
        if (plan.taints) add_taint_locked('F');
        unpublish_exports_locked(mod, garbage);
        std::vector<Use*> pairs = mod.users_of_me;
        for (Use* use : pairs) drop_use_locked(*use, garbage);
        held = unlink_user_uses_locked(mod, garbage);
    }
    if (!garbage.empty()) rcu::synchronize();
    report.leaks = leaks_of(mod, held);  // before the unmap: the leaking code is still mapped
    garbage.clear();
    if (mod.backend) report.unmap = mod.backend->unmap();
    {
        support::MutexLock lock(mutex);
        (void)remove_module_locked(mod);  // `plan` still holds it
        mod.state.store(ModuleState::Gone, std::memory_order_release);
    }
    state_changed.notify_all();
    std::string text = unloaded_text(mod, report.unmap);
    emit(Event{.kind = EventKind::Unloaded, .module = mod.name(), .text = text});
    return report;
}

Expected<UnloadReport> Registry::Impl::unload(std::string_view name, UnloadOptions how) {
    Expected<UnloadPlan> plan = plan_unload(name, how);
    if (!plan) return plan.error();
    return carry_out(std::move(*plan));
}

}  // namespace umod
