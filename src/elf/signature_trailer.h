// The kernel's appended module signature, as bytes: where it is and what its
// trailer says. Format only, no policy (the kernel's own checks of it, and
// verification, are src/sign's). Every length in the trailer is hostile.
//
//   [ module: module_size bytes ][ signer ][ key id ][ signature: sig_len ]
//   [ struct module_signature: 12 bytes ][ "~Module signature appended~\n" ]
//
// The signer and key id are empty for PKCS#7 (id_type 2), the only kind the
// kernel still verifies; PGP (0) and X509 (1) trailers carry them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include <umod/expected.h>

namespace umod::elf {

inline constexpr std::string_view kModuleSignatureMagic = "~Module signature appended~\n";
inline constexpr std::size_t kModuleSignatureInfoSize = 12;  // sizeof(struct module_signature)
inline constexpr std::uint8_t kPkeyIdPgp = 0, kPkeyIdX509 = 1, kPkeyIdPkcs7 = 2;

struct SignatureTrailer {
    // struct module_signature, fields as stored (sig_len in host order).
    std::uint8_t algo = 0, hash = 0, id_type = 0, signer_len = 0, key_id_len = 0;
    std::uint8_t pad[3] = {0, 0, 0};
    std::uint32_t sig_len = 0;
    // What the signature covers: every byte before the signer (or signature).
    std::size_t module_size = 0;
    std::span<const std::byte> signer, key_id, signature;  // inside the file
    // Bytes after the module: signer, key id, signature, struct and magic.
    std::size_t extent() const;
};

// The trailer at the end of `file`; nullopt when the file does not end with
// the magic (unsigned). EBADMSG when the lengths it gives do not fit in the
// file ("module signature longer than the file").
Expected<std::optional<SignatureTrailer>> parse_signature_trailer(std::span<const std::byte> file);

}  // namespace umod::elf
