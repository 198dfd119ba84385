#include "index/index_file.h"

#include <fcntl.h>

#include "support/mapped_file.h"

#include <fnmatch.h>

#include <cstdio>
#include <cstring>
#include <algorithm>
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

// The entries are kept flat (keys and values end to end in one string) and
// the trie is made only when the file is written: sorted by key, each run of
// keys sharing a prefix is one node. This writes the trie kmod 30 builds by
// inserting key after key (the root without a prefix, every other node's
// prefix as long as its keys share it, children in byte order, each node's
// values by priority and, for equal priorities, the value added last first),
// without a node object per trie node.
struct IndexBuilder::Entry {
    std::uint32_t key_offset;
    std::uint32_t key_size;
    std::uint32_t value_offset;
    std::uint32_t value_size;
    std::uint32_t priority;
    std::uint32_t sequence;  // insertion order
};

IndexBuilder::IndexBuilder() = default;
IndexBuilder::~IndexBuilder() = default;
IndexBuilder::IndexBuilder(IndexBuilder&&) noexcept = default;
IndexBuilder& IndexBuilder::operator=(IndexBuilder&&) noexcept = default;

void IndexBuilder::insert(std::string_view key, std::string_view value, std::uint32_t priority) {
    Entry e{static_cast<std::uint32_t>(strings_.size()), static_cast<std::uint32_t>(key.size()), 0,
            static_cast<std::uint32_t>(value.size()), priority, static_cast<std::uint32_t>(entries_.size())};
    strings_ += key;
    e.value_offset = static_cast<std::uint32_t>(strings_.size());
    strings_ += value;
    entries_.push_back(e);
}

namespace {

// Writes the trie of sorted entries, children before their parent.
class TrieWriter {
public:
    using Entry = IndexBuilder::Entry;
    TrieWriter(const std::string& strings, const std::vector<Entry>& entries, std::string& out)
        : strings_(strings), entries_(entries), out_(out) {}

    std::string_view key(std::size_t i) const {
        return std::string_view(strings_).substr(entries_[i].key_offset, entries_[i].key_size);
    }

    // The node for entries [lo, hi), whose keys share their first `depth`
    // bytes (and, below the root, the byte before); its reference.
    std::uint32_t write(std::size_t lo, std::size_t hi, std::size_t depth, bool root) {
        std::size_t end = depth;  // the node's prefix: [depth, end)
        if (!root && lo < hi) {
            std::string_view first = key(lo), last = key(hi - 1);
            while (end < first.size() && end < last.size() && first[end] == last[end]) ++end;
        }
        std::size_t values_end = lo;
        while (values_end < hi && key(values_end).size() == end) ++values_end;
        // Children by their byte, in order; then this node.
        std::vector<std::pair<unsigned char, std::uint32_t>> children;
        for (std::size_t i = values_end; i < hi;) {
            unsigned char c = static_cast<unsigned char>(key(i)[end]);
            std::size_t j = i + 1;
            while (j < hi && static_cast<unsigned char>(key(j)[end]) == c) ++j;
            children.emplace_back(c, write(i, j, end + 1, false));
            i = j;
        }
        std::uint32_t offset = static_cast<std::uint32_t>(out_.size());
        std::uint32_t flags = 0;
        if (end > depth) {
            flags |= kHasPrefix;
            out_ += key(lo).substr(depth, end - depth);
            out_ += '\0';
        }
        if (!children.empty()) {
            flags |= kHasChildren;
            unsigned first = children.front().first, last = children.back().first;
            out_ += static_cast<char>(first);
            out_ += static_cast<char>(last);
            auto child = children.begin();
            for (unsigned c = first; c <= last; ++c) {
                if (child->first == c)
                    put32(out_, (child++)->second);
                else
                    put32(out_, 0);
            }
        }
        if (values_end > lo) {
            flags |= kHasValues;
            put32(out_, static_cast<std::uint32_t>(values_end - lo));
            for (std::size_t i = lo; i < values_end; ++i) {
                put32(out_, entries_[i].priority);
                out_.append(strings_, entries_[i].value_offset, entries_[i].value_size);
                out_ += '\0';
            }
        }
        return offset | flags;
    }

private:
    const std::string& strings_;
    const std::vector<Entry>& entries_;
    std::string& out_;
};

}  // namespace

