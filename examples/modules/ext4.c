/* Takes crc16 at run time with symbol_get: attributed to ext4. */
#include <umod/module.h>

extern int crc16(void);

/* Calls crc16 through a reference it takes and keeps. */
int ext4_grab(void) {
	int (*f)(void) = symbol_get(crc16);
	return f ? f() : -1;
}
EXPORT_SYMBOL(ext4_grab);

int ext4_release(void) {
	symbol_put(crc16);
	return 0;
}
EXPORT_SYMBOL(ext4_release);

MODULE_LICENSE("GPL");
