/* Imports what nothing exports. */
#include <umod/module.h>

extern int nobody_exports_this(void);
int orphan_value(void) { return nobody_exports_this(); }
EXPORT_SYMBOL(orphan_value);

MODULE_LICENSE("GPL");
