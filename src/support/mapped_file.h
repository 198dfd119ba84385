// A file's bytes, read-only: small files are read into memory (cheaper than
// a mapping and its page faults), large ones are mapped. Owns them.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <memory>
#include <vector>

#include <umod/expected.h>

namespace umod::support {

class MappedFile {
public:
    // ENOENT/EACCES/... from open(2), with the path in the message.
    static Expected<MappedFile> open(const std::string& path);
    // Always mapped, whatever its size: for files read in place and shared
    // (the module index), where a copy would only cost.
    static Expected<MappedFile> map(const std::string& path);
    // map() of `name` relative to the directory open as `dirfd` (AT_FDCWD:
    // the current one); `path` names it in messages.
    static Expected<MappedFile> map_at(int dirfd, const char* name, const std::string& path);
    // Always read into memory, whatever its size: for bytes that must not
    // change after they are read (a mapping shows later writes to the file).
    static Expected<MappedFile> read(const std::string& path);

    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    std::span<const std::byte> bytes() const { return {data_, size_}; }

private:
    static Expected<MappedFile> open(int dirfd, const char* name, const std::string& path, std::size_t read_below);
    MappedFile(const std::byte* data, std::size_t size, bool mapped) : data_(data), size_(size), mapped_(mapped) {}
    void release();
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    bool mapped_ = false;  // munmap, else delete[]
};

// Memory reused from file to file (not zeroed: what was not read is
// unspecified).
class ReadBuffer {
public:
    std::byte* reserve(std::size_t size) {
        if (size > capacity_) {
            capacity_ = size + size / 2;
            data_.reset(new std::byte[capacity_]);  // not zeroed: untouched pages stay unmapped
        }
        return data_.get();
    }

private:
    std::unique_ptr<std::byte[]> data_;
    std::size_t capacity_ = 0;
};

}  // namespace umod::support