std::string IndexBuilder::serialize() const {
    std::vector<Entry> sorted = entries_;
    std::string_view strings = strings_;
    std::sort(sorted.begin(), sorted.end(), [strings](const Entry& a, const Entry& b) {
        int order = strings.substr(a.key_offset, a.key_size).compare(strings.substr(b.key_offset, b.key_size));
        if (order != 0) return order < 0;
        if (a.priority != b.priority) return a.priority < b.priority;
        return a.sequence > b.sequence;
    });
    std::string out;
    out.reserve(12 + strings_.size() + 16 * entries_.size());
    put32(out, kMagic);
    put32(out, kVersion);
    put32(out, 0);  // the root's reference, patched once it is written
    patch32(out, 8, TrieWriter(strings_, sorted, out).write(0, sorted.size(), 0, true));
    return out;
}

}  // namespace umod::index

// ---- Reading: IndexReader ---------------------------------------------------

namespace umod::index {

void describe_error(const IndexFormatError& e, std::string& out) {
    char hex[16];
    out += e.path;
    switch (e.kind) {
        case IndexFormatError::Kind::TooShort:
            out += ": not a kmod index (shorter than its 12-byte header)";
            break;
        case IndexFormatError::Kind::BadMagic:
            std::snprintf(hex, sizeof hex, "%x", e.found);
            out += ": not a kmod index (magic ";
            out += hex;
            out += ", expected b007f457)";
            break;
        case IndexFormatError::Kind::BadVersion:
            out += ": kmod index of unsupported major version " + std::to_string(e.found) + " (expected 2)";
            break;
        case IndexFormatError::Kind::BadNode:
            std::snprintf(hex, sizeof hex, "0x%x", e.offset);
            out += ": corrupt kmod index: node at offset ";
            out += hex;
            out += ": " + e.what;
            break;
    }
}

namespace {

std::uint32_t get32(const std::byte* p) {
    return std::uint32_t(std::to_integer<unsigned char>(p[0])) << 24 |
           std::uint32_t(std::to_integer<unsigned char>(p[1])) << 16 |
           std::uint32_t(std::to_integer<unsigned char>(p[2])) << 8 | std::to_integer<unsigned char>(p[3]);
}

constexpr std::uint32_t kOffsetMask = 0x0FFFFFFF;
// Deeper than any key kmod writes (keys are module names, aliases and
// symbols, all far below PATH_MAX): a deeper trie is a loop.
constexpr std::size_t kMaxDepth = 4096;

}  // namespace

// One node, every field checked against the file's bounds when read.
struct IndexReader::Node {
    std::uint32_t offset = 0;
    std::string_view prefix;
    unsigned first = 1, last = 0;        // no children when first > last
    const std::byte* children = nullptr;  // (last - first + 1) big-endian u32 references
    std::uint32_t value_count = 0;
    const std::byte* values = nullptr;  // value_count times: u32 priority, NUL-terminated string
};

// A walk over one reader: node reads, the visit budget that bounds a walk of
// a corrupt (cyclic) trie, and the searches and dump libkmod does.
struct IndexWalk {
    const IndexReader& reader;
    std::size_t budget;  // nodes a walk may still read: a sound trie has fewer nodes than bytes

    explicit IndexWalk(const IndexReader& r) : reader(r), budget(r.bytes_.size() + 1) {}

    Error bad(std::uint32_t offset, std::string what) const {
        return Error::with(EINVAL, IndexFormatError{reader.path_, IndexFormatError::Kind::BadNode, 0, offset,
                                                    std::move(what)});
    }

