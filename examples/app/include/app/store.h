// The interface between the host and its plugins: a key/value store. The
// storage plugin implements it; the cache plugin and the host use stores that
// storage creates. Only this header is shared: each side has its own copy of
// the inline parts (plugins are built with hidden visibility).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace app {

class Store {
public:
    virtual ~Store() = default;
    // False when the store is full (see storage's parameter `capacity`).
    virtual bool put(std::string_view key, std::string value) = 0;
    virtual std::optional<std::string> get(std::string_view key) const = 0;
    virtual std::size_t size() const = 0;
    virtual std::string name() const = 0;
};

}  // namespace app
