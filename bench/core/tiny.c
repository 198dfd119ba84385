/* A tiny shared object for the dlsym baseline. */
int tiny_function_for_lookup(int x) { return x + 1; }
int tiny_other_function(int x) { return x * 2; }
