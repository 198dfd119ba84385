// umod — loading modules from ELF shared objects (see <umod/module.h> for the
// module side).
//
// A module file is read and checked as hostile input first: its ELF structure,
// export table, parameters and imports. Every import is resolved with the
// registry's rules (unknown symbol, GPL-only, namespace, duplicate export)
// before the file is mapped; only then is it mapped (dlopen, RTLD_GLOBAL so
// modules can link to one another), its parameters set, and its init run. A
// failed load unmaps it and leaves the registry as it was. Unloading runs exit,
// unmaps, and checks the mapping is really gone.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include <umod/umod.h>

namespace umod {

// EINVAL for a parameter the module does not declare or a value its type
// cannot hold; the message names the parameter.
struct BadParameter {
    std::string module;
    std::string parameter;
    std::string problem;
};
void describe_error(const BadParameter& e, std::string& out);

// The module's name for a path: file name without directory and ".so",
// dashes read as underscores (as the kernel names .ko files).
std::string module_name_from_path(std::string_view path);

// Loads the module at `path` into `registry`, with `params` ("name=value").
// Errors: the file's (ENOENT...), ENOEXEC for a malformed or foreign ELF file,
// EINVAL for parameters, then every error of Registry::load. Load-time hazards
// (symbols that can keep it mapped, default-visibility symbols others could
// bind to) are reported as Warning events.
Expected<ModuleHandle> load_module_file(Registry& registry, const std::string& path,
                                        std::span<const std::string> params = {});

}  // namespace umod
