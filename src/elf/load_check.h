// What the dynamic linker trusts, checked before a byte of a shared object
// reaches it: mechanism without policy.
//
// glibc's loader reads an object through its program headers and dynamic
// section, not its section headers, and asserts on (or simply trusts) most of
// what it finds there: a corrupt file kills the process inside dlopen. This
// checks, with overflow-checked arithmetic, everything the loader of glibc
// 2.36 reads or calls while it maps and relocates an x86-64 ET_DYN object:
// the ELF and program headers (PT_LOAD order, alignment, overlap, bounds;
// PT_DYNAMIC, PT_TLS, PT_GNU_RELRO, PT_PHDR and notes inside loaded bytes),
// every dynamic entry it reads (entry sizes, table addresses inside loaded
// segments, string offsets inside DT_STRSZ), the hash tables, the symbol
// table they bound, the symbol-version tables and every version index, the
// relocations (type, symbol index, a target inside a writable segment), and
// every address it will call (DT_INIT, DT_FINI, the init and fini arrays
// after relocation, IRELATIVE resolvers, IFUNC symbols) inside an executable
// segment. A defect is ENOEXEC (MalformedElf) naming the structure and where
// it is ("dynamic entry 7 at offset 0x2e70: DT_RELAENT is 16, expected 24").
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <umod/expected.h>

namespace umod::elf {

class ElfFile;
struct UmodModuleInfo;

// The loaded image an object describes, once its headers passed the checks.
class LoadImage {
public:
    struct Segment {
        std::uint64_t vaddr = 0;
        std::uint64_t memsz = 0;
        std::uint64_t offset = 0;
        std::uint64_t filesz = 0;
        std::uint32_t flags = 0;  // PF_R, PF_W, PF_X
    };

    // Checks everything above; the bytes must outlive the result.
    static Expected<LoadImage> check(std::span<const std::byte> bytes);

    const std::vector<Segment>& segments() const { return segments_; }
    // [address, address + size) inside one loaded segment (memory size).
    bool loaded(std::uint64_t address, std::uint64_t size) const;
    // Inside one segment mapped executable.
    bool executable(std::uint64_t address) const;
    // Inside one writable segment (where relocations may write).
    bool writable(std::uint64_t address, std::uint64_t size) const;
    // Inside one writable segment and outside PT_GNU_RELRO: still writable
    // once the dynamic linker is done.
    bool writable_after_load(std::uint64_t address, std::uint64_t size) const;

    // DT_INIT_ARRAY or DT_FINI_ARRAY: where the pointers are (once
    // relocated), how many, and where the value of its size entry
    // (DT_INIT_ARRAYSZ, DT_FINI_ARRAYSZ) is: its file offset and its address
    // in the loaded image (both 0 when there is none), for a loader that runs
    // the calls itself or takes them away from the dynamic linker.
    struct CallArray {
        std::uint64_t address = 0;
        std::uint64_t count = 0;
        std::uint64_t size_value_offset = 0;
        std::uint64_t size_value_address = 0;
    };
    const CallArray& init_array() const { return init_array_; }
    const CallArray& fini_array() const { return fini_array_; }
    // Every address the dynamic linker calls: DT_INIT, DT_FINI, the init and
    // fini arrays' entries as relocated, IRELATIVE and IFUNC resolvers.
    const std::vector<std::uint64_t>& calls() const { return calls_; }
    // The file offsets of the dynamic symbols (Elf64_Sym entries of
    // DT_SYMTAB) defined with binding STB_GNU_UNIQUE.
    const std::vector<std::uint64_t>& unique_definitions() const { return unique_definitions_; }

private:
    friend class LoadChecker;
    CallArray init_array_;
    CallArray fini_array_;
    std::vector<std::uint64_t> calls_;
    std::vector<std::uint64_t> unique_definitions_;
    const Segment* segment_holding(std::uint64_t address, std::uint64_t size) const;

    std::vector<Segment> segments_;
    std::uint64_t relro_start_ = 0, relro_end_ = 0;  // page-rounded as glibc protects it
};

// The section headers and the addresses a umod loader writes to or calls,
// against the image: every allocated section where the program headers load
// it (umod reads sections, the dynamic linker segments: they must agree);
// init and exit inside executable segments; with a .symtab, each of them and
// each of calls() the start of one of its functions; struct module and each parameter inside
// memory that stays writable, every bound slot the loader reads back inside
// the image. ENOEXEC (MalformedElf) naming the one that is not.
Status check_umod_addresses(const LoadImage& image, const ElfFile& file, const UmodModuleInfo& info);

}  // namespace umod::elf
