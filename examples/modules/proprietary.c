/* Not GPL: may not link to or get crc16, which is GPL-only. */
#include <umod/module.h>

extern int crc16(void);

int proprietary_use(void) { return crc16(); }
EXPORT_SYMBOL(proprietary_use);

MODULE_LICENSE("Proprietary");