    // The node `ref` refers to (flags in the top bits, offset below); nullopt
    // for the null reference.
    Expected<std::optional<IndexReader::Node>> read(std::uint32_t ref) {
        std::uint32_t offset = ref & kOffsetMask;
        if (offset == 0) return std::optional<IndexReader::Node>();
        if (budget == 0) return bad(offset, "the trie has more nodes than the file has bytes (a loop)");
        --budget;
        const std::byte* base = reader.bytes_.data();
        std::size_t size = reader.bytes_.size();
        // A node may end the file with nothing in it: kmod's depmod writes an
        // index with no keys as a 12-byte header whose root points at its end.
        if (offset > size || (offset == size && (ref & ~kOffsetMask) != 0))
            return bad(offset, "offset past the end of the file (" + std::to_string(size) + " bytes)");
        IndexReader::Node n;
        n.offset = offset;
        std::size_t at = offset;
        if (ref & kHasPrefix) {
            const void* nul = std::memchr(base + at, 0, size - at);
            if (nul == nullptr) return bad(offset, "prefix runs past the end of the file");
            std::size_t len = static_cast<std::size_t>(static_cast<const std::byte*>(nul) - (base + at));
            n.prefix = std::string_view(reinterpret_cast<const char*>(base + at), len);
            at += len + 1;
        }
        if (ref & kHasChildren) {
            if (size - at < 2) return bad(offset, "child range runs past the end of the file");
            n.first = std::to_integer<unsigned>(base[at]);
            n.last = std::to_integer<unsigned>(base[at + 1]);
            at += 2;
            if (n.first > n.last) return bad(offset, "child range is empty (first > last)");
            std::size_t table = (std::size_t{n.last} - n.first + 1) * 4;
            if (size - at < table) return bad(offset, "child table runs past the end of the file");
            n.children = base + at;
            at += table;
        }
        if (ref & kHasValues) {
            if (size - at < 4) return bad(offset, "value count runs past the end of the file");
            n.value_count = get32(base + at);
            at += 4;
            n.values = base + at;
            // Each value takes at least 5 bytes: check the count before walking.
            if (n.value_count > (size - at) / 5) return bad(offset, "more values than the file can hold");
            for (std::uint32_t i = 0; i < n.value_count; ++i) {
                at += 4;
                const void* nul = std::memchr(base + at, 0, size - at);
                if (nul == nullptr) return bad(offset, "value runs past the end of the file");
                at = static_cast<std::size_t>(static_cast<const std::byte*>(nul) - base) + 1;
                if (i + 1 < n.value_count && size - at < 5) return bad(offset, "values run past the end of the file");
            }
        }
        return std::optional<IndexReader::Node>(n);
    }

    // The child of `n` at character `c`, if any (a character outside the
    // node's range, or one kmod's signed char cannot index, has none).
    Expected<std::optional<IndexReader::Node>> child(const IndexReader::Node& n, unsigned char c) {
        if (c >= 128 || c < n.first || c > n.last) return std::optional<IndexReader::Node>();
        return read(get32(n.children + (c - n.first) * 4));
    }

    template <class F>
    static void for_each_value(const IndexReader::Node& n, F&& f) {  // the node was checked by read()
        const std::byte* p = n.values;
        for (std::uint32_t i = 0; i < n.value_count; ++i) {
            std::uint32_t priority = get32(p);
            const char* s = reinterpret_cast<const char*>(p + 4);
            std::size_t len = std::strlen(s);
            f(priority, std::string_view(s, len));
            p += 4 + len + 1;
        }
    }

    static void add_sorted(std::vector<IndexValue>& out, std::uint32_t priority, std::string_view value) {
        auto it = out.begin();
        while (it != out.end() && it->priority < priority) ++it;
        out.insert(it, IndexValue{priority, value});
    }

