// The one ELF reader: mechanism without policy, for umod's shared-object
// modules (ET_DYN) and Linux kernel modules (ET_REL).
//
// Every offset, size, count and index in the image is treated as hostile:
// each is range-checked (with overflow-checked arithmetic) before any byte is
// read, and a bad one yields an ENOEXEC error naming what is wrong. Nothing
// here logs, aborts or decides what is acceptable; callers do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <umod/expected.h>

namespace umod::elf {

// What is wrong with an image, and where.
struct MalformedElf {
    std::string what;
    // Not ELF at all, or ELF for another class, byte order, machine or type
    // (as opposed to an ELF file whose tables are corrupt).
    bool foreign = false;
};
void describe_error(const MalformedElf& e, std::string& out);

enum class FileKind : std::uint8_t { Relocatable, SharedObject };

struct Section {
    std::uint32_t index = 0;
    std::string_view name;
    std::uint32_t type = 0;
    std::uint64_t flags = 0;
    std::uint64_t addr = 0;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
    std::uint32_t link = 0;
    std::uint32_t info = 0;
    std::uint64_t entsize = 0;
};

struct Symbol {
    std::string_view name;
    std::uint64_t value = 0;
    std::uint64_t size = 0;
    std::uint16_t shndx = 0;  // SHN_UNDEF for imports
    std::uint8_t bind = 0;    // STB_*
    std::uint8_t type = 0;    // STT_*
    std::uint8_t visibility = 0;  // STV_*
};

struct Relocation {
    std::uint64_t offset = 0;
    std::uint32_t type = 0;
    std::uint32_t symbol = 0;
    std::int64_t addend = 0;
};

struct DynamicEntry {
    std::int64_t tag = 0;
    std::uint64_t value = 0;
};

// A parsed view over an ELF64 little-endian x86-64 image. Does not own the
// bytes: they must outlive it.
class ElfFile {
public:
    static Expected<ElfFile> parse(std::span<const std::byte> bytes);

    FileKind kind() const { return kind_; }
    std::span<const std::byte> bytes() const { return bytes_; }
    const std::vector<Section>& sections() const { return sections_; }
    // The first section of that name, or nullptr.
    const Section* section(std::string_view name) const;
    // A section's bytes (empty for SHT_NOBITS); checked against the file.
    Expected<std::span<const std::byte>> contents(const Section& section) const;

    // The symbols of a SHT_SYMTAB or SHT_DYNSYM section (index 0 included).
    Expected<std::vector<Symbol>> symbols(const Section& table) const;
    // The entries of a SHT_RELA section.
    Expected<std::vector<Relocation>> relocations(const Section& rela) const;
    // The SHT_DYNAMIC entries, up to DT_NULL.
    Expected<std::vector<DynamicEntry>> dynamic() const;

    // Bytes at a virtual address of a loaded image, through the section that
    // holds it (ET_DYN): `size` bytes must lie within one section.
    Expected<std::span<const std::byte>> at_address(std::uint64_t address, std::uint64_t size) const;
    // A NUL-terminated string at a virtual address.
    Expected<std::string_view> string_at_address(std::uint64_t address) const;

private:
    ElfFile() = default;
    Expected<std::string_view> string_in(const Section& strtab, std::uint64_t offset) const;

    std::span<const std::byte> bytes_;
    FileKind kind_ = FileKind::Relocatable;
    std::vector<Section> sections_;
};

// A T read from `bytes` at `offset`; the caller has checked the range.
template <class T>
T read_unaligned(std::span<const std::byte> bytes, std::uint64_t offset) {
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    return value;
}

// `.modinfo` as kmod splits it: skip leading NULs, split on runs of NULs,
// split each string at its first '=' (no '=': the value is empty).
std::vector<std::pair<std::string_view, std::string_view>> parse_modinfo(std::span<const std::byte> section);

}  // namespace umod::elf
