/* A directory of plugins: the base every other one links to. */
#include <umod/module.h>

int dir_base_value(void) { return 1; }
EXPORT_SYMBOL(dir_base_value);

MODULE_LICENSE("GPL");
