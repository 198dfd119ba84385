/* Linked with -z nodelete (DF_1_NODELETE): the dynamic linker never unmaps it.
 * The loader warns at load and the unload says why it stayed. */
#include <umod/module.h>
int nodelete_answer(void) { return 42; }
EXPORT_SYMBOL(nodelete_answer);
MODULE_LICENSE("GPL");
