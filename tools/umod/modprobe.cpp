// umod modprobe — kmod 30's resolution, without loading anything:
//   umod modprobe [-C CONFIG] [-d ROOT] [-S VERSION] (-D|--show-depends | -R|--resolve-alias |
//                 -n|--dry-run [-v]) NAME...
// Only the modules' own configuration is read (modules.softdep...); -C is
// accepted for /dev/null, as configuration files are not read yet.
#include <getopt.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"
#include "index/modprobe.h"

namespace umod::tool {

int modprobe_main(std::string_view, std::span<char* const> args) {
    std::string root, version, config;
    bool show_depends = false, resolve_alias = false, dry_run = false, verbose = false;
    std::vector<char*> argv{const_cast<char*>("modprobe")};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(nullptr);
    static const option long_options[] = {
        {"show-depends", no_argument, nullptr, 'D'}, {"resolve-alias", no_argument, nullptr, 'R'},
        {"dry-run", no_argument, nullptr, 'n'},      {"verbose", no_argument, nullptr, 'v'},
        {"dirname", required_argument, nullptr, 'd'}, {"set-version", required_argument, nullptr, 'S'},
        {"config", required_argument, nullptr, 'C'}, {nullptr, 0, nullptr, 0},
    };
    optind = 1;
    for (int c; (c = getopt_long(static_cast<int>(argv.size()) - 1, argv.data(), "DRnvd:S:C:", long_options,
                                 nullptr)) != -1;) {
        switch (c) {
            case 'D': show_depends = true; break;
            case 'R': resolve_alias = true; break;
            case 'n': dry_run = true; break;
            case 'v': verbose = true; break;
            case 'd': root = optarg; break;
            case 'S': version = optarg; break;
            case 'C': config = optarg; break;
            default: return 1;
        }
    }
    if (!config.empty() && config != "/dev/null") {
        std::fprintf(stderr, "modprobe: ERROR: configuration files are not supported yet (%s)\n", config.c_str());
        return 1;
    }
    if (!show_depends && !resolve_alias && !dry_run) {
        std::fprintf(stderr, "modprobe: ERROR: loading kernel modules is not supported: use -D, -R or -n\n");
        return 1;
    }
    std::string dirname = module_directory(root, version);
    if (optind >= static_cast<int>(argv.size()) - 1) {
        std::fprintf(stderr, "modprobe: ERROR: missing parameters. See -h.\n");
        return 1;
    }
    auto index = index::ModuleIndex::open(dirname);
    int status = 0;
    for (int i = optind; i < static_cast<int>(argv.size()) - 1; ++i) {
        std::string name = argv[static_cast<std::size_t>(i)];
        auto found = index ? index->lookup(name) : std::vector<const index::IndexedModule*>();
        if (found.empty()) {
            std::fprintf(stderr, "modprobe: FATAL: Module %s not found in directory %s\n", name.c_str(),
                         dirname.c_str());
            status = 1;
            break;
        }
        if (resolve_alias) {
            for (const auto* m : found) std::printf("%s\n", m->name.c_str());
            continue;
        }
        if (dry_run && !verbose && !show_depends) continue;
        for (const auto* m : found) {
            for (const auto* p : index->probe_list(*m)) {
                if (p->builtin)
                    std::printf("builtin %s\n", p->name.c_str());
                else
                    std::printf("insmod %s \n", p->path.c_str());
            }
        }
    }
    return status;
}

}  // namespace umod::tool
