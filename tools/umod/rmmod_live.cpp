// umod rmmod -p PID [-f] [-w|--wait=MS] MODULE: unload a module from a live host,
// refused while it is used, naming the holders; without a host, from the kernel.
#include "live.h"

namespace umod::tool {

// The kernel's side (no -p): kmod's rmmod, from the kmod issue (rmmod.cpp).
int rmmod_main(std::string_view prog, std::span<char* const> args);

int live_rmmod_main(std::string_view, std::span<char* const> args) { return live_main("rmmod", args, rmmod_main); }

}  // namespace umod::tool
