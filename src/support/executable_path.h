// The running program's file, as the kernel names it (/proc/self/exe): an
// absolute path with no symbolic links left in it.
#pragma once

#include <string>

namespace umod::support {

// Empty, with errno set, when /proc/self/exe cannot be read (no /proc).
std::string executable_path();

}  // namespace umod::support
