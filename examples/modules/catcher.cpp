// C++: calls thrower::fail and catches its exception across modules; checks
// RTTI across modules; uses the same templates as thrower.
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
int fail(int code);
Shape* make_square();
}  // namespace thrower

extern "C" int catcher_catches(void) {
    try {
        thrower::fail(7);
    } catch (const std::runtime_error& e) {
        return std::string(e.what()) == "thrower failed with 7" ? 1 : 2;
    }
    return 0;
}
EXPORT_SYMBOL(catcher_catches);

extern "C" int catcher_sides(void) {
    thrower::Shape* s = thrower::make_square();
    int sides = dynamic_cast<thrower::Shape*>(s) ? s->sides() : -1;
    delete s;
    return sides;
}
EXPORT_SYMBOL(catcher_sides);

extern "C" int catcher_vector(void) {
    std::vector<int> v{1, 2, 3};
    std::map<int, std::string> m{{1, "a"}};
    return static_cast<int>(v.size() + m.size());
}
EXPORT_SYMBOL(catcher_vector);

MODULE_LICENSE("GPL");

// A typed lookup by the C++ name: the type recorded at export must match.
extern "C" int catcher_typed(void) {
    auto* add = umod::symbol_get_typed<int(int, int)>("thrower::add");
    if (add == nullptr) return -1;
    int sum = add(2, 3);
    __umod_symbol_put("thrower::add", THIS_MODULE);
    auto* wrong = umod::symbol_get_typed<long(long)>("thrower::add");
    return wrong == nullptr ? sum : -2;
}
EXPORT_SYMBOL(catcher_typed);

// RAII: the reference lives as long as the handles; nothing to put by hand.
extern "C" int catcher_ref(void) {
    auto add = umod::symbol_ref<int(int, int)>("thrower::add");
    if (!add) return -1;
    auto copy = *add;  // a second reference
    return copy(20, 22);
}
EXPORT_SYMBOL(catcher_ref);
