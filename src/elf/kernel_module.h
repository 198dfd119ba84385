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

namespace umod::elf {

// What an appended module signature says, as kmod's modinfo prints it.
struct ModuleSignature {
    std::string id_type;              // "PKCS#7", "X509" or "PGP"
    std::string signer;               // PKCS#7: CN of the issuer of the first signer
    std::vector<std::uint8_t> key_id; // PKCS#7: that signer's serial number, big-endian
    std::string hash_algorithm;       // "sha256", ... or "unknown"
    std::vector<std::uint8_t> signature;
};

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
