// plan_reload: which modules a reload replaces, in which order, and
// everything that blocks it, decided from the registry and the files before
// any new code runs.
#include "core/reload_plan.h"

#include <charconv>

#include <fmt/format.h>

namespace umod {

namespace core {

namespace {

ReloadSource* installed_source = nullptr;

bool contains(const std::vector<Module*>& set, const User* user) {
    return std::find(set.begin(), set.end(), user) != set.end();
}

// The reloaded set as the registry holds it now.
struct Survey {
    std::vector<std::shared_ptr<Module>> members;  // unload order: newest first, the replaced module last
    std::vector<bool> links_target;                // parallel: links to the replaced module
    // Per member, the references held on it from outside the set.
    std::vector<Registry::Impl::CollectedHolders> outside;
    bool held() const {
        return std::any_of(outside.begin(), outside.end(), [](const auto& c) { return !c.counts.empty(); });
    }
};

// The module and its static dependents, transitively, each Live.
Expected<Survey> survey_locked(Registry::Impl& impl, std::string_view name) UMOD_REQUIRES(impl.mutex) {
    Module* target = impl.find_locked(name);
    if (target == nullptr) return Error::with<NoSuchModule>(ENOENT, NoSuchModule{std::string(name)});
    std::vector<Module*> set{target};
    for (std::size_t i = 0; i < set.size(); ++i)
        for (const Use* use : set[i]->users_of_me)
            if (use->static_use && use->user->kind() == UserKind::Module && !contains(set, use->user))
                set.push_back(static_cast<Module*>(use->user));
    Survey survey;
    for (const auto& m : impl.modules) {
        if (!contains(set, m.get())) continue;
        if (ModuleState state = m->state.load(); state != ModuleState::Live)
            return Error::with<ModuleBusy>(EBUSY, ModuleBusy{m->name(), "it is " + std::string(to_string(state))});
        survey.members.push_back(m);
        survey.links_target.push_back(std::find(m->depends.begin(), m->depends.end(), target) != m->depends.end());
        Registry::Impl::CollectedHolders outside;
        for (const Use* use : m->users_of_me) {
            if (dynamic_count(*use) == 0 || contains(set, use->user)) continue;
            outside.counts.push_back(holder_counts(*use));
            outside.stacks.push_back(impl.acquisitions_of(*use));
        }
        survey.outside.push_back(std::move(outside));
    }
    return survey;
}

// Surveys, waiting up to `wait` for references from outside the set to drain.
Expected<Survey> survey(Registry::Impl& impl, std::string_view name, std::chrono::milliseconds wait, bool& waited) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    support::MutexLock lock(impl.mutex);
    for (;;) {
        auto found = survey_locked(impl, name);
        if (!found || !found->held() || wait.count() == 0 || std::chrono::steady_clock::now() >= deadline) {
            waited = wait.count() != 0;
            return found;
        }
        impl.state_changed.wait_for(lock, std::chrono::milliseconds(1));  // puts do not notify: poll
    }
}

bool exports_key(const Module& mod, std::string_view key) {
    return std::any_of(mod.exports.begin(), mod.exports.end(),
                       [&](const ExportEntry& e) { return e.name == key || (!e.alias.empty() && e.alias == key); });
}

const ExportSpec* find_spec(const ModuleImage& image, std::string_view key) {
    for (const auto& e : image.exports)
        if (e.name == key || (!e.alias.empty() && e.alias == key)) return &e;
    return nullptr;
}

std::string joined(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += separator;
        out += item;
    }
    return out;
}

// Each dependent linked to the replaced module keeps every import it takes
// from it, under the same policy (licence, namespace) as a link.
void check_dependents_imports(Registry::Impl& impl, const Survey& survey, const ReloadWork& work,
                              std::vector<ReloadBlocker>& blockers) {
    const Module& target = *survey.members.back();
    const ReloadImage& fresh = work.members.back().next;
    support::MutexLock lock(impl.mutex);
    for (std::size_t i = 0; i + 1 < survey.members.size(); ++i) {
        if (!survey.links_target[i]) continue;
        const Module& dependent = *survey.members[i];
        std::vector<std::string> missing;
        for (const std::string& import : work.members[i].next.image.imports) {
            if (!exports_key(target, import)) continue;
            const ExportSpec* spec = find_spec(fresh.image, import);
            if (spec == nullptr) {
                missing.push_back(import);
                continue;
            }
            ExportEntry entry{spec->name, spec->alias, nullptr, survey.members.back().get(), spec->license,
                              spec->ns, spec->type, 0};
            if (Status ok = check_binding(entry, dependent, BindPurpose::LinkNoWait); !ok)
                blockers.push_back({ok.error().code(), "the new " + target.name() + " would refuse " +
                                                           dependent.name() + ": " + ok.error().message()});
        }
        if (!missing.empty())
            blockers.push_back({ENOENT, fmt::format("{} imports {} from {}, which {} does not export", dependent.name(),
                                                    joined(missing, ", "), target.name(), work.plan.file)});
    }
}

// The new file's own imports resolve to modules that stay loaded (or the host).
void check_new_imports(Registry::Impl& impl, const Survey& survey, const ReloadWork& work,
                       std::vector<ReloadBlocker>& blockers) {
    std::vector<Module*> set;
    for (const auto& m : survey.members) set.push_back(m.get());
    std::vector<std::string> missing;
    support::MutexLock lock(impl.mutex);
    for (const std::string& import : work.members.back().next.image.imports) {
        const ExportEntry* entry = impl.index.find(import);
        if (entry == nullptr || (entry->owner != nullptr && contains(set, entry->owner))) missing.push_back(import);
    }
    if (!missing.empty())
        blockers.push_back({ENOENT, fmt::format("{} imports {}, which no module outside the reloaded set exports",
                                                work.plan.file, joined(missing, ", "))});
}

// Every old image must be unmappable (unless forced); every state declared by
// an old version must be taken by its new one, at the same or a higher version.
void check_images_and_states(ReloadWork& work, ReloadOptions options, std::vector<ReloadBlocker>& blockers) {
    for (ReloadMember& member : work.members) {
        const std::string& name = member.old->name();
        if (member.old->init && !member.old->exit)
            blockers.push_back({EBUSY, name + " has an init function but no exit function"});
        if (!member.stays_mapped.empty()) {
            std::string why = joined(member.stays_mapped, ", ");
            if (work.members.size() > 1)
                // The dynamic linker would go on binding the set's imports to
                // the old image (and keep what it links to mapped with it).
                blockers.push_back({EBUSY, fmt::format("{} cannot be unmapped ({}) and is linked with the modules "
                                                       "reloaded with it, which would stay bound to its old code",
                                                       name, why)});
            else if (options.mode == ReloadMode::Force)
                work.plan.stays_mapped.push_back(name + ": " + why);
            else
                blockers.push_back({EBUSY, fmt::format("{} cannot be unmapped ({}); a forced reload replaces it anyway",
                                                       name, why)});
        }
        auto old_state = declared_state(name, member.old->modinfo);
        auto new_state = declared_state(name, member.next.image.modinfo);
        if (!old_state || !new_state) {
            blockers.push_back({EINVAL, (!old_state ? old_state.error() : new_state.error()).message()});
            continue;
        }
        member.state = *old_state;
        if (!*old_state) continue;
        const DeclaredState& from = **old_state;
        if (!*new_state || (*new_state)->id != from.id)
            blockers.push_back({EINVAL, fmt::format("{}'s state {} v{} has no restore in the new version", name,
                                                    from.id, from.version)});
        else if ((*new_state)->version < from.version)
            blockers.push_back({EINVAL, fmt::format("{}'s state {} v{} cannot go to v{} (a downgrade)", name, from.id,
                                                    from.version, (*new_state)->version)});
        else
            work.plan.states.push_back({name, from.id, from.version, (*new_state)->version});
    }
}

}  // namespace

