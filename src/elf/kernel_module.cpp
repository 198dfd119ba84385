#include "elf/kernel_module.h"
#include "elf/elf_file.h"
#include "elf/signature_trailer.h"
#include "support/libcrypto.h"

#include <elf.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <memory>
#include <string_view>
#include <type_traits>

namespace umod::elf {

namespace {

// The PKCS#7 fields kmod prints; leaves them empty when the blob does not parse.
void read_pkcs7(std::span<const std::byte> der, ModuleSignature& out) {
    auto loaded = support::libcrypto();
    if (!loaded) return;
    const support::Libcrypto* c = *loaded;
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<PKCS7, decltype(&::PKCS7_free)> pkcs7(c->d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())),
                                                           c->PKCS7_free);
    if (!pkcs7) return;
    auto* signers = reinterpret_cast<const OPENSSL_STACK*>(c->PKCS7_get_signer_info(pkcs7.get()));
    if (signers == nullptr || c->sk_num(signers) < 1) return;
    auto* si = static_cast<PKCS7_SIGNER_INFO*>(c->sk_value(signers, 0));
    if (si == nullptr || si->issuer_and_serial == nullptr) return;
    X509_NAME* issuer = si->issuer_and_serial->issuer;
    int index = c->X509_NAME_get_index_by_NID(issuer, NID_commonName, -1);
    if (index >= 0) {
        ASN1_STRING* cn = c->X509_NAME_ENTRY_get_data(c->X509_NAME_get_entry(issuer, index));
        out.signer.assign(reinterpret_cast<const char*>(c->ASN1_STRING_get0_data(cn)),
                          static_cast<std::size_t>(c->ASN1_STRING_length(cn)));
    }
    if (const ASN1_INTEGER* serial = si->issuer_and_serial->serial) {
        std::unique_ptr<BIGNUM, decltype(&::BN_free)> bn(c->ASN1_INTEGER_to_BN(serial, nullptr), c->BN_free);
        if (bn) {
            out.key_id.resize(static_cast<std::size_t>((c->BN_num_bits(bn.get()) + 7) / 8));
            c->BN_bn2bin(bn.get(), out.key_id.data());
        }
    }
    if (si->digest_alg != nullptr) out.hash_algorithm = support::kernel_hash_name(c->OBJ_obj2nid(si->digest_alg->algorithm), /*as_kmod30=*/true);
    if (si->enc_digest != nullptr) {
        const unsigned char* data = c->ASN1_STRING_get0_data(si->enc_digest);
        out.signature.assign(data, data + c->ASN1_STRING_length(si->enc_digest));
    }
}

}  // namespace

std::size_t module_signature_extent(std::span<const std::byte> file) {
    auto trailer = parse_signature_trailer(file);
    return trailer && *trailer ? (*trailer)->extent() : 0;
}

Expected<std::optional<ModuleSignature>> read_module_signature(std::span<const std::byte> file) {
    auto trailer = parse_signature_trailer(file);
    if (!trailer) return trailer.error();
    if (!*trailer) return std::optional<ModuleSignature>();
    const SignatureTrailer& t = **trailer;
    ModuleSignature sig;
    auto bytes = [](std::span<const std::byte> b) {
        const auto* p = reinterpret_cast<const std::uint8_t*>(b.data());
        return std::vector<std::uint8_t>(p, p + b.size());
    };
    switch (t.id_type) {
        case 2:  // PKEY_ID_PKCS7
            sig.id_type = "PKCS#7";
            read_pkcs7(t.signature, sig);
            if (sig.hash_algorithm.empty()) sig.hash_algorithm = "unknown";
            break;
        default: {  // PGP (0) or X509 (1): signer and key id precede the signature
            sig.id_type = t.id_type == 0 ? "PGP" : "X509";
            sig.signer.assign(reinterpret_cast<const char*>(t.signer.data()), t.signer.size());
            sig.key_id = bytes(t.key_id);
            sig.signature = bytes(t.signature);
            static const char* const kHashes[] = {"md4", "md5", "sha1", "rmd160", "sha256",
                                                   "sha384", "sha512", "sha224", "sm3"};
            sig.hash_algorithm = t.hash < std::size(kHashes) ? kHashes[t.hash] : "unknown";
            break;
        }
    }
    return std::optional<ModuleSignature>(std::move(sig));
}

}  // namespace umod::elf

