// The loader's side of a reload (core/reload_source.h): images of a new
// module file and of loaded modules from their kept bytes (never their
// files, which may have changed), and the MODULE_STATE calls.
#include "loader/reload_images.h"

#include <umod/loader.h>
#include <umod/module.h>

#include <cstring>

#include <fmt/format.h>

#include "core/objects.h"
#include "core/reload_source.h"
#include "elf/elf_file.h"
#include "loader/parameters.h"
#include "loader/prepared_module.h"
#include "loader/so_backend.h"

namespace umod::loader {

namespace {

core::ReloadImage reload_image(PreparedModule prepared, const elf::UmodModuleInfo& info) {
    core::ReloadImage out;
    out.image = std::move(prepared.image);
    out.stays_mapped = SharedObjectBackend::file_pins(info);
    out.explain = [thrown = std::move(prepared.thrown), name = std::move(prepared.name)](const Error& e) {
        return explain_load_error(e, name, *thrown);
    };
    return out;
}

const SharedObjectBackend* backend_of(const Module& module) {
    return dynamic_cast<const SharedObjectBackend*>(module.backend.get());
}

// A parameter's current value as `insmod NAME=VALUE` sets it; none for a
// null charp.
std::optional<std::string> assignment(const ParameterValue& value) {
    if (std::holds_alternative<std::monostate>(value.value)) return std::nullopt;
    if (const bool* flag = std::get_if<bool>(&value.value)) return value.name + "=" + (*flag ? "1" : "0");
    if (const std::string* text = std::get_if<std::string>(&value.value)) return value.name + "=" + *text;
    return value.name + "=" + value.text;
}

// The mapped struct umod_state of a live or going module.
Expected<const umod_state*> state_of(const Module& module) {
    const SharedObjectBackend* backend = backend_of(module);
    if (backend == nullptr || module.base == 0)
        return Error(ENOEXEC, module.name() + " is not a mapped module file");
    auto elf = elf::ElfFile::parse(backend->kept_copy().bytes());
    if (!elf) return elf.error();
    const elf::Section* section = elf->section(".umod_state");
    if (section == nullptr) return Error(ENOEXEC, module.name() + " declares a state but has no .umod_state section");
    if (section->size != sizeof(umod_state) || section->addr > module.size ||
        module.size - section->addr < sizeof(umod_state))
        return Error(ENOEXEC, fmt::format("{}: .umod_state is not one struct umod_state in the image", module.name()));
    return reinterpret_cast<const umod_state*>(module.base + section->addr);
}

bool in_image(const Module& module, const void* address) {
    auto at = reinterpret_cast<std::uintptr_t>(address);
    return at >= module.base && at - module.base < module.size;
}

Error errno_error(int code, std::string what) {
    return Error(code, fmt::format("{}: {}", what, std::strerror(code)));
}

}  // namespace

Expected<core::ReloadImage> ReloadImages::from_file(Registry& registry, const std::string& path,
                                                    std::span<const std::string> params) {
    auto prepared = prepare_module_file(registry, path, params);
    if (!prepared) return prepared.error();
    const auto* backend = dynamic_cast<const SharedObjectBackend*>(prepared->image.backend.get());
    const elf::UmodModuleInfo& info = backend->kept_copy().checked().info;
    return reload_image(std::move(*prepared), info);
}

Expected<std::vector<std::string>> ReloadImages::current_parameters(const Module& module) {
    const SharedObjectBackend* backend = backend_of(module);
    if (backend == nullptr) return std::vector<std::string>{};
    auto values = backend->parameters().read();
    if (!values) return values.error();
    std::vector<std::string> assignments;
    for (const ParameterValue& value : *values)
        if (auto a = assignment(value)) assignments.push_back(std::move(*a));
    return assignments;
}

std::vector<std::string> ReloadImages::stays_mapped(const Module& module) {
    const SharedObjectBackend* backend = backend_of(module);
    return backend != nullptr ? SharedObjectBackend::file_pins(backend->kept_copy().checked().info) : std::vector<std::string>{};
}

Expected<core::ReloadImage> ReloadImages::from_kept(Registry& registry, const Module& module,
                                                    std::span<const std::string> assignments) {
    const SharedObjectBackend* backend = backend_of(module);
    if (backend == nullptr)
        return Error(ENOEXEC, module.name() + " has no kept bytes to load again (it was not loaded from a module file)");
    const PrivateCopy& kept = backend->kept_copy();
    SourceFile source;
    source.path = kept.path();
    source.file_name = source.path.substr(source.path.rfind('/') + 1);
    // A kept copy of these bytes that is no longer mapped (an earlier
    // version's, or this one's once unloaded) serves without a write.
    std::optional<PrivateCopy> copy = PrivateCopy::reuse(source, kept.shared_bytes());
    if (!copy) {
        auto made = PrivateCopy::make(source, kept.shared_bytes(), kept.shared_checked());
        if (!made) return made.error();
        copy.emplace(std::move(*made));
    }
    const elf::UmodModuleInfo& info = copy->checked().info;
    auto params = parse_params(module.name(), info, assignments);
    if (!params) return params.error();
    ModuleImage image = image_of_module(registry, module.name(), copy->checked());
    image.taints = module.taints;
    auto fresh = std::make_unique<SharedObjectBackend>(registry, std::move(*copy), module.name(), std::move(*params));
    std::shared_ptr<std::string> thrown = fresh->thrown();
    image.backend = std::move(fresh);
    return reload_image(PreparedModule{std::move(image), std::move(thrown), module.name()}, info);
}

Expected<std::vector<std::byte>> ReloadImages::save_state(const Module& module) {
    auto state = state_of(module);
    if (!state) return state.error();
    umod_state_save_t save = (*state)->save;
    if (save == nullptr || !in_image(module, reinterpret_cast<const void*>(save)))
        return Error(EINVAL, module.name() + " declares a state but no save function");
    std::vector<std::byte> bytes;
    try {
        long size = save(nullptr, 0);
        for (int attempt = 0; size >= 0 && static_cast<unsigned long>(size) > bytes.size() && attempt < 3; ++attempt) {
            bytes.resize(static_cast<std::size_t>(size));
            size = save(bytes.data(), bytes.size());
        }
        if (size < 0) return errno_error(static_cast<int>(-size), module.name() + ": state save failed");
        if (static_cast<unsigned long>(size) > bytes.size())
            return Error(EIO, module.name() + ": state save kept growing");
        bytes.resize(static_cast<std::size_t>(size));
    } catch (...) {
        return Error::with(ECANCELED, CodeThrew{module.name(), "state save threw " + current_exception_text()});
    }
    return bytes;
}

Status ReloadImages::restore_state(const Module& module, std::span<const std::byte> bytes, std::uint64_t from_version) {
    auto state = state_of(module);
    if (!state) return state.error();
    umod_state_restore_t restore = (*state)->restore;
    if (restore == nullptr || !in_image(module, reinterpret_cast<const void*>(restore)))
        return Error(EINVAL, fmt::format("{} has no restore for the state v{} it is handed", module.name(), from_version));
    try {
        int rc = restore(bytes.data(), bytes.size(), from_version);
        if (rc < 0) return errno_error(-rc, fmt::format("{}: state restore from v{} failed", module.name(), from_version));
    } catch (...) {
        return Error::with(ECANCELED, CodeThrew{module.name(), "state restore threw " + current_exception_text()});
    }
    return {};
}

void install_reload_images() {
    static ReloadImages images;
    core::set_reload_source(&images);
}

}  // namespace umod::loader
