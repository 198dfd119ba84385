/* With dir_cyc_a: two modules that import from each other. */
#include <umod/module.h>

extern int cyc_a_value(void);
int cyc_b_value(void) { return cyc_a_value() + 1; }
EXPORT_SYMBOL(cyc_b_value);

MODULE_LICENSE("GPL");
