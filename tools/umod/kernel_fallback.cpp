// The kernel's side of lsmod, insmod and rmmod (no -p) belongs to the kmod
// issue, in lsmod.cpp, insmod.cpp and rmmod.cpp. Until those are in the tree
// these weak definitions stand in for them and say so; the real ones, when
// linked, replace them (delete this file then).
#include <cstdio>

#include "commands.h"

namespace umod::tool {

namespace {
int not_yet(std::string_view prog) {
    std::fprintf(stderr,
                 "umod %.*s: the kernel's modules are not supported yet; give a live host with -p PID or "
                 "--host SOCKET (umod ps lists them)\n",
                 static_cast<int>(prog.size()), prog.data());
    return 1;
}
}  // namespace

[[gnu::weak]] int lsmod_main(std::string_view prog, std::span<char* const>) { return not_yet(prog); }
[[gnu::weak]] int insmod_main(std::string_view prog, std::span<char* const>) { return not_yet(prog); }
[[gnu::weak]] int rmmod_main(std::string_view prog, std::span<char* const>) { return not_yet(prog); }

}  // namespace umod::tool
