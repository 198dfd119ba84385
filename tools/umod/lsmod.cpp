// umod lsmod — kmod 30's lsmod: the running kernel's modules (/proc/modules,
// newest first) with their size, use count and holders (/sys/module).
#include <cstdio>
#include <cstring>

#include "commands.h"
#include "index/kernel.h"
#include "kmod_log.h"

namespace umod::tool {

int lsmod_main(std::string_view prog, std::span<char* const> args) {
    if (!args.empty()) {
        std::fprintf(stderr, "Usage: %.*s\n", static_cast<int>(prog.size()), prog.data());
        return 1;
    }
    parse_kernel_cmdline_as_kmod_new();
    auto modules = index::kernel::loaded();
    if (!modules) {
        std::fprintf(stderr, "Error: could not get list of modules: %s\n", std::strerror(modules.error().code()));
        return 1;
    }
    std::puts("Module                  Size  Used by");
    for (const std::string& name : *modules) {
        auto refcnt = index::kernel::refcnt(name);
        auto size = index::kernel::size(name);
        std::printf("%-19s %8ld  %ld", name.c_str(), size ? *size : -static_cast<long>(size.error().code()),
                    refcnt ? *refcnt : -static_cast<long>(refcnt.error().code()));
        auto holders = index::kernel::holders(name);
        if (!holders) {
            libkmod_default_log(kLogErr, "../libkmod/libkmod-module.c:1998 kmod_module_get_holders",
                                "could not open '/sys/module/%s/holders': %s\n", name.c_str(),
                                std::strerror(holders.error().code()));
        } else {
            const char* sep = " ";
            for (const std::string& h : *holders) {
                std::printf("%s%s", sep, h.c_str());
                sep = ",";
            }
        }
        std::putchar('\n');
    }
    return 0;
}

}  // namespace umod::tool
