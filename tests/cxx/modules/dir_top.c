/* Links to dir_mid (and so, through it, needs dir_base first). */
#include <umod/module.h>

extern int dir_mid_value(void);
int dir_top_value(void) { return dir_mid_value() + 100; }
EXPORT_SYMBOL(dir_top_value);

MODULE_LICENSE("GPL");
