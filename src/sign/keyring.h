// A trusted keyring: X.509 certificates whose keys module signatures may be
// made with (the kernel's .builtin_trusted_keys and secondary keyring, as one
// list). Read with OpenSSL; loaded on first use.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <openssl/x509.h>

#include <umod/expected.h>

namespace umod::sign {

class Keyring {
public:
    Keyring() = default;

    // `path` is a file of certificates (PEM, any number; or one DER) or a
    // directory, each regular file of which is such a file (sorted by name;
    // dot files skipped). Errors name the file: ENOENT..., EBADMSG for a file
    // holding no certificate.
    static Expected<Keyring> load(const std::string& path);

    // Adds one DER certificate. EBADMSG if it does not parse as X.509.
    Status add_der(std::span<const std::byte> der);
    // Adds every certificate of `bytes` (from `origin`): PEM text, or DER
    // certificates one after another (the kernel's certificate list, what
    // its scripts/extract-cert writes).
    Status add_bytes(std::span<const std::byte> bytes, const std::string& origin);

    // Adds `other`'s certificates (shared, not copied).
    void add_all(const Keyring& other) {
        certificates_.insert(certificates_.end(), other.certificates_.begin(), other.certificates_.end());
    }

    std::size_t size() const { return certificates_.size(); }
    bool empty() const { return certificates_.empty(); }
    const std::vector<std::shared_ptr<X509>>& certificates() const { return certificates_; }
    // The certificate's subject: its CN, else the whole name on one line.
    static std::string subject(const X509& certificate);
    // Every certificate in DER, one after another.
    std::vector<std::byte> der() const;

private:
    std::vector<std::shared_ptr<X509>> certificates_;
};

// The keyring at `path`, loaded once and shared: reloaded when the file (or
// the directory) changed since (modification time, size). Thread-safe.
Expected<std::shared_ptr<const Keyring>> shared_keyring(const std::string& path);

}  // namespace umod::sign
