/* A provider: exports two checksums, one of them GPL-only. */
#include <umod/module.h>

int crc32(void) { return 32; }
EXPORT_SYMBOL(crc32);

int crc16(void) { return 16; }
EXPORT_SYMBOL_GPL(crc16);

static int crc_table_size(void) { return 256; } /* not exported */
int crc_internal(void) { return crc_table_size(); } /* defined, not exported */

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("checksums for the demo");
MODULE_ALIAS("checksum");
