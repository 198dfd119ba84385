// Built without umod's flags: an inline function's static variable becomes an
// STB_GNU_UNIQUE symbol under GCC (Clang makes it weak). The dynamic linker
// marks the first object to supply a unique symbol NODELETE: the loader's copy
// binds the module to its own (loader/checked_module.cpp), so it unmaps. The
// second counter is unique with either compiler, defined in assembly.
#include <umod/module.h>
inline int& unique_counter() {
    static int counter = 0;
    return counter;
}
__asm__(".pushsection .data.unique_asm_counter,\"aw\",@progbits\n"
        ".type unique_asm_counter, @gnu_unique_object\n"
        ".size unique_asm_counter, 4\n"
        "unique_asm_counter: .long 0\n"
        ".popsection");
extern "C" int unique_asm_counter;
extern "C" int unique_bump(void) { return ++unique_counter() + ++unique_asm_counter * 100; }
EXPORT_SYMBOL(unique_bump);
MODULE_LICENSE("GPL");
