/* Takes crc16 at run time with symbol_get: attributed to ext4. At the stacks
 * tracking level, reports show where: in grab, a function ext4 does not
 * export (named from the module's symbol table). */
#include <umod/module.h>

extern int crc16(void);

static int grabbed; /* references held; atomic: ext4 is called from many threads */

/* Takes a reference to crc16 and keeps it. Not inlined, and not a tail call,
 * so that it has a frame of its own in recorded stacks. */
__attribute__((noinline)) static int (*grab(void))(void) {
	int (*f)(void) = symbol_get(crc16);
	if (f)
		__atomic_add_fetch(&grabbed, 1, __ATOMIC_RELAXED);
	return f;
}

/* Calls crc16 through a reference it takes and keeps. */
int ext4_grab(void) {
	int (*f)(void) = grab();
	return f ? f() : -1;
}
EXPORT_SYMBOL(ext4_grab);

int ext4_release(void) {
	symbol_put(crc16);
	__atomic_sub_fetch(&grabbed, 1, __ATOMIC_RELAXED);
	return 0;
}
EXPORT_SYMBOL(ext4_release);

MODULE_LICENSE("GPL");
