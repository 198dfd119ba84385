// umod depmod — kmod 30's depmod, plus the index of umod's own modules:
//   depmod [-aAenv] [-b BASEDIR] [-C CONFIG]... [-E Module.symvers | -F System.map] [-P CHAR]
//          [--umod] [VERSION [MODULE-FILE...]]
#include <getopt.h>
#include <sys/utsname.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"
#include "kmod_log.h"
#include "index/depmod.h"

namespace umod::tool {

namespace {

void help() {
    std::printf(
        "Usage:\n"
        "\tdepmod -[aA] [options] [forced_version]\n"
        "\n"
        "If no arguments (except options) are given, \"depmod -a\" is assumed\n"
        "\n"
        "depmod will output a dependency list suitable for the modprobe utility.\n"
        "\n"
        "Options:\n"
        "\t-a, --all            Probe all modules\n"
        "\t-A, --quick          Only does the work if there's a new module\n"
        "\t-e, --errsyms        Report not supplied symbols\n"
        "\t-n, --show           Write the dependency file on stdout only\n"
        "\t-P, --symbol-prefix  Architecture symbol prefix\n"
        "\t-C, --config=PATH    Read configuration from PATH\n"
        "\t-v, --verbose        Enable verbose mode\n"
        "\t-w, --warn           Warn on duplicates\n"
        "\t-V, --version        show version\n"
        "\t-h, --help           show this help\n"
        "\n"
        "The following options are useful for people managing distributions:\n"
        "\t-b, --basedir=DIR    Use an image of a module tree.\n"
        "\t-F, --filesyms=FILE  Use the file instead of the\n"
        "\t                     current kernel symbols.\n"
        "\t-E, --symvers=FILE   Use Module.symvers file to check\n"
        "\t                     symbol versions.\n"
        "\n"
        "umod modules (ELF shared objects built with <umod/module.h>):\n"
        "\t    --umod           Index the *.so files of BASEDIR/lib/modules/VERSION\n"
        "\t                     instead of Linux *.ko files: the same files\n"
        "\t                     (modules.dep, .alias, .softdep, .symbols and their\n"
        "\t                     .bin tries) for `umod modprobe -d BASEDIR -S VERSION`.\n"
        "\t                     A module's name is its MODULE_NAME or its file name\n"
        "\t                     without .so; its exports are indexed as symbol:NAME\n"
        "\t                     under each name the registry answers to.\n");
}

}  // namespace

int depmod_main(std::string_view, std::span<char* const> args) {
    index::DepmodOptions options;
    std::string argv0 = "depmod";
    std::vector<char*> argv = getopt_argv(argv0, args);
    enum { kUmod = 256 };
    static const option long_options[] = {
        {"all", no_argument, nullptr, 'a'},          {"quick", no_argument, nullptr, 'A'},
        {"basedir", required_argument, nullptr, 'b'}, {"config", required_argument, nullptr, 'C'},
        {"symvers", required_argument, nullptr, 'E'}, {"filesyms", required_argument, nullptr, 'F'},
        {"errsyms", no_argument, nullptr, 'e'},      {"verbose", no_argument, nullptr, 'v'},
        {"show", no_argument, nullptr, 'n'},         {"dry-run", no_argument, nullptr, 'n'},
        {"symbol-prefix", required_argument, nullptr, 'P'}, {"warn", no_argument, nullptr, 'w'},
        {"version", no_argument, nullptr, 'V'},      {"help", no_argument, nullptr, 'h'},
        {"umod", no_argument, nullptr, kUmod},       {nullptr, 0, nullptr, 0},
    };
    bool all = false;
    optind = 1;
    for (int c; (c = getopt_long(static_cast<int>(argv.size()) - 1, argv.data(), "aAb:C:E:F:evnP:wVh",
                                 long_options, nullptr)) != -1;) {
        switch (c) {
            case 'a': all = true; break;
            case 'A': options.quick = true; break;
            case 'b': options.basedir = optarg; break;
            case 'C': options.config_paths.emplace_back(optarg); break;
            case 'E': options.symvers = optarg; break;
            case 'F': options.system_map = optarg; break;
            case 'e': options.show_unknown = true; break;
            case 'v': ++options.verbose; break;
            case 'n': options.dry_run = true; break;
            case 'P':
                if (std::strlen(optarg) != 1) {
                    std::fprintf(stderr, "depmod: FATAL: -P only takes a single char\n");
                    return 1;
                }
                options.symbol_prefix = optarg[0];
                break;
            case 'w': options.warn_duplicates = true; break;
            case 'V': return print_version();
            case 'h': help(); return 0;
            case kUmod: options.format = index::ModuleFormat::Umod; break;
            default: return 1;
        }
    }
    int argc = static_cast<int>(argv.size()) - 1;
    if (optind < argc) {
        unsigned major = 0, minor = 0;
        if (std::sscanf(argv[static_cast<std::size_t>(optind)], "%u.%u", &major, &minor) != 2) {
            std::fprintf(stderr, "depmod: ERROR: Bad version passed %s\n", argv[static_cast<std::size_t>(optind)]);
            return 1;
        }
        options.kernel_version = argv[static_cast<std::size_t>(optind++)];
    } else {
        utsname u{};
        uname(&u);
        options.kernel_version = u.release;
    }
    // Module files after the version are indexed alone, unless -a asks for all.
    if (!all)
        for (int i = optind; i < argc; ++i) options.module_files.emplace_back(argv[static_cast<std::size_t>(i)]);

    Status done = index::depmod(options, stdout, stderr);
    if (done) return 0;
    if (const auto* cycles = done.error().detail<index::DependencyCycles>()) {
        for (const auto& cycle : cycles->cycles) {
            std::string text;
            for (const std::string& name : cycle) text += (text.empty() ? "" : " -> ") + name;
            std::fprintf(stderr, "depmod: ERROR: Cycle detected: %s\n", text.c_str());
        }
        std::fprintf(stderr, "depmod: ERROR: %s\n", done.error().message().c_str());
    } else {
        std::fprintf(stderr, "depmod: FATAL: %s\n", done.error().message().c_str());
    }
    return 1;
}

}  // namespace umod::tool
