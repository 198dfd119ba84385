// libFuzzer target for the load checks (elf/load_check.h): what the dynamic
// linker trusts, checked on arbitrary bytes. Any crash, hang, sanitizer
// report or leak is a bug: bad input must only ever produce an error value.
#include <cstddef>
#include <cstdint>
#include <span>

#include "elf/elf_file.h"
#include "elf/load_check.h"
#include "elf/umod_module.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    auto image = umod::elf::LoadImage::check(bytes);
    if (!image) return 0;
    for (const auto& s : image->segments()) {
        (void)image->executable(s.vaddr);
        (void)image->writable_after_load(s.vaddr, s.memsz);
    }
    auto file = umod::elf::ElfFile::parse(bytes);
    if (!file) return 0;
    if (auto info = umod::elf::read_umod_module(*file)) (void)umod::elf::check_umod_addresses(*image, *file, *info);
    return 0;
}
