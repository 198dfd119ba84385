/* Takes and drops a reference to minimal_ready n times, through the module
 * API (attributed to THIS_MODULE). */
#include <umod/module.h>

extern int minimal_ready(void);

int getput_loop(int n) {
	int sum = 0;
	for (int i = 0; i < n; ++i) {
		int (*f)(void) = symbol_get(minimal_ready);
		sum += f != 0;
		symbol_put(minimal_ready);
	}
	return sum;
}
EXPORT_SYMBOL(getput_loop);

MODULE_LICENSE("GPL");
