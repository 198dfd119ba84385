// umod insmod — kmod 30's insmod: insert one module file into the running
// kernel, the words after it as its parameters.
//   umod insmod [-f] [-p] [-s] FILE [OPTION=VALUE...]
// (-p and -s are accepted and ignored, as kmod does.)
#include <getopt.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"
#include "index/kernel.h"
#include "kmod_log.h"

namespace umod::tool {

namespace {

// kmod's insmod's words for the kernel's errors.
const char* insert_error(int code) {
    switch (code) {
        case ENOEXEC: return "Invalid module format";
        case ENOENT: return "Unknown symbol in module";
        case ESRCH: return "Module has wrong symbol version";
        case EINVAL: return "Invalid parameters";
        default: return std::strerror(code);
    }
}

}  // namespace

int insmod_main(std::string_view prog, std::span<char* const> args) {
    KmodLog log(prog, kLogErr);
    std::string name(prog);
    std::vector<char*> argv = getopt_argv(name, args);
    static const option long_options[] = {
        {"version", no_argument, nullptr, 'V'},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    unsigned flags = 0;
    optind = 1;
    for (int c; (c = getopt_long(static_cast<int>(argv.size()) - 1, argv.data(), "psfVh", long_options, nullptr)) != -1;) {
        switch (c) {
            case 'p': case 's': break;  // for compatibility only, as kmod
            case 'f': flags |= index::kernel::kForceModversion | index::kernel::kForceVermagic; break;
            case 'V': return print_version();
            case 'h':
                std::printf("Usage:\n\t%s [options] filename [args]\nOptions:\n"
                            "\t-V, --version     show version\n\t-h, --help        show this help\n",
                            name.c_str());
                return 0;
            default: return 1;
        }
    }
    int argc = static_cast<int>(argv.size()) - 1;
    if (optind >= argc) {
        log.log(kLogErr, "missing filename.\n");
        return 1;
    }
    std::string filename = argv[optind];
    if (filename == "-") {
        log.log(kLogErr, "this tool does not support loading from stdin!\n");
        return 1;
    }
    std::string options;
    for (int i = optind + 1; i < argc; ++i) {
        if (!options.empty()) options += ' ';
        options += argv[i];
    }
    parse_kernel_cmdline_as_kmod_new();
    struct stat st {};
    if (::stat(filename.c_str(), &st) != 0) {
        log.log(kLogErr, "could not load module %s: %s\n", filename.c_str(), std::strerror(errno));
        return 1;
    }
    if (Status s = index::kernel::insert(filename, options, flags); !s) {
        log.log(kLogErr, "could not insert module %s: %s\n", filename.c_str(), insert_error(s.error().code()));
        return 1;
    }
    return 0;
}

}  // namespace umod::tool
