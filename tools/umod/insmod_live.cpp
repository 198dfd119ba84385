// umod insmod -p PID PATH [name=value...]: load a module file into a live host
// (its endpoint must allow managing); without a host, into the kernel.
#include "live.h"

namespace umod::tool {

// The kernel's side (no -p): kmod's insmod, from the kmod issue (insmod.cpp).
int insmod_main(std::string_view prog, std::span<char* const> args);

int live_insmod_main(std::string_view, std::span<char* const> args) { return live_main("insmod", args, insmod_main); }

}  // namespace umod::tool
