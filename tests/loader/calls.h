// Calling a module's export from a test, as a named holder would.
#pragma once

#include <umod/umod.h>

#include <string>

#include <gtest/gtest.h>

namespace umod::testing {

// Calls `symbol` as int(void), holding a reference (holder "test") meanwhile;
// -1, with a test failure, when it cannot be had or put back.
inline int call_export(Registry& registry, const std::string& symbol) {
    User* me = registry.holder("test");
    auto f = registry.symbol_get(symbol, me);
    EXPECT_TRUE(f) << (f ? "" : f.error().message());
    if (!f) return -1;
    int result = reinterpret_cast<int (*)()>(*f)();
    EXPECT_TRUE(registry.symbol_put(symbol, me));
    return result;
}

}  // namespace umod::testing
