// umod reload -p PID [-f] [-w|--wait=MS] [--dry-run] MODULE FILE [name=value...]:
// replace a module of a live host by a new file, its dependents reloaded
// and rolled back on failure (docs/reloading.md). The kernel has no such
// command: a host must be given.
#include "live.h"

namespace umod::tool {

int reload_main(std::string_view, std::span<char* const> args) { return live_main("reload", args, nullptr); }

}  // namespace umod::tool
