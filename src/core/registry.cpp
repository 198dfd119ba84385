// The registry: construction, teardown, lookups, the host's core exports,
// subscriptions. See registry_impl.h for the layout of src/core.
#include "core/registry_impl.h"

#include <cstdio>
#include <cstdlib>

namespace umod {

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
        case EventKind::ReloadStarted: return "reload-started";
        case EventKind::ReloadCommitted: return "reload-committed";
        case EventKind::ReloadRolledBack: return "reload-rolled-back";
    }
    return "?";
}

User* ModuleHandle::user() const { return module_.get(); }
std::string_view ModuleHandle::name() const { return module_ ? std::string_view(module_->name()) : ""; }
ModuleState ModuleHandle::state() const {
    return module_ ? module_->state.load(std::memory_order_acquire) : ModuleState::Gone;
}

std::string_view user_name(const User* user) { return user ? std::string_view(user->name()) : "(anonymous)"; }
UserKind user_kind(const User* user) { return user ? user->kind() : UserKind::Anonymous; }

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


const RegistryOptions& Registry::options() const { return impl_->options; }

Registry::Registry(RegistryOptions options) : impl_(std::make_unique<Impl>(options)) {
    rcu::init();
    core::Symbolizer::preload();  // before any module: see its comment
    impl_->level.store(initial_track_level(options));
    impl_->update_recording();
    impl_->attachment = core::make_attachment(*this, options);
}

Registry::~Registry() {
    impl_->attachment.reset();  // the control endpoint stops before any module unloads
    // Users before providers: always unload a module nobody links to.
    for (;;) {
        std::string victim;
        {
            support::MutexLock lock(impl_->mutex);
            for (const auto& m : impl_->modules) {
                if (!linked_to(*m) && m->state.load() == ModuleState::Live) {
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
    const std::shared_ptr<Module>* m = impl_->find_shared_locked(name);
    return m ? ModuleHandle(*m) : ModuleHandle();
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

void Registry::subscribe(Observer& observer, ObserveGetPut get_put) {
    impl_->hub->subscribe(observer, get_put);
    impl_->update_recording();
}

void Registry::unsubscribe(Observer& observer) {
    impl_->hub->unsubscribe(observer);
    impl_->update_recording();
}

}  // namespace umod
