// umod — a plain directory of plugins, loaded at run time in dependency
// order, without a depmod tree.
//
// Every candidate file is read first (<umod/metadata.h>: no code runs); a
// module that imports a symbol another file of the directory exports is
// loaded after that file. Modules whose imports form a cycle, and modules
// that need one that did not load, are not loaded; each is reported with the
// names involved. Everything else is loaded with load_module_file.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <umod/metadata.h>
#include <umod/umod.h>

namespace umod {

// ELOOP — modules of the directory import from one another in a cycle, so
// none of them can be loaded first (the kernel refuses such modules too).
struct ImportCycle {
    std::string module;
    std::vector<std::string> cycle;  // "a", "b", "a": a imports from b, b from a
};
void describe_error(const ImportCycle& e, std::string& out);

// ENOENT — the module imports from a module of the directory that did not
// load (a cycle, a missing provider of its own, a failed init...).
struct ProviderNotLoaded {
    std::string module;
    std::string provider;
    std::vector<std::string> symbols;  // readable names
};
void describe_error(const ProviderNotLoaded& e, std::string& out);

struct DirectoryOptions {
    // Parameters by module name ("name=value", as load_module_file takes them).
    std::map<std::string, std::vector<std::string>, std::less<>> params;
    // The candidates: regular files (or links to them) whose name ends so.
    // Other files and subdirectories are ignored.
    std::string suffix = ".so";
};

struct DirectoryLoad {
    struct Loaded {
        std::string path;
        ModuleHandle module;
    };
    struct NotLoaded {
        std::string path;
        std::string module;  // the module's name; from the file name when unreadable
        Error error;
    };
    std::vector<Loaded> loaded;     // in load order: each after the modules it imports from
    std::vector<NotLoaded> failed;  // by path
};

// Loads the modules of `directory` (not its subdirectories) into
// `registry`, providers first; among modules that do not depend on each
// other, by file name. Imports the registry already exports (modules loaded
// before, the host's core exports) need no file. Each failure is one entry of
// `failed`, and does not stop the others: the reader's errors (ENOEXEC for
// a file that is not a umod module), ImportCycle, ProviderNotLoaded, and
// load_module_file's (ENOENT UnknownSymbols naming each import nothing
// exports, EEXIST for a name already loaded, EINVAL parameters, init's...).
// What loaded stays loaded. The call itself fails only when the directory
// cannot be read (ENOENT, ENOTDIR, EACCES, naming it).
Expected<DirectoryLoad> load_directory(Registry& registry, const std::string& directory,
                                       const DirectoryOptions& options = {});

}  // namespace umod
