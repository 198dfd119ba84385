// A file's bytes, read-only: small files are read into memory (cheaper than
// a mapping and its page faults), large ones are mapped. Owns them.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <vector>

#include <umod/expected.h>

namespace umod::elf {

class MappedFile {
public:
    // ENOENT/EACCES/... from open(2), with the path in the message.
    static Expected<MappedFile> open(const std::string& path);
    // Always mapped, whatever its size: for files read in place and shared
    // (the module index), where a copy would only cost.
    static Expected<MappedFile> map(const std::string& path);

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

// Reads from an ELF file only what metadata readers need: the ELF header, the
// section header table, the section-name table, the sections named in
// `sections`, and the last `tail` bytes, each at its file offset in `buffer`.
// The span covers the whole file; bytes outside those parts are unspecified
// and must not be read (ElfFile::parse and contents() of those sections read
// only them). Much cheaper than reading a large file whole.
Expected<std::span<const std::byte>> read_elf_parts(const std::string& path, ReadBuffer& buffer,
                                                    std::initializer_list<std::string_view> sections,
                                                    std::size_t tail);

}  // namespace umod::elf
