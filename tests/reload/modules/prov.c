/* The provider a reload replaces: PROV_VERSION says which code it is (what
 * prov_value returns), STATE_VERSION the version of the state it hands over
 * (a counter). Variants: NO_BUMP (an export missing), FAIL_INIT, FAIL_RESTORE,
 * NO_STATE (takes no state), NO_RESTORE (declares a state it cannot take). */
#include <umod/module.h>

#include <errno.h>
#include <string.h>

static long counter;

int prov_value(void) { return PROV_VERSION * 1000 + (int)counter; }
#ifdef VALUE_NS
EXPORT_SYMBOL_NS(prov_value, VALUE_NS);
#else
EXPORT_SYMBOL(prov_value);
#endif

#ifndef NO_BUMP
int prov_bump(void) { return (int)++counter; }
EXPORT_SYMBOL(prov_bump);
#endif

#ifndef NO_STATE
static long save(void *buffer, unsigned long size) {
	if (size >= sizeof counter) memcpy(buffer, &counter, sizeof counter);
	return sizeof counter;
}

static unsigned long restored_from;
unsigned long prov_restored_from(void) { return restored_from; }
EXPORT_SYMBOL(prov_restored_from);

#ifdef NO_RESTORE
MODULE_STATE(counter, STATE_VERSION, save, NULL);
#else
static int restore(const void *data, unsigned long size, unsigned long from_version) {
#ifdef FAIL_RESTORE
	(void)data, (void)size, (void)from_version;
	return -EPROTO;
#else
	if (size != sizeof counter) return -EINVAL;
	memcpy(&counter, data, sizeof counter);
	restored_from = from_version;
	return 0;
#endif
}
MODULE_STATE(counter, STATE_VERSION, save, restore);
#endif
#endif

static int prov_init(void) {
#ifdef FAIL_INIT
	return -EIO;
#else
	return 0;
#endif
}
static void prov_exit(void) {}
module_init(prov_init);
module_exit(prov_exit);
MODULE_NAME("prov");
MODULE_LICENSE("GPL");
