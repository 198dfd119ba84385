// kmod's binary index (.bin) format: a radix trie of 7-bit keys, each node
// holding values sorted by priority. Written as kmod 30 writes it (children
// before their parent, the root last), big-endian throughout.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace umod::index {

class IndexBuilder {
public:
    IndexBuilder();
    ~IndexBuilder();
    IndexBuilder(IndexBuilder&&) noexcept;
    IndexBuilder& operator=(IndexBuilder&&) noexcept;
    // Adds `value` under `key`: before the first value of priority >= its own.
    void insert(std::string_view key, std::string_view value, std::uint32_t priority);
    // The file's bytes.
    std::string serialize() const;

    // kmod's wildcard search: the values of every stored key that, read as an
    // fnmatch(3) pattern, matches `key`, merged by priority (for equal
    // priorities, the one found last comes first), as libkmod's
    // index_searchwild finds them.
    std::vector<std::string> search_wild(std::string_view key) const;

    struct Node;

private:
    std::unique_ptr<Node> root_;
};

}  // namespace umod::index
