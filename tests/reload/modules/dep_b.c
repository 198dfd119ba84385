/* A second dependent: of prov (prov_bump) and of dep_a, so that a reload of
 * prov reloads it after dep_a. */
#include <umod/module.h>

extern int prov_bump(void);
extern int dep_a_call(void);

int dep_b_bump(void) { return prov_bump(); }
EXPORT_SYMBOL(dep_b_bump);
int dep_b_call(void) { return dep_a_call(); }
EXPORT_SYMBOL(dep_b_call);

static int dep_b_init(void) { return 0; }
static void dep_b_exit(void) {}
module_init(dep_b_init);
module_exit(dep_b_exit);
MODULE_LICENSE("GPL");
