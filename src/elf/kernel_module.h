// Linux kernel module (.ko) formats beyond plain ELF: the appended signature.
// Format only, no policy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <umod/expected.h>

#include "elf/elf_file.h"

namespace umod::elf {

// What an appended module signature says, as kmod's modinfo prints it.
struct ModuleSignature {
    std::string id_type;              // "PKCS#7", "X509" or "PGP"
    std::string signer;               // PKCS#7: CN of the issuer of the first signer
    std::vector<std::uint8_t> key_id; // PKCS#7: that signer's serial number, big-endian
    std::string hash_algorithm;       // "sha256", ... or "unknown"
    std::vector<std::uint8_t> signature;
};

// A symbol and its version (CRC) as a module's tables give them.
struct SymbolVersion {
    std::string_view name;  // points into the image
    std::uint64_t crc = 0;
};

// libkmod's kmod_elf_get_symbols(): what the module exports — the
// __crc_NAME symbols of .symtab, in order, each CRC read (4 bytes, the
// image's order) from its section, or its value for an absolute one (all ones
// when the offset is outside the section); without any, every string of
// __ksymtab_strings (namespaces too) with CRC 0. ENOENT when there is neither.
Expected<std::vector<SymbolVersion>> module_exports(const ElfFile& elf);
// The same from `symtab`, the image's .symtab already decoded (empty when it
// has none), for readers that also need its other symbols.
Expected<std::vector<SymbolVersion>> module_exports(const ElfFile& elf, std::span<const Symbol> symtab);
// libkmod's kmod_elf_get_modversions(): the __versions entries (struct
// modversion_info: a target long, then the name, 64 bytes each), in order.
// ENOENT without the section.
Expected<std::vector<SymbolVersion>> module_versions(const ElfFile& elf);

// libkmod's kmod_elf_strip_section(): the section no longer SHF_ALLOC, so the
// kernel ignores it (modprobe --force-modversion strips "__versions"). ENOENT
// if there is no such section; ENOEXEC if `image` is not an ELF file this
// reader reads. `image` is unchanged on failure.
Status strip_section_alloc(std::vector<std::byte>& image, std::string_view section);
// libkmod's kmod_elf_strip_vermagic(): the .modinfo string "vermagic=..."
// overwritten with NULs (--force-vermagic). ENOENT if there is none.
Status strip_vermagic(std::vector<std::byte>& image);

// How many bytes at the end of `file` the signature and its trailer take,
// read from the trailer alone (0 when unsigned or inconsistent).
std::size_t module_signature_extent(std::span<const std::byte> file);

// The signature appended to `file` ("~Module signature appended~\n"), if any.
// EBADMSG when the trailer is inconsistent.
Expected<std::optional<ModuleSignature>> read_module_signature(std::span<const std::byte> file);

}  // namespace umod::elf
