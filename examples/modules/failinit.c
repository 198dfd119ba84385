/* Its init fails: the load is rolled back completely. */
#include <errno.h>
#include <umod/module.h>

extern int crc32(void);

static int failinit_init(void) {
	(void)symbol_get(crc32); /* taken, then released by the rollback */
	return -ENODEV;
}
module_init(failinit_init);

static void failinit_exit(void) {}
module_exit(failinit_exit);

MODULE_LICENSE("GPL");
