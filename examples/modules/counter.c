/* A provider a reload replaces (examples/demo.umod): it counts hits and hands
 * the count over to its next version (MODULE_STATE). Built three times from
 * this file, all module "counter": counter.so (COUNTER_VERSION 1),
 * counter_v2.so (2), counter_broken.so (2, its init fails). */
#include <umod/module.h>

#include <errno.h>
#include <string.h>

static long hits;

/* The version's code, visible in the result: version * 1000 + hits. */
int counter_hit(void) { return COUNTER_VERSION * 1000 + (int)++hits; }
EXPORT_SYMBOL(counter_hit);

static long save_hits(void *buffer, unsigned long size) {
	if (size >= sizeof hits) memcpy(buffer, &hits, sizeof hits);
	return sizeof hits;
}
static int restore_hits(const void *data, unsigned long size, unsigned long from_version) {
	(void)from_version; /* every version keeps the count the same way */
	if (size != sizeof hits) return -EINVAL;
	memcpy(&hits, data, sizeof hits);
	return 0;
}
MODULE_STATE(hits, 1, save_hits, restore_hits);

static int counter_init(void) {
#ifdef COUNTER_FAIL_INIT
	return -EIO;
#else
	return 0;
#endif
}
static void counter_exit(void) {}
module_init(counter_init);
module_exit(counter_exit);
MODULE_NAME("counter");
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("a hit counter that survives its reloads");
