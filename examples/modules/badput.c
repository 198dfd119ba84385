/* Links to crc32, then puts it without a get: caught at the put, and the
 * static use survives. */
#include <umod/module.h>

extern int crc32(void);

int badput_use(void) { return crc32(); }
EXPORT_SYMBOL(badput_use);

int badput_put(void) {
	symbol_put(crc32);
	return 0;
}
EXPORT_SYMBOL(badput_put);

MODULE_LICENSE("GPL");
