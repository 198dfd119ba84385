#include "index/index_file.h"

#include <fnmatch.h>

#include <map>

namespace umod::index {

namespace {

constexpr std::uint32_t kMagic = 0xB007F457;
constexpr std::uint32_t kVersion = 0x00020001;
constexpr std::uint32_t kHasPrefix = 0x80000000;
constexpr std::uint32_t kHasValues = 0x40000000;
constexpr std::uint32_t kHasChildren = 0x20000000;

void put32(std::string& out, std::uint32_t v) {
    out += static_cast<char>(v >> 24);
    out += static_cast<char>(v >> 16);
    out += static_cast<char>(v >> 8);
    out += static_cast<char>(v);
}

void patch32(std::string& out, std::size_t at, std::uint32_t v) {
    out[at] = static_cast<char>(v >> 24);
    out[at + 1] = static_cast<char>(v >> 16);
    out[at + 2] = static_cast<char>(v >> 8);
    out[at + 3] = static_cast<char>(v);
}

}  // namespace

struct IndexBuilder::Node {
    std::string prefix;
    std::vector<std::pair<std::uint32_t, std::string>> values;  // (priority, value), sorted
    std::map<unsigned char, std::unique_ptr<Node>> children;

    void add_value(std::string_view value, std::uint32_t priority) {
        auto it = values.begin();
        while (it != values.end() && it->first < priority) ++it;
        values.insert(it, {priority, std::string(value)});
    }

    // Writes the children, then this node; returns this node's reference.
    std::uint32_t write(std::string& out) const {
        std::map<unsigned char, std::uint32_t> child_refs;
        for (const auto& [c, child] : children) child_refs[c] = child->write(out);
        std::uint32_t offset = static_cast<std::uint32_t>(out.size());
        std::uint32_t flags = 0;
        if (!prefix.empty()) {
            flags |= kHasPrefix;
            out += prefix;
            out += '\0';
        }
        if (!children.empty()) {
            flags |= kHasChildren;
            unsigned char first = children.begin()->first, last = children.rbegin()->first;
            out += static_cast<char>(first);
            out += static_cast<char>(last);
            for (unsigned c = first; c <= last; ++c) {
                auto it = child_refs.find(static_cast<unsigned char>(c));
                put32(out, it == child_refs.end() ? 0 : it->second);
            }
        }
        if (!values.empty()) {
            flags |= kHasValues;
            put32(out, static_cast<std::uint32_t>(values.size()));
            for (const auto& [priority, value] : values) {
                put32(out, priority);
                out += value;
                out += '\0';
            }
        }
        return offset | flags;
    }
};

IndexBuilder::IndexBuilder() : root_(std::make_unique<Node>()) {}
IndexBuilder::~IndexBuilder() = default;
IndexBuilder::IndexBuilder(IndexBuilder&&) noexcept = default;
IndexBuilder& IndexBuilder::operator=(IndexBuilder&&) noexcept = default;

void IndexBuilder::insert(std::string_view key, std::string_view value, std::uint32_t priority) {
    Node* node = root_.get();
    std::size_t i = 0;
    for (;;) {
        // Match the node's prefix; split it where the key diverges.
        std::size_t j = 0;
        while (j < node->prefix.size() && i + j < key.size() && node->prefix[j] == key[i + j]) ++j;
        if (j < node->prefix.size()) {
            auto tail = std::make_unique<Node>();
            tail->prefix = node->prefix.substr(j + 1);
            tail->values = std::move(node->values);
            tail->children = std::move(node->children);
            node->values.clear();
            node->children.clear();
            unsigned char c = static_cast<unsigned char>(node->prefix[j]);
            node->prefix.resize(j);
            node->children[c] = std::move(tail);
        }
        i += j;
        if (i == key.size()) {
            node->add_value(value, priority);
            return;
        }
        unsigned char c = static_cast<unsigned char>(key[i]);
        auto it = node->children.find(c);
        if (it == node->children.end()) {
            auto leaf = std::make_unique<Node>();
            leaf->prefix = std::string(key.substr(i + 1));
            leaf->add_value(value, priority);
            node->children[c] = std::move(leaf);
            return;
        }
        node = it->second.get();
        ++i;
    }
}

std::string IndexBuilder::serialize() const {
    std::string out;
    put32(out, kMagic);
    put32(out, kVersion);
    put32(out, 0);  // the root's reference, patched once it is written
    patch32(out, 8, root_->write(out));
    return out;
}

}  // namespace umod::index

namespace umod::index {

namespace {

using Values = std::vector<std::pair<std::uint32_t, std::string>>;

void add_value(Values& out, std::uint32_t priority, const std::string& value) {
    auto it = out.begin();
    while (it != out.end() && it->first < priority) ++it;
    out.insert(it, {priority, value});
}

}  // namespace

struct WildSearch {
    using Node = IndexBuilder::Node;
    Values out;
    std::string buf;  // the stored key from the first wildcard on

    void add_all(const Node& n) {
        for (const auto& [priority, value] : n.values) add_value(out, priority, value);
    }

    // Level 3: every key below, matched with fnmatch against the rest of the query.
    void all(const Node& node, std::size_t j, const char* subkey) {
        std::size_t pushed = node.prefix.size() - j;
        buf.append(node.prefix, j, std::string::npos);
        for (const auto& [c, child] : node.children) {
            buf.push_back(static_cast<char>(c));
            all(*child, 0, subkey);
            buf.pop_back();
        }
        if (!node.values.empty() && fnmatch(buf.c_str(), subkey, 0) == 0) add_all(node);
        buf.resize(buf.size() - pushed);
    }

    // Level 2: descend by the query's characters until a wildcard.
    void descend(const Node* node, const char* key) {
        while (node != nullptr) {
            std::size_t j = 0;
            for (; j < node->prefix.size(); ++j) {
                char ch = node->prefix[j];
                if (ch == '*' || ch == '?' || ch == '[') {
                    all(*node, j, key + j);
                    return;
                }
                if (ch != key[j]) return;
            }
            key += j;
            for (unsigned char wild : {'*', '?', '['}) {
                if (auto it = node->children.find(wild); it != node->children.end()) {
                    buf.push_back(static_cast<char>(wild));
                    all(*it->second, 0, key);
                    buf.pop_back();
                }
            }
            if (*key == '\0') {
                add_all(*node);
                return;
            }
            auto it = node->children.find(static_cast<unsigned char>(*key));
            node = it == node->children.end() ? nullptr : it->second.get();
            ++key;
        }
    }
};

std::vector<std::string> IndexBuilder::search_wild(std::string_view key) const {
    WildSearch search;
    std::string query(key);
    search.descend(root_.get(), query.c_str());
    std::vector<std::string> values;
    for (auto& [priority, value] : search.out) values.push_back(std::move(value));
    return values;
}

}  // namespace umod::index
