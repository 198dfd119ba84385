// umod holders -p PID MODULE [--json]: who holds MODULE in a live host: static
// uses, references per symbol, and where they were taken at the stacks level.
#include "live.h"

namespace umod::tool {

int holders_main(std::string_view, std::span<char* const> args) { return live_main("holders", args, nullptr); }

}  // namespace umod::tool
