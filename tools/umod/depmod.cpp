// umod depmod — kmod 30's depmod: [-a] [-b BASEDIR] [-n] [-e] [-E Module.symvers] [VERSION]
#include <getopt.h>
#include <sys/utsname.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "commands.h"
#include "index/depmod.h"

namespace umod::tool {

int depmod_main(std::string_view, std::span<char* const> args) {
    index::DepmodOptions options;
    std::vector<char*> argv{const_cast<char*>("depmod")};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(nullptr);
    static const option long_options[] = {
        {"all", no_argument, nullptr, 'a'},         {"basedir", required_argument, nullptr, 'b'},
        {"dry-run", no_argument, nullptr, 'n'},     {"errsyms", no_argument, nullptr, 'e'},
        {"symvers", required_argument, nullptr, 'E'}, {"quick", no_argument, nullptr, 'A'},
        {nullptr, 0, nullptr, 0},
    };
    optind = 1;
    for (int c; (c = getopt_long(static_cast<int>(argv.size()) - 1, argv.data(), "aAb:neE:", long_options,
                                 nullptr)) != -1;) {
        switch (c) {
            case 'a': case 'A': break;
            case 'b': options.basedir = optarg; break;
            case 'n': options.dry_run = true; break;
            case 'e': options.show_unknown = true; break;
            case 'E': options.symvers = optarg; break;
            default: return 1;
        }
    }
    if (optind < static_cast<int>(argv.size()) - 1) {
        options.kernel_version = argv[static_cast<std::size_t>(optind)];
    } else {
        utsname u{};
        uname(&u);
        options.kernel_version = u.release;
    }
    unsigned major = 0, minor = 0;
    if (std::sscanf(options.kernel_version.c_str(), "%u.%u", &major, &minor) != 2) {
        std::fprintf(stderr, "depmod: ERROR: Bad version passed %s\n", options.kernel_version.c_str());
        return 1;
    }
    return index::depmod(options, stdout, stderr);
}

}  // namespace umod::tool
