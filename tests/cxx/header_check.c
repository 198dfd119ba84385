/* <umod/module.h> compiles cleanly as C11 with -Wall -Wextra -Wpedantic. */
#include <umod/module.h>

int header_check_value = 1;
EXPORT_SYMBOL(header_check_value);

static int header_check_count = 3;
module_param(header_check_count, int, 0444);
MODULE_PARM_DESC(header_check_count, "a count");

int header_check_twice(int x);
int header_check_twice(int x) { return 2 * x + header_check_count; }
EXPORT_SYMBOL_GPL(header_check_twice);

int header_check_use(void);
int header_check_use(void) {
	int (*twice)(int) = symbol_get(header_check_twice);
	int r = twice ? twice(1) : -1;
	symbol_put(header_check_twice);
	if (try_module_get(THIS_MODULE) == 0) module_put(THIS_MODULE);
	return r;
}

MODULE_LICENSE("GPL");
MODULE_AUTHOR("umod");
