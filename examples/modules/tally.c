/* Links to counter_hit at load time: a reload of counter unloads tally first
 * and loads it again afterwards, bound to the new version. */
#include <umod/module.h>

extern int counter_hit(void);

int tally_hit(void) { return counter_hit(); }
EXPORT_SYMBOL(tally_hit);

MODULE_LICENSE("GPL");
