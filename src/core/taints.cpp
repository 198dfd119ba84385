// Taints, as the kernel keeps them: one letter per reason, each once, in the
// kernel's order (P, proprietary module, first). A taint stays after the
// module that caused it is gone.
#include "core/registry_impl.h"

namespace umod {

void Registry::Impl::add_taint_locked(char letter) {
    constexpr std::string_view order = "PFSRMBUDAWCIOELKXTNJ";  // kernel/panic.c's taint_flags
    if (taints.find(letter) != std::string::npos) return;
    taints += letter;
    std::sort(taints.begin(), taints.end(), [&](char a, char b) { return order.find(a) < order.find(b); });
}

void Registry::Impl::taint_for_license(const Module& mod) {
    if (mod.gpl_compatible) return;
    {
        support::MutexLock lock(mutex);
        add_taint_locked('P');
    }
    // The kernel's "module license '...' taints kernel.", for every such module.
    std::string text = mod.name() + ": module license '" + (mod.license.empty() ? std::string("unspecified") : mod.license) +
                       "' taints the registry";
    emit(Event{.kind = EventKind::Warning, .module = mod.name(), .text = text});
}

}  // namespace umod
