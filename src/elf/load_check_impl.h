// Internals of load_check.{h,cpp} and load_check_tables.cpp: one checker
// walks an object as glibc's loader will, keeping what later steps need.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "elf/load_check.h"

namespace umod::elf {

// ENOEXEC, MalformedElf{what}.
Error load_defect(std::string what);
// [offset, offset + size) inside [0, limit), overflow-checked.
bool in_range(std::uint64_t offset, std::uint64_t size, std::uint64_t limit);
const char* dynamic_tag_name(std::int64_t tag);

class LoadChecker {
public:
    explicit LoadChecker(std::span<const std::byte> bytes) : bytes_(bytes) {}

    Status check_headers();  // ELF header, program headers
    Status check_dynamic();  // the dynamic entries, strings, DT_INIT/DT_FINI
    Status check_tables();   // hash tables, symbols, versions, relocations, init/fini arrays

    LoadImage image_;

private:
    struct Entry {
        std::uint32_t index = 0;   // in the dynamic section
        std::uint64_t offset = 0;  // file offset of the entry
        std::int64_t tag = 0;
        std::uint64_t value = 0;
    };

    // The file bytes loaded at [vaddr, vaddr + size), all in one segment's
    // file part; nullptr when they are not.
    const std::byte* file_bytes(std::uint64_t vaddr, std::uint64_t size) const;
    std::uint64_t file_offset(std::uint64_t vaddr) const;  // 0 when not in the file
    const Entry* entry(std::int64_t tag) const;
    // The NUL-terminated string at `offset` of DT_STRTAB, within DT_STRSZ.
    std::optional<std::string_view> string(std::uint64_t offset) const;
    // A table [address, address + size) the loader reads: in the file, and a
    // whole number of `entsize` entries.
    Expected<std::span<const std::byte>> table(const Entry& address, std::uint64_t size, std::uint64_t entsize,
                                               const char* what) const;

    Status check_gnu_hash();
    Status check_sysv_hash();
    Status check_relocated_symbols();
    Status check_symbols();
    Status check_versions();
    Status check_relocations();
    Status check_relocation_table(const Entry& where, std::span<const std::byte> rela);
    Status check_relr(const Entry& where, std::span<const std::byte> relr);
    Status check_call_array(std::int64_t tag, std::int64_t size_tag);

    std::span<const std::byte> bytes_;
    std::uint64_t phoff_ = 0;
    std::uint32_t phnum_ = 0;
    std::uint32_t shnum_ = 0;  // sections, for the symbols' section indices
    std::uint64_t dynamic_vaddr_ = 0, dynamic_size_ = 0;
    std::array<std::optional<Entry>, 38> last_{};  // DT_NULL .. DT_RELRENT
    std::map<std::int64_t, Entry> extra_last_;     // other tags
    std::vector<Entry> strings_;                   // DT_NEEDED, DT_AUXILIARY, DT_FILTER
    std::vector<std::string_view> needed_;
    const std::byte* strtab_ = nullptr;
    std::uint64_t strsz_ = 0;
    std::uint64_t nsyms_ = 0;         // symbols the hash tables and relocations reach
    std::uint32_t max_version_ = 1;   // highest version index defined or needed
    bool has_versions_ = false;       // DT_VERNEED or DT_VERDEF
    // The value each relocated slot holds once relocated, when it is an
    // address in the image; slots bound to other objects map to nullopt.
    std::map<std::uint64_t, std::optional<std::uint64_t>> relocated_;
};

}  // namespace umod::elf
