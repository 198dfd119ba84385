/* No MODULE_LICENSE: loads, with a warning, and taints (P) as in the kernel. */
#include <umod/module.h>

int nolicense_answer(void) { return 42; }
EXPORT_SYMBOL(nolicense_answer);
