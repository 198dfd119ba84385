// Objects made by module code that outlive the factory call: a polymorphic
// one (its code is this module's) and a plain one.
#include <umod/module.h>

#include "shape.h"

#include <memory>
#include <string>

namespace factory {

namespace {
class Circle final : public Shape {
public:
    explicit Circle(int* destroyed) : destroyed_(destroyed) {}
    ~Circle() override { ++*destroyed_; }
    Circle(const Circle&) = delete;
    Circle& operator=(const Circle&) = delete;
    std::string name() const override { return "circle"; }

private:
    int* destroyed_;
};
}  // namespace

// `destroyed` is raised when the circle is destroyed.
std::unique_ptr<Shape> make_circle(int* destroyed) { return std::make_unique<Circle>(destroyed); }
EXPORT_SYMBOL(make_circle);

std::unique_ptr<Plain> make_plain(int value) { return std::make_unique<Plain>(Plain{value}); }
EXPORT_SYMBOL(make_plain);

}  // namespace factory

MODULE_LICENSE("GPL");
