// kmod's binary index (.bin) format: a radix trie of 7-bit keys, each node
// holding values sorted by priority. Written as kmod 30 writes it (children
// before their parent, the root last), big-endian throughout; read in place
// from a read-only mapping as libkmod reads it (IndexReader).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <umod/expected.h>

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

    struct Entry;

private:
    std::string strings_;         // every key and value, end to end
    std::vector<Entry> entries_;  // in insertion order
};

// EINVAL — an index file that is not a kmod index, or whose trie is broken.
// The header kinds are the ones libkmod reports (its wording is the tool's
// business); BadNode names the node and the field that does not fit.
struct IndexFormatError {
    enum class Kind { TooShort, BadMagic, BadVersion, BadNode };
    std::string path;
    Kind kind = Kind::BadNode;
    std::uint32_t found = 0;   // BadMagic: the magic read; BadVersion: the major version read
    std::uint32_t offset = 0;  // BadNode: the node's file offset
    std::string what;          // BadNode: what does not fit
};
void describe_error(const IndexFormatError& e, std::string& out);

constexpr std::uint32_t kIndexMagic = 0xB007F457;
constexpr std::uint32_t kIndexMajorVersion = 2;

// One value of a key: its priority (depmod's module order) and the string.
struct IndexValue {
    std::uint32_t priority;
    std::string_view value;  // points into the reader's bytes
};

// A .bin file read in place, as libkmod's index_mm_* read it. Every offset and
// length in the file is checked before use: a corrupt file gives an
// IndexFormatError (EINVAL), never a crash, a hang or unbounded recursion.
// Immutable once opened: any number of threads may search one reader at once.
class IndexReader {
public:
    // Maps `path` read-only. ENOENT/EACCES... from open(2) (path in the
    // message); EINVAL with IndexFormatError (TooShort, BadMagic, BadVersion)
    // when the header is not a kmod 2.x index's.
    static Expected<IndexReader> open(const std::string& path);
    // open() of `name` in the directory open as `dirfd`; `path` names it in errors.
    static Expected<IndexReader> open_at(int dirfd, const char* name, const std::string& path);
    // Over `bytes`, which the caller keeps alive and unchanged; `name` is
    // used in errors. Same header checks as open().
    static Expected<IndexReader> parse(std::span<const std::byte> bytes, std::string name);

    // index_search: the first (lowest-priority) value stored under exactly
    // `key`, or nullopt. The view lives as long as the reader.
    Expected<std::optional<std::string_view>> search(std::string_view key) const;
    // index_searchwild: the values of every stored key that, read as an
    // fnmatch(3) pattern, matches `key`, merged by priority (for equal
    // priorities, the one found last comes first).
    Expected<std::vector<IndexValue>> search_wild(std::string_view key) const;
    // index_dump: "<prefix><key> <value>\n" for every value, in trie order,
    // handed to `write` a line at a time. On error, the lines before it have
    // been written.
    Status dump(std::string_view prefix, const std::function<void(std::string_view)>& write) const;

    const std::string& path() const { return path_; }

    struct Node;

private:
    IndexReader(std::shared_ptr<const void> owner, std::span<const std::byte> bytes, std::string path,
                std::uint32_t root)
        : owner_(std::move(owner)), bytes_(bytes), path_(std::move(path)), root_(root) {}
    friend struct IndexWalk;

    std::shared_ptr<const void> owner_;  // the mapping, when open() made one
    std::span<const std::byte> bytes_;
    std::string path_;
    std::uint32_t root_ = 0;
};

}  // namespace umod::index
