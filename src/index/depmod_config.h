// depmod.d: which copy of a module depmod indexes when a tree holds several
// (search, override, external), and which directories it skips (exclude),
// read as kmod 30's depmod reads its configuration.
#pragma once

#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace umod::index {

// kmod 30's configuration directories, earliest first: a file name found in
// several of them is read once, from the earliest.
inline constexpr const char* kDepmodConfigDirs[] = {"/etc/depmod.d", "/run/depmod.d", "/usr/local/lib/depmod.d",
                                                    "/lib/depmod.d"};

struct DepmodConfig {
    enum class SearchKind { Path, BuiltIn, External };
    struct Search {
        SearchKind kind;
        std::string path;  // Path: relative to the module directory
    };
    // Every list is in the order of the lines that made it; an earlier
    // `search` entry wins, and a later `override` line is consulted first.
    // Without any `search` line the list is just `updates`.
    std::vector<Search> searches;
    std::vector<std::string> overrides;  // "SUBDIR/MODNAME", relative to the module directory
    std::vector<std::string> externals;  // directories searched after the module directory
    std::vector<std::string> excludes;   // entry names the walk skips (besides build and source)
};

// Reads the configuration from `paths` (files, or directories of *.conf
// files) for kernel `kernel_version`. kmod's messages for unreadable files and
// bad lines go to `log`, with their wording and priority; those above
// `verbosity` (kmod's LOG_* scale: 4 = warnings, the default) are dropped.
// Nothing here fails: a bad line is reported and skipped.
DepmodConfig read_depmod_config(std::span<const std::string> paths, std::string_view kernel_version, int verbosity,
                                std::FILE* log);

// The copy of one module that depmod keeps when it finds two: true if the
// copy it already has (`old_path`) stays, false if `new_path` replaces it.
// Paths are as depmod walked them; `dirname` is the module directory.
// kmod 30's rule, quirks included: overrides first (matched on the file name
// without its extension), then the search list, with `built-in` standing for
// every path no entry names.
bool keep_existing_module(const DepmodConfig& config, std::string_view dirname, std::string_view old_path,
                          std::string_view new_path);

}  // namespace umod::index
