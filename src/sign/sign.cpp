#include "sign/sign.h"

#include "elf/signature_trailer.h"
#include "support/libcrypto.h"
#include "support/mapped_file.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace umod::sign {

struct SigningKey {
    support::PkeyPtr key;
    support::X509Ptr certificate;
    const EVP_MD* digest = nullptr;
    KeyIdentifier id = KeyIdentifier::IssuerAndSerial;
};

namespace {

// sign-file's passphrase: $KBUILD_SIGN_PIN.
int passphrase(char* buffer, int size, int, void*) {
    const char* pin = std::getenv("KBUILD_SIGN_PIN");
    if (pin == nullptr) return -1;
    int n = static_cast<int>(std::strlen(pin));
    if (n >= size) return -1;
    std::memcpy(buffer, pin, static_cast<std::size_t>(n));
    return n;
}

}  // namespace

Signer::Signer(std::unique_ptr<SigningKey> key) : key_(std::move(key)) {}
Signer::Signer(Signer&&) noexcept = default;
Signer& Signer::operator=(Signer&&) noexcept = default;
Signer::~Signer() = default;

Expected<Signer> Signer::open(const std::string& hash, const std::string& key_path, const std::string& cert_path,
                              KeyIdentifier id) {
    if (key_path.starts_with("pkcs11:"))
        return Error(ENOTSUP, key_path + ": PKCS#11 keys are not supported (sign-file reaches them through an "
                                         "OpenSSL engine); give a PEM or DER key file");
    auto loaded = support::libcrypto();
    if (!loaded) return loaded.error();
    const support::Libcrypto& c = **loaded;
    c.ERR_clear_error();
    auto signing = std::make_unique<SigningKey>();
    signing->id = id;
    signing->digest = c.EVP_get_digestbyname(hash.c_str());
    if (signing->digest == nullptr) return Error(EINVAL, "unknown hash algorithm '" + hash + "'");

    auto key_file = support::MappedFile::open(key_path);
    if (!key_file) return key_file.error().context(key_path);
    {
        support::BioPtr bio(c.BIO_new_mem_buf(key_file->bytes().data(), static_cast<int>(key_file->bytes().size())));
        if (bio) signing->key.reset(c.PEM_read_bio_PrivateKey(bio.get(), nullptr, passphrase, nullptr));
    }
    if (!signing->key) {
        c.ERR_clear_error();
        support::BioPtr bio(c.BIO_new_mem_buf(key_file->bytes().data(), static_cast<int>(key_file->bytes().size())));
        if (bio) signing->key.reset(c.d2i_PrivateKey_bio(bio.get(), nullptr));
    }
    if (!signing->key)
        return Error(EBADMSG, key_path + ": not a private key (PEM or DER): " + c.last_error("unreadable"));

    auto cert_file = support::MappedFile::open(cert_path);
    if (!cert_file) return cert_file.error().context(cert_path);
    std::span<const std::byte> cert = cert_file->bytes();
    if (!cert.empty() && cert[0] == std::byte{0x30}) {  // DER, as sign-file tells them apart
        const auto* p = reinterpret_cast<const unsigned char*>(cert.data());
        signing->certificate.reset(c.d2i_X509(nullptr, &p, static_cast<long>(cert.size())));
    } else {
        support::BioPtr bio(c.BIO_new_mem_buf(cert.data(), static_cast<int>(cert.size())));
        if (bio) signing->certificate.reset(c.PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    }
    if (!signing->certificate)
        return Error(EBADMSG, cert_path + ": not an X.509 certificate (PEM or DER): " + c.last_error("unreadable"));
    return Signer(std::move(signing));
}

Expected<std::vector<std::byte>> Signer::signature(std::span<const std::byte> module) const {
    const support::Libcrypto& c = **support::libcrypto();  // open() loaded it
    c.ERR_clear_error();
    if (module.size() > INT_MAX) return Error(EFBIG, "module too large to sign (over 2 GiB)");
    support::BioPtr content(c.BIO_new_mem_buf(module.data(), static_cast<int>(module.size())));
    if (!content) return Error(ENOMEM, "out of memory");
    // sign-file's calls and flags, in its order.
    support::CmsPtr cms(c.CMS_sign(nullptr, nullptr, nullptr, nullptr,
                          CMS_NOCERTS | CMS_PARTIAL | CMS_BINARY | CMS_DETACHED | CMS_STREAM));
    if (!cms) return Error(ENOMEM, "CMS_sign: " + c.last_error("failed"));
    const unsigned signer_flags = CMS_NOCERTS | CMS_BINARY | CMS_NOSMIMECAP | CMS_NOATTR |
                                  (key_->id == KeyIdentifier::SubjectKeyId ? CMS_USE_KEYID : 0u);
    if (c.CMS_add1_signer(cms.get(), key_->certificate.get(), key_->key.get(), key_->digest, signer_flags) == nullptr)
        return Error(EKEYREJECTED, "cannot sign with this key and certificate: " + c.last_error("CMS_add1_signer failed"));
    if (c.CMS_final(cms.get(), content.get(), nullptr, CMS_NOCERTS | CMS_BINARY) != 1)
        return Error(EIO, "CMS_final: " + c.last_error("failed"));
    unsigned char* der = nullptr;
    int length = c.i2d_CMS_ContentInfo(cms.get(), &der);
    if (length <= 0) return Error(EIO, "i2d_CMS_ContentInfo: " + c.last_error("failed"));
    std::vector<std::byte> out(reinterpret_cast<std::byte*>(der), reinterpret_cast<std::byte*>(der) + length);
    c.CRYPTO_free(der, __FILE__, __LINE__);
    return out;
}

std::vector<std::byte> signature_trailer(std::span<const std::byte> signature) {
    std::vector<std::byte> out(signature.begin(), signature.end());
    const auto n = static_cast<std::uint32_t>(signature.size());
    const std::uint8_t info[elf::kModuleSignatureInfoSize] = {
        0, 0, elf::kPkeyIdPkcs7, 0, 0, 0, 0, 0,
        static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 8),
        static_cast<std::uint8_t>(n)};
    for (std::uint8_t b : info) out.push_back(static_cast<std::byte>(b));
    for (char ch : elf::kModuleSignatureMagic) out.push_back(static_cast<std::byte>(ch));
    return out;
}

}  // namespace umod::sign
