/* Imports from dir_cyc_a, which is in a cycle. */
#include <umod/module.h>

extern int cyc_a_value(void);
int cyc_user_value(void) { return cyc_a_value(); }
EXPORT_SYMBOL(cyc_user_value);

MODULE_LICENSE("GPL");
