// umod lsmod -p PID [--json]: a live host's modules, as lsmod lists them;
// without a host, the running kernel's (kmod's lsmod).
#include "live.h"

namespace umod::tool {

// The kernel's side (no -p): kmod's lsmod, from the kmod issue (lsmod.cpp).
int lsmod_main(std::string_view prog, std::span<char* const> args);

int live_lsmod_main(std::string_view, std::span<char* const> args) { return live_main("lsmod", args, lsmod_main); }

}  // namespace umod::tool