void set_reload_source(ReloadSource* source) { installed_source = source; }
ReloadSource* reload_source() { return installed_source; }

Expected<std::optional<DeclaredState>> declared_state(std::string_view module, const ModInfo& modinfo) {
    std::optional<DeclaredState> found;
    for (const auto& entry : modinfo) {
        if (entry.first != "state") continue;
        const std::string& value = entry.second;
        auto bad = [&](std::string_view why) {
            return Error(EINVAL, fmt::format("{}: state \"{}\": {}", module, value, why));
        };
        if (found) return bad("a module declares one state");
        std::size_t colon = value.rfind(':');
        if (colon == std::string::npos || colon == 0) return bad("not ID:VERSION");
        DeclaredState state{value.substr(0, colon), 0};
        const char* first = value.data() + colon + 1;
        const char* last = value.data() + value.size();
        auto [end, ec] = std::from_chars(first, last, state.version);
        if (ec != std::errc() || end != last || first == last) return bad("the version is not a decimal number");
        found = std::move(state);
    }
    return found;
}

Expected<ReloadWork> plan_reload(Registry& registry, Registry::Impl& impl, std::string_view name,
                                 const std::string& file, std::span<const std::string> params,
                                 ReloadOptions options) {
    ReloadSource* source = reload_source();
    if (source == nullptr) return Error(ENOSYS, "reload needs the module loader (libumod)");
    bool waited = false;
    auto found = survey(impl, name, options.wait, waited);
    if (!found) return found.error();
    Survey& now = *found;

    ReloadWork work;
    work.plan.module = std::string(name);
    work.plan.file = file;
    auto fresh = source->from_file(registry, file, params);
    if (!fresh) return fresh.error();
    if (fresh->image.name != name)
        return Error(EINVAL, fmt::format("{} is module {}, not {}", file, fresh->image.name, name));
    for (std::size_t i = 0; i < now.members.size(); ++i) {
        const Module& old = *now.members[i];
        auto values = source->current_parameters(old);
        if (!values) return values.error();
        bool target = i + 1 == now.members.size();
        Expected<ReloadImage> next = target ? std::move(*fresh) : source->from_kept(registry, old, *values);
        if (!next) return next.error();
        work.members.push_back({now.members[i], std::move(*next), std::move(*values), source->stays_mapped(old),
                                std::nullopt});
        work.plan.unload_order.push_back(old.name());
    }
    work.plan.load_order.assign(work.plan.unload_order.rbegin(), work.plan.unload_order.rend());

    std::vector<ReloadBlocker> blockers;
    for (std::size_t i = 0; i < now.members.size(); ++i) {
        if (now.outside[i].counts.empty()) continue;
        // Worded as an unload refused for the same holders.
        Error in_use = Error::with<ModuleInUse>(
            EWOULDBLOCK,
            ModuleInUse{now.members[i]->name(), impl.symbolized(std::move(now.outside[i])), waited});
        blockers.push_back({EWOULDBLOCK, in_use.message()});
    }
    check_dependents_imports(impl, now, work, blockers);
    check_new_imports(impl, now, work, blockers);
    check_images_and_states(work, options, blockers);
    if (!blockers.empty()) {
        int code = blockers.front().code;
        return Error::with<ReloadRefused>(code, ReloadRefused{std::string(name), std::move(blockers)});
    }
    return work;
}

}  // namespace core

