/* Links to dir_base. */
#include <umod/module.h>

extern int dir_base_value(void);
int dir_mid_value(void) { return dir_base_value() + 10; }
EXPORT_SYMBOL(dir_mid_value);

MODULE_LICENSE("GPL");
