// Which module an address belongs to, and keeping a module's code mapped for
// objects it made (umod::module_shared in <umod/ref.h>).
#include "core/registry_impl.h"

namespace umod {

ModuleHandle Registry::module_of(const void* address) const {
    auto at = reinterpret_cast<std::uintptr_t>(address);
    support::MutexLock lock(impl_->mutex);
    for (const auto& m : impl_->modules)
        if (m->base != 0 && at >= m->base && at - m->base < m->size) return ModuleHandle(m);
    return {};
}

std::shared_ptr<void> Registry::keep_mapped(const ModuleHandle& module) {
    Module* mod = module.get();
    if (mod == nullptr) return nullptr;
    {
        // Live: map() has returned and unmap() cannot have begun.
        support::MutexLock lock(impl_->mutex);
        if (mod->state.load() != ModuleState::Live || !mod->backend) return nullptr;
    }
    // The handle keeps the module, hence its backend, alive.
    return mod->backend->keep_mapped();
}

}  // namespace umod
