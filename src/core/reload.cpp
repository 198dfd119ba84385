// Reload as one transaction: the old set unloaded top-down (each state saved
// before its exit), the new set loaded bottom-up (each state restored before
// its init); on any failure everything new is unloaded again and the old set
// loaded again from its kept bytes, in its old places in the module list.
// Module code and observers run with no registry lock held.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/reload_plan.h"
#include "support/debug_log.h"

namespace umod {

namespace core {

namespace {

// A state saved by an old version, for its successor (or, on a rollback, for
// the old version loaded again).
struct SavedState {
    std::string module;
    std::vector<std::byte> bytes;
    std::uint64_t version = 0;
};

std::vector<std::string> module_order(Registry::Impl& impl) {
    support::MutexLock lock(impl.mutex);
    std::vector<std::string> names;
    for (const auto& m : impl.modules) names.push_back(m->name());
    return names;
}

// Puts the modules named in `before` back in that order (newest first),
// after any module they did not name (loaded meanwhile by someone else).
void restore_order(Registry::Impl& impl, const std::vector<std::string>& before) {
    support::MutexLock lock(impl.mutex);
    std::vector<std::shared_ptr<Module>> ordered;
    for (const auto& m : impl.modules)
        if (std::find(before.begin(), before.end(), m->name()) == before.end()) ordered.push_back(m);
    for (const auto& name : before)
        if (const std::shared_ptr<Module>* m = impl.find_shared_locked(name)) ordered.push_back(*m);
    if (ordered.size() == impl.modules.size()) impl.modules = std::move(ordered);
}

class ReloadTransaction {
public:
    ReloadTransaction(Registry& registry, Registry::Impl& impl, ReloadSource& source, ReloadWork work,
                      ReloadOptions options)
        : registry_(registry), impl_(impl), source_(source), work_(std::move(work)), options_(options) {
        report_.plan = work_.plan;
    }

    Expected<ReloadReport> run() {
        order_before_ = module_order(impl_);
        announce(EventKind::ReloadStarted, started_text());
        if (unload_old() && load_new()) {
            announce(EventKind::ReloadCommitted, committed_text());
            return std::move(report_);
        }
        std::vector<std::string> problems = roll_back();
        Error error = Error::with<ReloadFailed>(
            cause_ ? cause_->code() : EIO,
            ReloadFailed{work_.plan.module, step_, cause_ ? cause_->message() : "unknown", std::move(problems)});
        announce(EventKind::ReloadRolledBack, error.message());
        return error;
    }

private:
    // The old set, top-down. False once a step failed (step_, cause_ say which).
    bool unload_old() {
        for (ReloadMember& member : work_.members) {
            const std::string name = member.old->name();
            log("unload " + name);
            auto plan = impl_.plan_unload(name, UnloadOptions{UnloadMode::Normal, options_.wait});
            if (!plan) return fail("unload " + name, plan.error());
            if (member.state) {
                // Before its exit, while the module is Going: no new reference reaches it.
                log("save state of " + name);
                auto bytes = source_.save_state(*member.old);
                if (!bytes) {
                    impl_.set_state(*member.old, ModuleState::Live);
                    return fail("save state of " + name, bytes.error());
                }
                saved_.push_back({name, std::move(*bytes), member.state->version});
            }
            UnloadReport done = impl_.carry_out(std::move(*plan));
            report_.replaced.push_back({name, std::move(done.unmap)});
            for (auto& leak : done.leaks) report_.leaks.push_back(std::move(leak));
            ++unloaded_;
        }
        return true;
    }

    // The new set, bottom-up: the new file first, the dependents from their kept bytes.
    bool load_new() {
        for (std::size_t i = work_.members.size(); i-- > 0;) {
            ReloadMember& member = work_.members[i];
            const std::string name = member.old->name();
            std::string restore_failed;
            log("load " + name + (i + 1 == work_.members.size() ? " (new file)" : " (from its kept bytes)"));
            auto loaded = impl_.load(std::move(member.next.image), restorer(name, restore_failed));
            if (!loaded) {
                std::string step = !restore_failed.empty() ? restore_failed
                                   : i + 1 == work_.members.size() ? "load " + name + " (new file)"
                                                                   : "load " + name + " (from its kept bytes)";
                return fail(step, member.next.explain(loaded.error()));
            }
            loaded_.push_back(name);
        }
        return true;
    }

