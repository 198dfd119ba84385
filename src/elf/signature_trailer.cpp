#include "elf/signature_trailer.h"

#include <cerrno>
#include <cstring>

namespace umod::elf {

std::size_t SignatureTrailer::extent() const {
    return signer.size() + key_id.size() + signature.size() + kModuleSignatureInfoSize + kModuleSignatureMagic.size();
}

Expected<std::optional<SignatureTrailer>> parse_signature_trailer(std::span<const std::byte> file) {
    constexpr std::size_t kFixed = kModuleSignatureInfoSize + kModuleSignatureMagic.size();
    if (file.size() < kFixed ||
        std::memcmp(file.data() + file.size() - kModuleSignatureMagic.size(), kModuleSignatureMagic.data(),
                    kModuleSignatureMagic.size()) != 0)
        return std::optional<SignatureTrailer>();
    const std::size_t info_at = file.size() - kFixed;
    const auto* info = reinterpret_cast<const std::uint8_t*>(file.data() + info_at);
    SignatureTrailer t;
    t.algo = info[0];
    t.hash = info[1];
    t.id_type = info[2];
    t.signer_len = info[3];
    t.key_id_len = info[4];
    std::memcpy(t.pad, info + 5, 3);
    t.sig_len = std::uint32_t{info[8]} << 24 | std::uint32_t{info[9]} << 16 | std::uint32_t{info[10]} << 8 | info[11];
    // At most 2^32 + 2 * 255: no overflow in 64 bits.
    const std::uint64_t body = std::uint64_t{t.sig_len} + t.signer_len + t.key_id_len;
    if (body > info_at) return Error(EBADMSG, "module signature longer than the file");
    const std::size_t sig_at = info_at - t.sig_len;
    const std::size_t key_id_at = sig_at - t.key_id_len;
    t.module_size = key_id_at - t.signer_len;
    t.signer = file.subspan(t.module_size, t.signer_len);
    t.key_id = file.subspan(key_id_at, t.key_id_len);
    t.signature = file.subspan(sig_at, t.sig_len);
    return std::optional<SignatureTrailer>(t);
}

}  // namespace umod::elf
