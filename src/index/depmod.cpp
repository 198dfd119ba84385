// depmod as kmod 30 does it (see shared/reference/kmod-formats.md §5), as a
// pipeline: read the configuration and find the modules, keeping one copy of
// each name (depmod_walk.cpp); order them (hash order, then modules.order);
// read their exports and imports with the ELF layer (depmod_read.cpp);
// resolve dependencies and sort them topologically (depmod_symbols.cpp); and
// write every file through a temporary name (depmod_output.cpp).
#include "index/depmod.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "elf/module_name.h"
#include "index/depmod_run.h"

namespace umod::index {

void describe_error(const DependencyCycles& cycles, std::string& out) {
    out += fmt::format("Found {} modules in dependency cycles!", cycles.modules);
}

namespace depmod_run {

// The loader's name for a umod module file: the one rule (elf/module_name.h).
std::string umod_module_name(std::string_view path) { return elf::module_name_of_file(path); }

}  // namespace depmod_run

Expected<bool> index_up_to_date(const std::string& dirname, ModuleFormat format, std::FILE* log) {
    depmod_run::ModuleDir dir(dirname);
    return depmod_run::up_to_date(dir, format, depmod_run::Log(log, depmod_run::kWarning));
}

Status depmod(const DepmodOptions& options, std::FILE* out, std::FILE* err) {
    using namespace depmod_run;
    std::string base = options.basedir.empty() ? "" : std::filesystem::absolute(options.basedir).string();
    Run run(options, out, err, base + "/lib/modules/" + options.kernel_version);

    if (options.quick) {
        if (options.dry_run) return {};
        auto fresh = up_to_date(run.dir, options.format, run.log);
        if (fresh && *fresh) return {};
    }
    // The symbol table: the kernel's (from -E or -F), then module exports (later wins).
    if (!options.symvers.empty() || !options.system_map.empty()) {
        if (Status loaded = load_kernel_symbols(run); !loaded) return loaded;
    } else if (options.show_unknown) {
        run.log(kWarning, "-e needs -E or -F\n");
    }
    if (Status found = find_modules(run); !found) return found;
    order_modules(run);
    read_modules(run);
    resolve_dependencies(run);
    if (Status sorted = sort_dependencies(run); !sorted) return sorted;  // nothing is written
    return write_outputs(run);
}

}  // namespace umod::index
