// depmod: the module index of a module tree, as kmod 30 writes it:
// modules.dep, .alias, .softdep, .symbols, .devname and the .bin indexes.
// Kernel trees (.ko, .ko.xz, .ko.zst) give kmod's bytes; a tree of umod's own
// modules (ELF shared objects, .so) gives the same files for umod's modprobe.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <umod/expected.h>

namespace umod::index {

enum class ModuleFormat {
    Kernel,  // Linux .ko files, read as libkmod reads them
    Umod,    // umod modules (.so): exports and imports from their umod tables
};

struct DepmodOptions {
    std::string basedir;                   // -b: the tree's root ("" for /)
    std::string kernel_version;            // the module directory is BASEDIR/lib/modules/VERSION
    ModuleFormat format = ModuleFormat::Kernel;
    bool dry_run = false;                  // -n: the text files on stdout, nothing written
    bool show_unknown = false;             // -e: warn about unresolved symbols (needs -E or -F)
    std::string symvers;                   // -E: Module.symvers, the kernel's exports and their CRCs
    std::string system_map;                // -F: System.map, the kernel's exports (no CRCs); -E wins
    std::vector<std::string> config_paths; // -C: depmod.d files or directories; empty: kmod's defaults
    // Module files named on the command line (absolute paths): only these are
    // indexed, and no configuration is read. Empty: every module of the tree.
    std::vector<std::string> module_files;
    bool quick = false;                    // -A: do nothing when modules.dep is newer than every module
    int verbose = 0;                       // -v count: 1 prints each new dependency on `out`
    char symbol_prefix = 0;                // -P: a character the architecture puts before symbol names
    bool warn_duplicates = false;          // -w: warn about a value indexed twice under one key
};

// Why depmod wrote nothing: modules that depend on one another in a loop.
// Each cycle is the names along it, first and last the same ("a b a").
struct DependencyCycles {
    std::vector<std::vector<std::string>> cycles;
    std::size_t modules = 0;  // distinct modules in cycles
};
// "Found N modules in dependency cycles!" (kmod's wording; each cycle is a
// separate line "Cycle detected: a -> b -> a").
void describe_error(const DependencyCycles& cycles, std::string& out);

// Runs depmod. Warnings and errors that do not stop it go to `log`, worded
// and ordered as kmod's (so a tool prints them unchanged); -n's text and -v's
// lines go to `out`. A failure that stops it is returned, worded as kmod's
// FATAL message ("could not search modules: No such file or directory"), or
// with a DependencyCycles payload (ELOOP); files already in the module
// directory are then left as they were (every file is written to a temporary
// name and renamed into place, all or, on a failed write, a prefix of the list).
Status depmod(const DepmodOptions& options, std::FILE* out, std::FILE* log);

// -A's test: 1 if modules.dep in `dirname` is newer than every module file
// (files of `format`; build/ and source/ skipped), 0 if not, and an error
// when modules.dep or the directory cannot be read (also reported on `log`,
// as kmod does).
Expected<bool> index_up_to_date(const std::string& dirname, ModuleFormat format, std::FILE* log);

}  // namespace umod::index
