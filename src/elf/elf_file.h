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

enum class ElfClass : std::uint8_t { Elf32, Elf64 };
enum class ByteOrder : std::uint8_t { Little, Big };

// Which images parse() takes. Host: the images this process can map (ELF64,
// little-endian, x86-64: umod's own modules, the process's objects). Any:
// every class, byte order and machine (kernel modules of other
// architectures, which are only read).
enum class Machines : std::uint8_t { Host, Any };

// A parsed view over an ELF image of either class and byte order. Does not
// own the bytes: they must outlive it. Every integer it hands out is already
// in host order; read16/32/64/word read others from the image's sections.
class ElfFile {
public:
    static Expected<ElfFile> parse(std::span<const std::byte> bytes, Machines machines = Machines::Host);

    ElfClass elf_class() const { return class_; }
    ByteOrder byte_order() const { return order_; }
    std::uint16_t machine() const { return machine_; }
    // Integers of the image at `offset` in `data` (a span of its bytes), in
    // the image's byte order; the caller has checked the range. word: 4 bytes
    // in ELF32, 8 in ELF64 (a C long of the target).
    std::uint16_t read16(std::span<const std::byte> data, std::uint64_t offset) const;
    std::uint32_t read32(std::span<const std::byte> data, std::uint64_t offset) const;
    std::uint64_t read64(std::span<const std::byte> data, std::uint64_t offset) const;
    std::uint64_t read_word(std::span<const std::byte> data, std::uint64_t offset) const {
        return class_ == ElfClass::Elf64 ? read64(data, offset) : read32(data, offset);
    }
    std::size_t word_size() const { return class_ == ElfClass::Elf64 ? 8 : 4; }
    // Where section `s`'s sh_flags field is in the file, and how wide it is
    // (for tools that edit a copy of the image, as libkmod's strip does).
    std::uint64_t section_flags_offset(const Section& s) const;

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
    ElfClass class_ = ElfClass::Elf64;
    ByteOrder order_ = ByteOrder::Little;
    std::uint16_t machine_ = 0;
    std::uint64_t shoff_ = 0;
    std::uint16_t shentsize_ = 0;
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
