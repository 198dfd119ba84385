// Reading one holder's counts in a test.
#pragma once

#include <umod/umod.h>

#include <string_view>

#include <gtest/gtest.h>

namespace umod::testing {

// `user`'s counts on `provider` (all zero when it holds nothing); a test
// failure when `provider` is not loaded.
inline HolderCounts holder_of(Registry& registry, std::string_view provider, std::string_view user) {
    auto holders = registry.holders(provider);
    EXPECT_TRUE(holders) << (holders ? "" : holders.error().message());
    if (!holders) return {};
    for (const auto& h : *holders)
        if (h.user == user) return h;
    return {};
}

}  // namespace umod::testing
