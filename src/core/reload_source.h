// What a reload needs from the layer that reads module files: the core knows
// only this seam, the module loader implements it (src/loader/reload_images.cpp)
// and libumod installs it. Every function runs with no registry lock held.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <umod/umod.h>

namespace umod::core {

// A module image ready for Registry::Impl::load: read and checked, nothing
// mapped, none of its code run. Destroying it unused leaves nothing behind.
struct ReloadImage {
    ModuleImage image;
    // Why an image of these bytes cannot be unmapped once loaded (DF_1_NODELETE,
    // thread-local storage); empty when it can.
    std::vector<std::string> stays_mapped;
    // Turns the error of a failed load of `image` into the loader's own
    // (what module code threw, hints for unknown symbols). Never empty.
    std::function<Error(const Error&)> explain;
};

class ReloadSource {
public:
    virtual ~ReloadSource() = default;
    // The module file at `path` with `params`, read and checked now.
    virtual Expected<ReloadImage> from_file(Registry& registry, const std::string& path,
                                            std::span<const std::string> params) = 0;
    // The loaded module `module` again, from the bytes it was loaded from
    // (never the file, which may have changed), with `params` (its
    // current_parameters). ENOEXEC for a module that has no kept bytes (a
    // link-only one). Valid after `module` was unloaded (a rollback), as long
    // as the Module lives: its backend keeps the bytes.
    virtual Expected<ReloadImage> from_kept(Registry& registry, const Module& module,
                                            std::span<const std::string> params) = 0;
    // Its parameters' current values as name=value (read while it is mapped).
    virtual Expected<std::vector<std::string>> current_parameters(const Module& module) = 0;
    // Why `module`'s image cannot be unmapped (as ReloadImage::stays_mapped).
    virtual std::vector<std::string> stays_mapped(const Module& module) = 0;
    // Runs `module`'s MODULE_STATE save (module code): its state's bytes.
    virtual Expected<std::vector<std::byte>> save_state(const Module& module) = 0;
    // Runs `module`'s MODULE_STATE restore with `bytes` saved by version
    // `from_version` (module code, before its init).
    virtual Status restore_state(const Module& module, std::span<const std::byte> bytes,
                                 std::uint64_t from_version) = 0;
};

// Installed once, at start-up (before any registry reloads); null: none.
void set_reload_source(ReloadSource* source);
ReloadSource* reload_source();

// A module's MODULE_STATE as its .modinfo declares it ("state=ID:VERSION").
struct DeclaredState {
    std::string id;
    std::uint64_t version = 0;
};
// None when `modinfo` declares no state; EINVAL naming `module` for a
// malformed or repeated declaration.
Expected<std::optional<DeclaredState>> declared_state(std::string_view module, const ModInfo& modinfo);

}  // namespace umod::core
