// Built WITHOUT umod's flags (default visibility, no -Bsymbolic): its
// template code is visible to the dynamic linker, so a second copy of this
// module binds to the first one's instantiations.
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
MODULE_LICENSE("GPL");
