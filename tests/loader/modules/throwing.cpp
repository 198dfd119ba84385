// A module whose init, exit or static constructor throws (THROW_IN_INIT,
// THROW_IN_EXIT, THROW_IN_CONSTRUCTOR), for the loader's boundary.
#include <stdexcept>

#include <umod/module.h>

#ifdef THROW_IN_CONSTRUCTOR
struct Throws {
    Throws() { throw std::runtime_error("constructor of a static object failed"); }
};
static Throws throws;
#endif

static int throwing_init(void) {
#ifdef THROW_IN_INIT
    throw std::runtime_error("init could not start");
#endif
    return 0;
}
static void throwing_exit(void) {
#ifdef THROW_IN_EXIT
    throw std::logic_error("exit could not stop");
#endif
}
module_init(throwing_init);
module_exit(throwing_exit);
MODULE_LICENSE("GPL");
