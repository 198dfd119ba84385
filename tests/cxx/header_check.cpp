// <umod/module.h> compiles cleanly as C++17 and C++20 with -Wall -Wextra
// -Wpedantic, and in C++ a translation unit that includes it (a module that
// also hosts, or a test) can still call the host API's functions of the same
// names as the kernel's macros.
#include <umod/module.h>
#if __cplusplus >= 202002L
#include <umod/umod.h>
#endif

namespace header_check {

int twice(int x) { return 2 * x; }
EXPORT_SYMBOL(twice);

int use() {
    auto* f = symbol_get(twice);
    int r = f ? f(2) : -1;
    symbol_put(twice);
    auto* typed = umod::symbol_get_typed<int(int)>("header_check::twice");
    return r + (typed ? 1 : 0);
}
EXPORT_SYMBOL(use);

#if __cplusplus >= 202002L
// The host API next to the kernel's macros.
int host(umod::Registry& registry) {
    umod::User* me = registry.holder("check");
    auto got = registry.symbol_get("header_check::twice", me);
    if (!got) return -1;
    if (!registry.symbol_put("header_check::twice", me)) return -1;
    auto request = registry.symbol_request("header_check::twice", me);
    if (request) (void)registry.symbol_put_addr(*request, me);
    return 0;
}
#endif

}  // namespace header_check

MODULE_LICENSE("GPL");
