// A file's bytes, read-only: small files are read into memory (cheaper than
// a mapping and its page faults), large ones are mapped. Owns them.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <umod/expected.h>

namespace umod::elf {

class MappedFile {
public:
    // ENOENT/EACCES/... from open(2), with the path in the message.
    static Expected<MappedFile> open(const std::string& path);
    // Reads the whole file into `buffer` (reused across calls: no mapping, no
    // fresh pages per file) and returns its bytes, valid until the next call.
    static Expected<std::span<const std::byte>> read_into(const std::string& path, std::vector<std::byte>& buffer);
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    std::span<const std::byte> bytes() const { return {data_, size_}; }

private:
    static Expected<MappedFile> open(const std::string& path, std::size_t read_below);
    MappedFile(const std::byte* data, std::size_t size, bool mapped) : data_(data), size_(size), mapped_(mapped) {}
    void release();
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    bool mapped_ = false;  // munmap, else delete[]
};

}  // namespace umod::elf
