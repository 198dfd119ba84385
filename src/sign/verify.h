// Verifying a module's appended signature against a keyring, with the
// kernel's outcomes (kernel/module/signing.c, mod_check_sig and
// verify_pkcs7_signature). No policy: what a failure means for a load is
// sign/policy.h's.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "sign/keyring.h"

namespace umod::sign {

enum class SignatureStatus : std::uint8_t {
    Verified,           // 0
    Unsigned,           // ENODATA: no "~Module signature appended~\n"
    UnavailableKey,     // ENOKEY: no certificate of the keyring made it
    UnsupportedCrypto,  // ENOPKG: not PKCS#7, or a hash or key algorithm the kernel does not verify
    Malformed,          // EBADMSG: the trailer or the PKCS#7 message is inconsistent
    Rejected,           // EKEYREJECTED: the signature does not verify (or breaks the kernel's rules)
    Unavailable,        // ELIBACC: libcrypto cannot be loaded
};

struct SignatureCheck {
    SignatureStatus status = SignatureStatus::Unsigned;
    int code = 0;             // the errno above, 0 when verified
    std::string reason;       // module_sig_check's words for the non-fatal cases; what is wrong otherwise
    std::string signer;       // the certificate's subject CN, when one was found
    std::string hash;         // "sha256"..., when the message parsed
    std::size_t module_size = 0;  // bytes the signature covers
    bool verified() const { return status == SignatureStatus::Verified; }
    // The kernel treats these as "no signature" (loaded, tainted) unless enforcing.
    bool missing() const {
        return status == SignatureStatus::Unsigned || status == SignatureStatus::UnavailableKey ||
               status == SignatureStatus::UnsupportedCrypto;
    }
};

// Verifies the signature appended to `file` (all of it: module, signature,
// trailer) with the certificates of `keyring`. The signature must cover every
// byte before it. Never fails in another way than the status it returns.
SignatureCheck verify_module_signature(std::span<const std::byte> file, const Keyring& keyring);

}  // namespace umod::sign
