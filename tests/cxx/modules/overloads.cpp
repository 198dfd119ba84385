// Overloads, each exported by naming its type.
#include <umod/module.h>

namespace ov {

int scale(int x) { return 2 * x; }
double scale(double x) { return x / 2; }
EXPORT_SYMBOL_TYPED(scale, int(int));
EXPORT_SYMBOL_TYPED(scale, double(double));

}  // namespace ov

MODULE_LICENSE("GPL");