    // Everything new unloaded, newest first; the old set loaded again from
    // its kept bytes, oldest first, states restored. What could not be done.
    std::vector<std::string> roll_back() {
        std::vector<std::string> problems;
        for (auto it = loaded_.rbegin(); it != loaded_.rend(); ++it) {
            log("roll back: unload the new " + *it);
            // A reference taken on the new version meanwhile is waited for, as long as a load waits for a provider.
            auto gone = impl_.unload(*it, UnloadOptions{UnloadMode::Normal, impl_.options.provider_wait});
            if (!gone)
                problems.push_back("the new " + *it + " could not be unloaded: " + gone.error().message());
            else if (!gone->unmap.unmapped)
                problems.push_back("the new " + *it + " stays mapped: " + fmt::format("{}", fmt::join(gone->unmap.reasons, ", ")));
        }
        for (std::size_t i = unloaded_; i-- > 0;) {
            ReloadMember& member = work_.members[i];
            const std::string name = member.old->name();
            std::string restore_failed;
            log("roll back: load " + name + " again from its kept bytes");
            // Made now: the old version's copy, unmapped, is reused without a write.
            auto image = source_.from_kept(registry_, *member.old, member.params);
            if (!image) {
                problems.push_back(name + " could not be loaded again: " + image.error().message());
                continue;
            }
            auto again = impl_.load(std::move(image->image), restorer(name, restore_failed));
            if (!again)
                problems.push_back(fmt::format("{} could not be loaded again{}: {}", name,
                                               restore_failed.empty() ? "" : " (" + restore_failed + ")",
                                               image->explain(again.error()).message()));
        }
        restore_order(impl_, order_before_);
        return problems;
    }

    // Restores `module`'s saved state before its init, if one was saved.
    Registry::Impl::BeforeInit restorer(const std::string& module, std::string& failed) {
        auto it = std::find_if(saved_.begin(), saved_.end(), [&](const SavedState& s) { return s.module == module; });
        if (it == saved_.end()) return {};
        return [this, state = &*it, &failed](Module& mod) -> Status {
            log("restore state of " + mod.name());
            Status restored = source_.restore_state(mod, state->bytes, state->version);
            if (!restored) failed = "restore state of " + mod.name();
            return restored;
        };
    }

    // Each step as it starts, in the debug log ("prov: reload: unload ext4").
    void log(const std::string& step) const {
        if (support::debug_enabled()) support::debug(work_.plan.module + ": reload: " + step);
    }

    bool fail(std::string step, Error cause) {
        step_ = std::move(step);
        cause_ = std::move(cause);
        return false;
    }

    void announce(EventKind kind, const std::string& text) {
        impl_.emit(Event{.kind = kind, .module = work_.plan.module, .text = text, .plan = &report_.plan});
    }

    std::string started_text() const {
        return fmt::format("reload of {} started: unload {}; load {}", work_.plan.module,
                           fmt::join(work_.plan.unload_order, ", "), fmt::join(work_.plan.load_order, ", "));
    }
    std::string committed_text() const {
        std::string text = fmt::format("reloaded {} from {}", work_.plan.module, work_.plan.file);
        for (const auto& r : report_.replaced)
            if (!r.unmap.unmapped)
                text += fmt::format(" (old {} still mapped: {})", r.module, fmt::join(r.unmap.reasons, ", "));
        return text;
    }

    Registry& registry_;
    Registry::Impl& impl_;
    ReloadSource& source_;
    ReloadWork work_;
    const ReloadOptions options_;
    ReloadReport report_;
    std::vector<std::string> order_before_;
    std::vector<SavedState> saved_;
    std::size_t unloaded_ = 0;         // members unloaded, in unload order
    std::vector<std::string> loaded_;  // new modules loaded, in load order
    std::string step_;
    std::optional<Error> cause_;
};

}  // namespace

Expected<ReloadReport> carry_out_reload(Registry& registry, Registry::Impl& impl, ReloadWork work,
                                        ReloadOptions options) {
    return ReloadTransaction(registry, impl, *reload_source(), std::move(work), options).run();
}

}  // namespace core

Expected<ReloadPlan> Registry::plan_reload(std::string_view name, const std::string& new_file,
                                           std::span<const std::string> params, ReloadOptions options) {
    auto work = core::plan_reload(*this, *impl_, name, new_file, params, options);
    if (!work) return work.error();
    return std::move(work->plan);
}

Expected<ReloadReport> Registry::reload(std::string_view name, const std::string& new_file,
                                        std::span<const std::string> params, ReloadOptions options) {
    auto work = core::plan_reload(*this, *impl_, name, new_file, params, options);
    if (!work) return work.error();
    return core::carry_out_reload(*this, *impl_, std::move(*work), options);
}

}  // namespace umod
