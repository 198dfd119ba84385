/* Parameters set at load: insmod params.so count=5 name=demo verbose=1 */
#include <umod/module.h>

static int count = 1;
module_param(count, int, 0444);
MODULE_PARM_DESC(count, "how many");

static char *name = "nobody";
module_param(name, charp, 0444);

static _Bool verbose;
module_param(verbose, bool, 0644);

static unsigned long limit = 10;
module_param(limit, ulong, 0444);

int params_count(void) { return count; }
EXPORT_SYMBOL(params_count);
int params_name_length(void) {
	int n = 0;
	while (name[n]) n++;
	return n;
}
EXPORT_SYMBOL(params_name_length);
int params_verbose(void) { return verbose; }
EXPORT_SYMBOL(params_verbose);

MODULE_LICENSE("GPL");