    // index_mm_searchwild_all: every key below `n` (from its prefix's
    // character `j` on), fnmatch'ed against the rest of the query.
    Status wild_all(const IndexReader::Node& n, std::size_t j, std::string& buf, const std::string& subkey,
                    std::vector<IndexValue>& out, std::size_t depth) {
        if (depth > kMaxDepth) return bad(n.offset, "trie deeper than " + std::to_string(kMaxDepth) + " levels");
        std::size_t pushed = n.prefix.size() - j;
        buf.append(n.prefix.substr(j));
        for (unsigned c = n.first; c <= n.last; ++c) {
            auto child = this->child(n, static_cast<unsigned char>(c));
            if (!child) return child.error();
            if (!*child) continue;
            buf.push_back(static_cast<char>(c));
            if (Status s = wild_all(**child, 0, buf, subkey, out, depth + 1); !s) return s;
            buf.pop_back();
        }
        if (n.value_count > 0 && fnmatch(buf.c_str(), subkey.c_str(), 0) == 0)
            for_each_value(n, [&](std::uint32_t p, std::string_view v) { add_sorted(out, p, v); });
        buf.resize(buf.size() - pushed);
        return {};
    }
};

Expected<IndexReader> IndexReader::parse(std::span<const std::byte> bytes, std::string name) {
    if (bytes.size() < 12)
        return Error::with(EINVAL, IndexFormatError{std::move(name), IndexFormatError::Kind::TooShort, 0, 0, {}});
    std::uint32_t magic = get32(bytes.data()), version = get32(bytes.data() + 4);
    if (magic != kIndexMagic)
        return Error::with(EINVAL, IndexFormatError{std::move(name), IndexFormatError::Kind::BadMagic, magic, 0, {}});
    if (version >> 16 != kIndexMajorVersion)
        return Error::with(EINVAL,
                           IndexFormatError{std::move(name), IndexFormatError::Kind::BadVersion, version >> 16, 0, {}});
    return IndexReader(nullptr, bytes, std::move(name), get32(bytes.data() + 8));
}

Expected<IndexReader> IndexReader::open(const std::string& path) { return open_at(AT_FDCWD, path.c_str(), path); }

Expected<IndexReader> IndexReader::open_at(int dirfd, const char* name, const std::string& path) {
    auto file = support::MappedFile::map_at(dirfd, name, path);
    if (!file) return file.error();
    if (file->bytes().size() < 12)
        return Error::with(EINVAL, IndexFormatError{path, IndexFormatError::Kind::TooShort, 0, 0, {}});
    auto mapping = std::make_shared<const support::MappedFile>(std::move(*file));
    auto reader = parse(mapping->bytes(), path);
    if (!reader) return reader.error();
    reader->owner_ = std::move(mapping);
    return reader;
}

Expected<std::optional<std::string_view>> IndexReader::search(std::string_view key) const {
    IndexWalk walk(*this);
    auto node = walk.read(root_);
    std::size_t i = 0;
    while (true) {
        if (!node) return node.error();
        if (!*node) return std::optional<std::string_view>();
        const Node& n = **node;
        for (std::size_t j = 0; j < n.prefix.size(); ++j)
            if (i + j >= key.size() || n.prefix[j] != key[i + j]) return std::optional<std::string_view>();
        i += n.prefix.size();
        if (i == key.size()) {
            std::optional<std::string_view> first;
            if (n.value_count > 0)
                IndexWalk::for_each_value(n, [&](std::uint32_t, std::string_view v) {
                    if (!first) first = v;
                });
            return first;
        }
        node = walk.child(n, static_cast<unsigned char>(key[i]));
        ++i;
    }
}

Expected<std::vector<IndexValue>> IndexReader::search_wild(std::string_view key_view) const {
    IndexWalk walk(*this);
    std::vector<IndexValue> out;
    std::string key(key_view.substr(0, key_view.find('\0')));  // kmod's keys are C strings
    std::string buf;
    auto node = walk.read(root_);
    std::size_t i = 0;
    while (true) {
        if (!node) return node.error();
        if (!*node) return out;
        const Node& n = **node;
        for (std::size_t j = 0; j < n.prefix.size(); ++j) {
            char ch = n.prefix[j];
            if (ch == '*' || ch == '?' || ch == '[') {
                if (Status s = walk.wild_all(n, j, buf, key.substr(std::min(i + j, key.size())), out, 0); !s)
                    return s.error();
                return out;
            }
            if (i + j >= key.size() || ch != key[i + j]) return out;
        }
        i += n.prefix.size();
        for (unsigned char wild : {'*', '?', '['}) {
            auto child = walk.child(n, wild);
            if (!child) return child.error();
            if (!*child) continue;
            buf.push_back(static_cast<char>(wild));
            if (Status s = walk.wild_all(**child, 0, buf, key.substr(i), out, 1); !s) return s.error();
            buf.pop_back();
        }
        if (i == key.size()) {
            IndexWalk::for_each_value(n, [&](std::uint32_t p, std::string_view v) { IndexWalk::add_sorted(out, p, v); });
            return out;
        }
        node = walk.child(n, static_cast<unsigned char>(key[i]));
        ++i;
    }
}

namespace {

Status dump_node(IndexWalk& walk, const IndexReader::Node& n, std::string& buf,
                 const std::function<void(std::string_view)>& write, std::size_t depth) {
    if (depth > kMaxDepth) return walk.bad(n.offset, "trie deeper than " + std::to_string(kMaxDepth) + " levels");
    std::size_t pushed = n.prefix.size();
    buf.append(n.prefix);
    std::string line;
    IndexWalk::for_each_value(n, [&](std::uint32_t, std::string_view v) {
        line.assign(buf);
        line += ' ';
        line += v;
        line += '\n';
        write(line);
    });
    for (unsigned c = n.first; c <= n.last; ++c) {
        auto child = walk.child(n, static_cast<unsigned char>(c));
        if (!child) return child.error();
        if (!*child) continue;
        buf.push_back(static_cast<char>(c));
        if (Status s = dump_node(walk, **child, buf, write, depth + 1); !s) return s;
        buf.pop_back();
    }
    buf.resize(buf.size() - pushed);
    return {};
}

}  // namespace

Status IndexReader::dump(std::string_view prefix, const std::function<void(std::string_view)>& write) const {
    IndexWalk walk(*this);
    auto root = walk.read(root_);
    if (!root) return root.error();
    if (!*root) return {};
    std::string buf(prefix);
    return dump_node(walk, **root, buf, write, 0);
}

}  // namespace umod::index
