#include "support/executable_path.h"

#include <unistd.h>

#include <climits>

namespace umod::support {

std::string executable_path() {
    char buffer[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buffer, sizeof buffer - 1);
    if (n <= 0) return {};
    return std::string(buffer, static_cast<std::size_t>(n));
}

}  // namespace umod::support
