// module_parameters: a loaded module's parameter values, read from its image
// under the backend's parameter lock and worded as the kernel's param_get_*
// functions word them for /sys/module/M/parameters.
#include "loader/parameter_values.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/objects.h"

namespace umod {

namespace loader {

std::string parameter_description(const ModInfo& modinfo, std::string_view parameter) {
    std::string text;
    for (const auto& [key, value] : modinfo)
        if (key == "parm" && value.size() > parameter.size() && value.starts_with(parameter) &&
            value[parameter.size()] == ':')
            text = value.substr(parameter.size() + 1);
    return text;
}

MappedParameters::MappedParameters(std::string module, const std::vector<elf::UmodParam>& params,
                                   const ModInfo& modinfo)
    : module_(std::move(module)) {
    for (const elf::UmodParam& p : params)
        slots_.push_back({p.name, p.type, parameter_description(modinfo, p.name), p.address});
}

void MappedParameters::set_base(std::uintptr_t base) {
    support::MutexLock lock(mutex_);
    base_ = base;
}

namespace {

template <class T>
T load(std::uintptr_t where) {
    T value;
    std::memcpy(&value, reinterpret_cast<const void*>(where), sizeof(value));
    return value;
}

}  // namespace

Expected<std::vector<ParameterValue>> MappedParameters::read() const {
    support::MutexLock lock(mutex_);
    if (base_ == 0) return Error::with(ENOENT, NoSuchModule{module_});
    std::vector<ParameterValue> out;
    for (const Slot& s : slots_) {
        ParameterValue v{s.name, s.type, s.description, {}, {}};
        std::uintptr_t where = base_ + s.address;
        auto as_signed = [&](long long n) {
            v.value = n;
            v.text = std::to_string(n);
        };
        auto as_unsigned = [&](unsigned long long n) {
            v.value = n;
            v.text = std::to_string(n);
        };
        if (s.type == "bool") {
            bool flag = load<unsigned char>(where) != 0;
            v.value = flag;
            v.text = flag ? "Y" : "N";
        } else if (s.type == "int") {
            as_signed(load<int>(where));
        } else if (s.type == "short") {
            as_signed(load<short>(where));
        } else if (s.type == "long") {
            as_signed(load<long>(where));
        } else if (s.type == "uint") {
            as_unsigned(load<unsigned>(where));
        } else if (s.type == "ushort") {
            as_unsigned(load<unsigned short>(where));
        } else if (s.type == "ulong") {
            as_unsigned(load<unsigned long>(where));
        } else if (s.type == "charp" || s.type == "string") {
            if (const char* text = load<const char*>(where)) {
                v.value = std::string(text);
                v.text = text;
            } else {
                v.text = "(null)";
            }
        } else {
            // A type the loader cannot set either: shown, not read.
            v.text = fmt::format("(type {} is not supported)", s.type);
        }
        out.push_back(std::move(v));
    }
    return out;
}

}  // namespace loader

Expected<std::vector<ParameterValue>> module_parameters(const ModuleHandle& module) {
    if (!module) return Error::with(ENOENT, NoSuchModule{"(none)"});
    Module* m = module.get();
    if (module.state() == ModuleState::Gone) return Error::with(ENOENT, NoSuchModule{std::string(module.name())});
    // The backend is set when the module is formed and kept until the Module
    // object dies, which the handle prevents.
    const auto* source = dynamic_cast<const loader::ParameterSource*>(m->backend.get());
    if (source == nullptr) return std::vector<ParameterValue>{};
    return source->parameters().read();
}

}  // namespace umod
