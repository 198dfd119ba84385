/* A plain shared object, built without <umod/module.h>: not a module. */
int plain_function(void) { return 1; }
