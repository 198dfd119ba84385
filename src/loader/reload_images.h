// The module loader as a reload's source of images (core/reload_source.h):
// libumod installs it, so that Registry::reload can read new module files
// and load modules again from their kept bytes.
#pragma once

#include "core/reload_source.h"

namespace umod::loader {

class ReloadImages final : public core::ReloadSource {
public:
    Expected<core::ReloadImage> from_file(Registry& registry, const std::string& path,
                                          std::span<const std::string> params) override;
    Expected<core::ReloadImage> from_kept(Registry& registry, const Module& module,
                                          std::span<const std::string> params) override;
    Expected<std::vector<std::string>> current_parameters(const Module& module) override;
    std::vector<std::string> stays_mapped(const Module& module) override;
    Expected<std::vector<std::byte>> save_state(const Module& module) override;
    Status restore_state(const Module& module, std::span<const std::byte> bytes, std::uint64_t from_version) override;
};

// Makes the loader the source of every registry's reloads (once, at start-up).
void install_reload_images();

}  // namespace umod::loader
