// modprobe in the runtime: the module index (src/index) decides what to load
// and in which order; load_module_file and Registry::unload do it.
#include <umod/loader.h>

#include <algorithm>
#include <cerrno>
#include <mutex>

#include "index/modprobe.h"
#include "index/modprobe_config.h"

namespace umod {

struct ModuleTree::Impl {
    Impl(Registry& r, std::string d, index::ModuleIndex i)
        : registry(r), dirname(std::move(d)), index(std::move(i)) {}

    Registry& registry;
    const std::string dirname;
    const index::ModuleIndex index;        // immutable: read by every session
    const index::ModprobeConfig config{};  // no modprobe.d in the runtime
    // Serialises probe() and remove(); recursive: a module's init may
    // symbol_request (and so probe) while its own probe runs.
    std::recursive_mutex mutex;
    bool serving = false;                  // guarded by `mutex`

    Error not_found(std::string_view name) const {
        return Error(ENOENT, "module " + std::string(name) + " not found in " + dirname);
    }

    // The modules `name` stands for, in the session `session`.
    Expected<std::vector<index::ProbeModule*>> lookup(index::ModprobeSession& session, std::string_view name) {
        auto found = session.lookup(name);
        if (!found) return found.error();
        if (found->empty()) return not_found(name);
        return found;
    }
};

ModuleTree::ModuleTree(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ModuleTree::~ModuleTree() {
    std::lock_guard lock(impl_->mutex);
    if (impl_->serving) impl_->registry.set_request_handler({});
}

Expected<std::unique_ptr<ModuleTree>> ModuleTree::open(Registry& registry, std::string dirname) {
    index::ModuleIndex index = index::ModuleIndex::open(dirname);
    if (!index.has(index::IndexKind::Dep))
        return Error(ENOENT, dirname + ": no modules.dep.bin (index the tree with umod depmod --umod)");
    if (!index.load_errors().empty()) return index.load_errors().front().context(dirname);
    return std::unique_ptr<ModuleTree>(
        new ModuleTree(std::make_unique<Impl>(registry, std::move(dirname), std::move(index))));
}

Expected<ModuleHandle> ModuleTree::probe(std::string_view name, std::span<const std::string> params) {
    Impl& impl = *impl_;
    std::lock_guard lock(impl.mutex);
    index::ModprobeSession session(impl.index, impl.config);
    auto targets = impl.lookup(session, name);
    if (!targets) return targets.error();

    std::vector<std::string> loaded;  // by this probe, in order: undone on failure
    auto undo = [&](Error error) -> Error {
        for (auto it = loaded.rbegin(); it != loaded.rend(); ++it) (void)impl.registry.unload(*it);
        return error;
    };
    ModuleHandle first;
    for (index::ProbeModule* target : *targets) {
        auto list = session.probe_list(*target, index::CommandUse::Ignore);
        if (!list) return undo(list.error());
        for (index::ProbeModule* m : *list) {
            auto builtin = session.is_builtin(*m);
            if (!builtin) return undo(builtin.error());
            if (*builtin) continue;
            auto path = session.path(*m);
            if (!path) return undo(path.error());
            if (path->empty()) return undo(impl.not_found(m->name));
            if (ModuleHandle present = impl.registry.find(m->name)) {
                if (m == target && !first) first = present;
                continue;
            }
            std::span<const std::string> own = m == target ? params : std::span<const std::string>{};
            auto handle = load_module_file(impl.registry, std::string(*path), own);
            if (!handle) return undo(handle.error());
            loaded.push_back(std::string(handle->name()));
            if (m == target && !first) first = *handle;
        }
    }
    if (!first) return impl.not_found(name);
    return first;
}

Expected<std::vector<ModuleTree::Removed>> ModuleTree::remove(std::string_view name) {
    Impl& impl = *impl_;
    std::lock_guard lock(impl.mutex);
    index::ModprobeSession session(impl.index, impl.config);
    auto targets = impl.lookup(session, name);
    if (!targets) return targets.error();
    std::vector<Removed> removed;
    for (index::ProbeModule* target : *targets) {
        if (!impl.registry.find(target->name)) return Error::with(ENOENT, NoSuchModule{target->name});
        // What it links to, most dependent first (modules.dep's order).
        auto list = session.probe_list(*target, index::CommandUse::Ignore);
        if (!list) return list.error();
        auto unloaded = impl.registry.unload(target->name);
        if (!unloaded) return unloaded.error();
        removed.push_back({target->name, std::move(*unloaded)});
        for (auto it = list->rbegin(); it != list->rend(); ++it) {
            index::ProbeModule* dep = *it;
            if (dep == target || !impl.registry.find(dep->name)) continue;
            auto holders = impl.registry.holders(dep->name);
            if (!holders || !holders->empty()) continue;  // still used: stays
            if (auto report = impl.registry.unload(dep->name)) removed.push_back({dep->name, std::move(*report)});
        }
    }
    return removed;
}

void ModuleTree::serve_requests() {
    std::lock_guard lock(impl_->mutex);
    impl_->serving = true;
    impl_->registry.set_request_handler([this](std::string_view symbol) -> Status {
        auto probed = probe("symbol:" + std::string(symbol));
        if (!probed) return probed.error();
        return {};
    });
}

}  // namespace umod
