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

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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

// Module code threw across the boundary: a load whose init (module_init)
// threw fails with ECANCELED and this payload, rolled back like a failed init.
struct CodeThrew {
    std::string module;
    std::string what;  // "init threw std::runtime_error: boom"
};
void describe_error(const CodeThrew& e, std::string& out);

// The module's name for a path: file name without directory and ".so",
// dashes read as underscores (as the kernel names .ko files).
std::string module_name_from_path(std::string_view path);

// Loads the module at `path` into `registry`, with `params` ("name=value").
// The file is read once, into a private copy that is checked and mapped (the
// file may change or go away meanwhile). Errors: the file's (ENOENT...),
// ENOEXEC for a malformed or foreign ELF file, for what the dynamic linker
// would trust (naming the structure and its offset) and for a shared object
// that is not a umod module, EINVAL for parameters, ECANCELED (CodeThrew)
// when a static constructor or init throws, then every error of
// Registry::load. Load-time hazards (what may keep it mapped) are reported as
// Warning events.
Expected<ModuleHandle> load_module_file(Registry& registry, const std::string& path,
                                        std::span<const std::string> params = {});

// A tree of umod modules indexed by `umod depmod --umod -b BASEDIR VERSION`:
// modprobe in the runtime, over the same binary indexes and resolution rules
// as `umod modprobe` (modules.dep.bin, modules.alias.bin, modules.symbols.bin,
// soft dependencies). Probes and removals on one tree are serialised; the
// registry stays usable from other threads meanwhile.
class ModuleTree {
public:
    // `dirname` holds the indexes (BASEDIR/lib/modules/VERSION). ENOENT when
    // it has no modules.dep.bin.
    static Expected<std::unique_ptr<ModuleTree>> open(Registry& registry, std::string dirname);
    ~ModuleTree();  // stops serving the registry's requests, if it did
    ModuleTree(const ModuleTree&) = delete;
    ModuleTree& operator=(const ModuleTree&) = delete;

    // modprobe NAME: what NAME stands for (a module name, an alias,
    // symbol:SYMBOL), with its dependencies, most basic first, and soft
    // dependencies, each loaded unless it is already; `params` go to NAME's
    // module. ENOENT when the index knows no such module. On a failure the
    // modules this probe loaded are unloaded again, newest first.
    Expected<ModuleHandle> probe(std::string_view name, std::span<const std::string> params = {});

    // modprobe -r NAME: unloads NAME's module (Registry::unload's errors),
    // then each of its dependencies that nothing uses any more; returns what
    // it unloaded, in order.
    struct Removed {
        std::string module;
        UnloadReport report;
    };
    Expected<std::vector<Removed>> remove(std::string_view name);

    // Makes the registry's symbol_request load a missing symbol's provider
    // from this tree (probe("symbol:NAME")), until this tree is destroyed.
    void serve_requests();

    struct Impl;

private:
    explicit ModuleTree(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace umod
