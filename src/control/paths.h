// Inside the control layer: the socket directory's upkeep.
#pragma once

#include <string>

namespace umod::control {

// Removes DIRECTORY/PID.sock for every PID that is no longer a process.
void remove_stale_sockets(const std::string& directory);

}  // namespace umod::control
