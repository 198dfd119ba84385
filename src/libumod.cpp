// libumod.so is made of the layers' static libraries (linked whole); this
// file only gives the target a source of its own.
#include <umod/umod.h>
