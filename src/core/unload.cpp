// Unloading: refuse while used (listing every holder), or go: exit, unlink,
// report leaks, unmap.
#include "core/registry_impl.h"

#include <optional>

namespace umod {

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
        const std::shared_ptr<Module>* found = find_shared_locked(name);
        if (found == nullptr) return Error::with<NoSuchModule>(ENOENT, NoSuchModule{std::string(name)});
        module = *found;
        Module* mod = module.get();
        ModuleState state = mod->state.load();
        if (state != ModuleState::Live)
            return Error::with<ModuleBusy>(
                EBUSY, ModuleBusy{mod->name(), "it is " + std::string(to_string(state))});
        auto refuse = [&](bool waited) UMOD_REQUIRES(mutex) {
            refused = ModuleInUse{mod->name(), holders_locked(*mod, refused_stacks), waited};
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
                report.forced = holders_locked(*mod, forced_stacks);
                if (!report.forced.empty()) add_taint_locked('F');
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

}  // namespace umod
