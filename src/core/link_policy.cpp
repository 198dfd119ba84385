// The binding policy: whether a user may bind to an export, for links and gets.
#include "core/registry_impl.h"

namespace umod {

bool license_is_gpl_compatible(std::string_view license) {
    return license == "GPL" || license == "GPL v2" || license == "GPL and additional rights" ||
           license == "Dual BSD/GPL" || license == "Dual MIT/GPL" || license == "Dual MPL/GPL";
}

Status check_binding(const ExportEntry& entry, const User& user, BindPurpose purpose, std::string_view type) {
    bool link = purpose == BindPurpose::Link || purpose == BindPurpose::LinkNoWait;
    const Module* as_module = user.kind() == UserKind::Module ? static_cast<const Module*>(&user) : nullptr;
    if (entry.license == ExportLicense::GplOnly && as_module != nullptr && !as_module->gpl_compatible)
        return Error::with<GplOnlySymbol>(
            EPERM, GplOnlySymbol{user.name(), as_module->license.empty() ? "(none)" : as_module->license,
                                 entry.name, std::string(owner_name(entry))});
    if (link && !entry.ns.empty() && as_module != nullptr &&
        std::find(as_module->import_ns.begin(), as_module->import_ns.end(), entry.ns) == as_module->import_ns.end())
        return Error::with<NamespaceNotImported>(
            EINVAL, NamespaceNotImported{user.name(), entry.name, entry.ns, std::string(owner_name(entry))});
    if (entry.owner != nullptr) {
        ModuleState state = entry.owner->state.load();
        bool waits = purpose == BindPurpose::Link && state == ModuleState::Coming;
        if (state != ModuleState::Live && !waits)
            return Error::with<ProviderNotReady>(
                EBUSY, ProviderNotReady{user.name(), entry.owner->name(), entry.name, std::string(to_string(state))});
    }
    if (purpose == BindPurpose::TypedGet && entry.type != type)
        return Error::with<TypeMismatch>(
            EINVAL, TypeMismatch{entry.name, std::string(owner_name(entry)),
                                 entry.type.empty() ? "(untyped)" : entry.type, std::string(type)});
    if (as_module != nullptr && !link && as_module->state.load() == ModuleState::Gone)
        return Error(EINVAL, "user " + user.name() + " is unloaded");
    return {};
}

}  // namespace umod
