/* Imports crc_internal, which crc defines but does not export. */
#include <umod/module.h>
extern int crc_internal(void);
int sneaky(void) { return crc_internal(); }
EXPORT_SYMBOL(sneaky);
MODULE_LICENSE("GPL");
