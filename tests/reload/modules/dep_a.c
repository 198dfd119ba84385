/* A dependent of prov, with a parameter a reload must carry over. */
#include <umod/module.h>

extern int prov_value(void);

static int scale = 1;
module_param(scale, int, 0644);

int dep_a_call(void) { return prov_value() * scale; }
EXPORT_SYMBOL(dep_a_call);

static int dep_a_init(void) { return 0; }
static void dep_a_exit(void) {}
module_init(dep_a_init);
module_exit(dep_a_exit);
MODULE_LICENSE("GPL");
