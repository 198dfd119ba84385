// The first stages of load_module_file (loader/so_loader.cpp) on their own,
// for a reload (loader/reload_images.cpp): a module file read, checked and
// copied, its image ready for Registry::load, nothing mapped.
#pragma once

#include <memory>
#include <span>
#include <string>

#include <umod/umod.h>

#include "loader/checked_module.h"

namespace umod::loader {

struct PreparedModule {
    ModuleImage image;                    // its backend maps the checked copy
    std::shared_ptr<std::string> thrown;  // what module code threw (the backend's)
    std::string name;
};

// read, verify, check, copy; name, parameters, imports and exports.
Expected<PreparedModule> prepare_module_file(Registry& registry, const std::string& path,
                                             std::span<const std::string> params);

// A failed Registry::load of a prepared image, as load_module_file reports
// it: CodeThrew when module code threw, unknown symbols with their hints.
Error explain_load_error(const Error& error, const std::string& name, const std::string& thrown);

// The ModuleImage (name, imports against `registry`'s exports, exports,
// modinfo) of checked bytes; no backend.
ModuleImage image_of_module(const Registry& registry, std::string name, const CheckedModule& checked);

}  // namespace umod::loader
