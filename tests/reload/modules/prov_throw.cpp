// The provider with an init that throws (a C++ module).
#include <umod/module.h>

#include <cstring>
#include <stdexcept>

static long counter;

extern "C" int prov_value(void) { return 9000 + static_cast<int>(counter); }
EXPORT_SYMBOL(prov_value);
extern "C" int prov_bump(void) { return static_cast<int>(++counter); }
EXPORT_SYMBOL(prov_bump);

static long save(void *buffer, unsigned long size) {
	if (size >= sizeof counter) std::memcpy(buffer, &counter, sizeof counter);
	return sizeof counter;
}
static int restore(const void *data, unsigned long size, unsigned long) {
	if (size != sizeof counter) return -22;
	std::memcpy(&counter, data, sizeof counter);
	return 0;
}
MODULE_STATE(counter, 9, save, restore);

static int prov_init(void) { throw std::runtime_error("no version 9 today"); }
static void prov_exit(void) {}
module_init(prov_init);
module_exit(prov_exit);
MODULE_NAME("prov");
MODULE_LICENSE("GPL");
