/* A module whose code crashes, for the crash reporter: in init
 * (CRASH_IN_INIT), or in a function its export calls. */
#include <umod/module.h>

/* Null at run time; the compiler cannot tell. */
static volatile int *volatile target;

__attribute__((noinline)) static int poke(void) {
	*target = 1;
	return 0;
}

int crashing_call(void) { return poke() + 1; }
EXPORT_SYMBOL(crashing_call);

static int crashing_init(void) {
#ifdef CRASH_IN_INIT
	*target = 2;
#endif
	return 0;
}
static void crashing_exit(void) {}
module_init(crashing_init);
module_exit(crashing_exit);
MODULE_LICENSE("GPL");
