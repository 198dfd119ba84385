// tracer: optional. Whoever finds it loaded may send it lines.
#include <umod/module.h>

#include <cstdio>
#include <string_view>

namespace tracer {

void trace(std::string_view line) {
    std::printf("[trace] %.*s\n", static_cast<int>(line.size()), line.data());
    std::fflush(stdout);
}
EXPORT_SYMBOL(trace);

}  // namespace tracer

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("prints what it is sent");
