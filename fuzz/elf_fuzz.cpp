// libFuzzer target for the ELF layer: every parser on arbitrary bytes. Any
// crash, hang, sanitizer report or leak is a bug: bad input must only ever
// produce an error value.
#include <cstddef>
#include <cstdint>
#include <span>

#include "elf/elf_file.h"
#include "elf/kernel_module.h"
#include "elf/umod_module.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    (void)umod::elf::read_module_signature(bytes);
    (void)umod::elf::module_signature_extent(bytes);
    // Every class, byte order and machine (what modinfo and depmod read), then
    // the host's alone (what the loader maps).
    auto file = umod::elf::ElfFile::parse(bytes, umod::elf::Machines::Any);
    if (!file) return 0;
    if (auto host = umod::elf::ElfFile::parse(bytes); host) (void)umod::elf::read_umod_module(*host);
    for (const auto& section : file->sections()) {
        (void)file->contents(section);
        (void)file->symbols(section);
        (void)file->relocations(section);
        if (section.name == ".modinfo")
            if (auto data_ = file->contents(section)) (void)umod::elf::parse_modinfo(*data_);
    }
    (void)file->dynamic();
    (void)file->string_at_address(0x1000);
    for (std::uint64_t off : {0, 1, 2, 7}) {
        if (off + 8 > size) break;
        (void)file->read16(bytes, off);
        (void)file->read32(bytes, off);
        (void)file->read64(bytes, off);
    }
    return 0;
}
