// C++: exports a function that throws, a typed export, a class with RTTI,
// and containers whose template code stays the module's own.
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <umod/module.h>

namespace thrower {

struct Shape {
    virtual ~Shape() = default;
    virtual int sides() const = 0;
};
struct Square final : Shape {
    int sides() const override { return 4; }
};

int add(int a, int b) { return a + b; }
EXPORT_SYMBOL(add);

int fail(int code) { throw std::runtime_error("thrower failed with " + std::to_string(code)); }
EXPORT_SYMBOL(fail);

Shape* make_square() { return new Square; }
EXPORT_SYMBOL(make_square);

int vector_sum(int n) {
    std::vector<int> values;
    std::map<int, std::string> names;
    for (int i = 1; i <= n; ++i) {
        values.push_back(i);
        names[i] = std::to_string(i);
    }
    int sum = 0;
    for (int v : values) sum += v;
    return sum + static_cast<int>(names.size()) * 0;
}
EXPORT_SYMBOL(vector_sum);

}  // namespace thrower

static int constructed = 0;
struct StaticProbe {
    StaticProbe() { constructed = 1; }
};
static StaticProbe probe;

extern "C" int thrower_constructed(void) { return constructed; }
EXPORT_SYMBOL(thrower_constructed);

MODULE_LICENSE("GPL");
