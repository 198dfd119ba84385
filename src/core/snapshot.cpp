// RegistrySnapshot: a consistent copy of the registry's state (umod's procfs).
#include "core/registry_impl.h"

namespace umod {

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
        s.taints = m->taints;
        if (!m->gpl_compatible) s.taints.insert(s.taints.begin(), 'P');  // the kernel's TAINT_PROPRIETARY_MODULE, first
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

}  // namespace umod
