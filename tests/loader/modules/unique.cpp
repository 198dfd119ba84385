// Built without umod's flags: an inline function's static variable becomes an
// STB_GNU_UNIQUE symbol, which keeps the module mapped after dlclose.
#include <umod/module.h>
inline int& unique_counter() {
    static int counter = 0;
    return counter;
}
extern "C" int unique_bump(void) { return ++unique_counter(); }
EXPORT_SYMBOL(unique_bump);
MODULE_LICENSE("GPL");
