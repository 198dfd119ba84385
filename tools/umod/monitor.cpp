// umod monitor -p PID [--json] [-n COUNT]: a live host's events (load, unload,
// get, put, leak, unmatched put) as they happen, one per line.
#include "live.h"

namespace umod::tool {

int monitor_main(std::string_view, std::span<char* const> args) { return live_main("monitor", args, nullptr); }

}  // namespace umod::tool
