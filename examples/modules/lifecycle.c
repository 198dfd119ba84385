/* init and exit, and a counter the host can read through call. */
#include <umod/module.h>

static int state;

static int lifecycle_init(void) {
	state = 42;
	return 0;
}
module_init(lifecycle_init);

static void lifecycle_exit(void) { state = 0; }
module_exit(lifecycle_exit);

int lifecycle_state(void) { return state; }
EXPORT_SYMBOL(lifecycle_state);

MODULE_LICENSE("Dual MIT/GPL");
MODULE_AUTHOR("umod");
MODULE_VERSION("1.0");
