// The interface of the factory module's objects, shared with the test host.
#pragma once

#include <string>

namespace factory {

struct Shape {
    virtual ~Shape() = default;
    virtual std::string name() const = 0;
};

// Not polymorphic: module_shared needs an address in its module.
struct Plain {
    int value = 0;
};

}  // namespace factory
