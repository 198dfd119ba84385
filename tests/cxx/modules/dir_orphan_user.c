/* Imports from dir_orphan, which cannot load. */
#include <umod/module.h>

extern int orphan_value(void);
int orphan_user_value(void) { return orphan_value(); }
EXPORT_SYMBOL(orphan_user_value);

MODULE_LICENSE("GPL");
