// Signing a module as the kernel's scripts/sign-file does: a PKCS#7 (CMS)
// SignedData over every byte of the module, detached, without certificates
// or signed attributes, then struct module_signature and the magic. For an
// RSA key the result is byte for byte sign-file's (RSA PKCS#1 v1.5 is
// deterministic; ECDSA is not).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <umod/expected.h>

namespace umod::sign {

enum class KeyIdentifier : std::uint8_t { IssuerAndSerial, SubjectKeyId };  // sign-file -k: the second

struct SigningKey;

// The private key (PEM, or DER PKCS#8 / traditional; a PEM passphrase from
// $KBUILD_SIGN_PIN as sign-file takes it) and the certificate (PEM or DER)
// that go together. A "pkcs11:" URI is ENOTSUP (sign-file reaches it through
// an OpenSSL engine; umod does not). Errors name the file and say what
// OpenSSL found wrong; EINVAL for an unknown hash ("sha256", "sha384",
// "sha512"... as OpenSSL names digests).
class Signer {
public:
    static Expected<Signer> open(const std::string& hash, const std::string& key_path, const std::string& cert_path,
                                 KeyIdentifier id = KeyIdentifier::IssuerAndSerial);
    Signer(Signer&&) noexcept;
    Signer& operator=(Signer&&) noexcept;
    ~Signer();

    // The DER PKCS#7 message signing `module`.
    Expected<std::vector<std::byte>> signature(std::span<const std::byte> module) const;

private:
    explicit Signer(std::unique_ptr<SigningKey> key);
    std::unique_ptr<SigningKey> key_;
};

// What follows the module: `signature`, struct module_signature (id_type
// PKEY_ID_PKCS7, big-endian sig_len) and "~Module signature appended~\n".
std::vector<std::byte> signature_trailer(std::span<const std::byte> signature);

}  // namespace umod::sign
