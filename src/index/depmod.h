// depmod: the module index of a kernel module tree, as kmod 30 writes it:
// modules.dep, .alias, .softdep, .symbols, .devname and the .bin indexes.
#pragma once

#include <cstdio>
#include <string>

namespace umod::index {

struct DepmodOptions {
    std::string basedir;       // -b: the tree's root ("" for /)
    std::string kernel_version;
    bool dry_run = false;      // -n: the text files on stdout, nothing written
    bool show_unknown = false; // -e: warn about unresolved symbols (needs -E)
    std::string symvers;       // -E: Module.symvers for the kernel's own exports
};

// Runs depmod; messages go to `err` worded as kmod's. Returns the exit status.
int depmod(const DepmodOptions& options, std::FILE* out, std::FILE* err);

}  // namespace umod::index