std::string describe_reload_plan(const ReloadPlan& plan) {
    std::string out = fmt::format("reload {} from {}\n", plan.module, plan.file);
    out += "  unload (top-down): " + core::joined(plan.unload_order, ", ") + "\n";
    out += "  load (bottom-up):";
    for (std::size_t i = 0; i < plan.load_order.size(); ++i)
        out += fmt::format("{} {} ({})", i == 0 ? "" : ",", plan.load_order[i],
                           i == 0 ? "new file" : "kept bytes");
    out += "\n";
    for (const auto& s : plan.states)
        out += fmt::format("  state: {} {} v{} -> v{}\n", s.module, s.id, s.from_version, s.to_version);
    for (const auto& s : plan.stays_mapped) out += "  stays mapped: " + s + "\n";
    return out;
}

void describe_error(const ReloadRefused& e, std::string& out) {
    out += fmt::format("reload of {} refused, nothing unloaded: ", e.module);
    for (std::size_t i = 0; i < e.blockers.size(); ++i) out += (i ? "; " : "") + e.blockers[i].text;
}

void describe_error(const ReloadFailed& e, std::string& out) {
    out += fmt::format("reload of {} failed at \"{}\": {}; ", e.module, e.step, e.cause);
    if (e.rollback.empty())
        out += "rolled back, the old modules loaded again from their kept bytes";
    else
        out += "rollback incomplete: " + core::joined(e.rollback, "; ");
}

}  // namespace umod
