// Built WITHOUT umod's flags (default visibility, no -Bsymbolic): its
// template code is visible to the dynamic linker, so a second copy of this
// module binds to the first one's instantiations.
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <umod/module.h>
#ifndef TMPL_NAME
#error TMPL_NAME
#endif
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
extern "C" int CAT(TMPL_NAME, _fill)(int n) {
    std::vector<long> v;
    for (int i = 0; i < n; ++i) v.push_back(i);
    return static_cast<int>(v.size());
}
EXPORT_SYMBOL(CAT(TMPL_NAME, _fill));

// Its static constructor and destructor count their runs in the process's
// environment ("tmpl_a_constructed=1"), where the test reads them.
#define STR2(a) #a
#define STR(a) STR2(a)
static void count(const char* what) {
    const char* now = std::getenv(what);
    char next[16];
    std::snprintf(next, sizeof next, "%d", (now != nullptr ? std::atoi(now) : 0) + 1);
    setenv(what, next, 1);
}
__attribute__((constructor)) static void constructed() { count(STR(TMPL_NAME) "_constructed"); }
__attribute__((destructor)) static void destroyed() { count(STR(TMPL_NAME) "_destroyed"); }
MODULE_LICENSE("GPL");
