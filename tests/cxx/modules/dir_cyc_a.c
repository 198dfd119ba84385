/* With dir_cyc_b: two modules that import from each other. */
#include <umod/module.h>

extern int cyc_b_value(void);
int cyc_a_value(void) { return cyc_b_value() + 1; }
EXPORT_SYMBOL(cyc_a_value);

MODULE_LICENSE("GPL");
