/* Every kind of declaration the metadata reader names, a parameter of each
 * type, and a static constructor that must never run while the file is only
 * read (it aborts unless the process asked for it to run). */
#include <umod/module.h>

#include <stdlib.h>

__attribute__((constructor)) static void never_while_reading(void) {
	if (getenv("EVERYTHING_MAY_RUN") == NULL) abort();
}

static _Bool flag = 1;
module_param(flag, bool, 0444);
MODULE_PARM_DESC(flag, "a bool");
static int level = -3;
module_param(level, int, 0444);
MODULE_PARM_DESC(level, "an int");
static unsigned int mask = 7;
module_param(mask, uint, 0444);
static short small = -2;
module_param(small, short, 0444);
static unsigned short port = 8080;
module_param(port, ushort, 0444);
static long offset = -5000000000L;
module_param(offset, long, 0444);
static unsigned long limit = 10000000000UL;
module_param(limit, ulong, 0444);
static char *label = "default label";
module_param(label, charp, 0444);
MODULE_PARM_DESC(label, "a charp with a default");
static char *unset;
module_param(unset, charp, 0444);
static int everything_verbosity = 1;
module_param_named(verbosity, everything_verbosity, int, 0644);
MODULE_PARM_DESC(verbosity, "an int under another name than its variable");

int everything_level(void) { return level; }
EXPORT_SYMBOL(everything_level);
/* Module code changing its own parameter: what the host reads next. */
void everything_set_level(int value) { level = value; }
EXPORT_SYMBOL(everything_set_level);
int everything_secret(void) { return 42; }
EXPORT_SYMBOL_GPL(everything_secret);
int everything_spaced(void) { return 1; }
EXPORT_SYMBOL_NS(everything_spaced, EVERYTHING);

MODULE_LICENSE("GPL");
MODULE_VERSION("1.2.3");
MODULE_DESCRIPTION("every declaration");
MODULE_AUTHOR("First Author <first@example.org>");
MODULE_AUTHOR("Second Author");
MODULE_ALIAS("everything-alias");
MODULE_ALIAS("symbol-free");
MODULE_SOFTDEP("pre: storage");
MODULE_IMPORT_NS(OTHER);
MODULE_INFO(depends, "storage,cache");