namespace umod::elf {

Expected<std::vector<SymbolVersion>> module_exports(const ElfFile& elf) {
    std::vector<Symbol> symbols;
    if (const Section* symtab = elf.section(".symtab")) {
        auto decoded = elf.symbols(*symtab);
        if (!decoded) return decoded.error();
        symbols = std::move(*decoded);
    }
    return module_exports(elf, symbols);
}

Expected<std::vector<SymbolVersion>> module_exports(const ElfFile& elf, std::span<const Symbol> symtab) {
    std::vector<SymbolVersion> out;
    for (const Symbol& s : symtab) {
        if (!s.name.starts_with("__crc_")) continue;
        std::uint64_t crc = s.value;
        if (s.shndx != SHN_UNDEF && s.shndx != SHN_ABS) {
            crc = ~std::uint64_t{0};
            if (s.shndx < elf.sections().size()) {
                auto data = elf.contents(elf.sections()[s.shndx]);
                if (data && data->size() >= 4 && s.value <= data->size() - 4) crc = elf.read32(*data, s.value);
            }
        }
        out.push_back({s.name.substr(6), crc});
    }
    if (!out.empty()) return out;
    const Section* strings = elf.section("__ksymtab_strings");
    if (strings == nullptr) return Error(ENOENT, "no exported symbols (no __crc_ symbols, no __ksymtab_strings)");
    auto data = elf.contents(*strings);
    if (!data) return data.error();
    std::string_view all(reinterpret_cast<const char*>(data->data()), data->size());
    for (std::size_t pos = 0; pos < all.size();) {
        std::size_t end = all.find('\0', pos);
        if (end == std::string_view::npos) end = all.size();
        if (end > pos) out.push_back({all.substr(pos, end - pos), 0});
        pos = end + 1;
    }
    return out;
}

Expected<std::vector<SymbolVersion>> module_versions(const ElfFile& elf) {
    const Section* versions = elf.section("__versions");
    if (versions == nullptr) return Error(ENOENT, "no __versions section");
    auto data = elf.contents(*versions);
    if (!data) return data.error();
    std::vector<SymbolVersion> out;
    const std::size_t word = elf.word_size();
    for (std::size_t off = 0; off + 64 <= data->size(); off += 64) {
        const char* name = reinterpret_cast<const char*>(data->data() + off + word);
        out.push_back({std::string_view(name, strnlen(name, 64 - word)), elf.read_word(*data, off)});
    }
    return out;
}

Status strip_section_alloc(std::vector<std::byte>& image, std::string_view name) {
    auto elf = ElfFile::parse(image, Machines::Any);
    if (!elf) return elf.error();
    const Section* section = elf->section(name);
    if (section == nullptr) return Error(ENOENT, "no section " + std::string(name));
    std::uint64_t at = elf->section_flags_offset(*section);  // parse() checked the table
    std::uint64_t flags = section->flags & ~std::uint64_t{2};  // SHF_ALLOC
    std::size_t width = elf->word_size();
    for (std::size_t i = 0; i < width; ++i) {  // in the image's byte order
        std::size_t shift = 8 * (elf->byte_order() == ByteOrder::Little ? i : width - 1 - i);
        image[at + i] = static_cast<std::byte>((flags >> shift) & 0xff);
    }
    return {};
}

Status strip_vermagic(std::vector<std::byte>& image) {
    auto elf = ElfFile::parse(image, Machines::Any);
    if (!elf) return elf.error();
    const Section* modinfo = elf->section(".modinfo");
    if (modinfo == nullptr) return Error(ENOENT, "no .modinfo");
    auto bytes = elf->contents(*modinfo);
    if (!bytes) return bytes.error();
    std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    std::size_t base = static_cast<std::size_t>(bytes->data() - image.data());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\0') continue;
        std::size_t end = text.find('\0', i);
        if (end == std::string_view::npos) end = text.size();
        if (text.substr(i, end - i).starts_with("vermagic=")) {
            std::memset(image.data() + base + i, 0, end - i);
            return {};
        }
        i = end;
    }
    return Error(ENOENT, "no vermagic in .modinfo");
}

}  // namespace umod::elf
