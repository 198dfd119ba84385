/* The smallest useful module: init, exit, one export. */
#include <umod/module.h>

static int ready;
static int minimal_init(void) { ready = 1; return 0; }
module_init(minimal_init);
static void minimal_exit(void) { ready = 0; }
module_exit(minimal_exit);

int minimal_ready(void) { return ready; }
EXPORT_SYMBOL(minimal_ready);

MODULE_LICENSE("GPL");
