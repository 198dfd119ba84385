/* Links to crc32 at load time: a static use of crc. */
#include <umod/module.h>

extern int crc32(void);

int net_checksum(void) { return crc32() + 1000; }
EXPORT_SYMBOL(net_checksum);

MODULE_LICENSE("GPL");
