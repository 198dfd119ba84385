// umod graph -p PID [--json|--dot]: a live host's whole module graph.
#include "live.h"

namespace umod::tool {

int graph_main(std::string_view, std::span<char* const> args) { return live_main("graph", args, nullptr); }

}  // namespace umod::tool
