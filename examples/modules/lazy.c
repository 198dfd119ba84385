/* Takes crc32 with symbol_request: when the host serves requests from a
 * module tree (umod::ModuleTree), crc is loaded on first use. lazy does not
 * link to crc: symbol_request names crc32 without referencing it. */
#include <umod/module.h>

extern int crc32(void);

int lazy_crc(void) {
	int (*f)(void) = symbol_request(crc32);
	int v = f ? f() : -1;
	if (f)
		symbol_put(crc32);
	return v;
}
EXPORT_SYMBOL(lazy_crc);

MODULE_LICENSE("GPL");
