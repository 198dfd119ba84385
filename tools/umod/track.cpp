// umod track -p PID [off|counts|stacks]: show or set a live host's tracking level.
#include "live.h"

namespace umod::tool {

int track_main(std::string_view, std::span<char* const> args) { return live_main("track", args, nullptr); }

}  // namespace umod::tool
