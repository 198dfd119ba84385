// What a module's signature means for its load: the kernel's
// module_sig_check() over the loader's kept bytes. The loader makes this one
// call before it reads anything else of the file.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <umod/expected.h>
#include <umod/umod.h>

namespace umod::sign {

// The policy `options` ask for, with the environment's defaults filled in
// (UMOD_KEYRING, UMOD_SIG_ENFORCE=1), and the keyring's path.
struct EffectivePolicy {
    SignaturePolicy policy = SignaturePolicy::Off;
    std::string keyring;
};
EffectivePolicy effective_policy(const SignatureOptions& options);

struct LoadVerdict {
    std::string taints;   // "E" when the module loads without a valid signature
    std::string warning;  // the Warning event's text then
};

// Checks `file` (every byte that will be mapped) under `options`; `module`
// names it in messages. Off: nothing is read. Errors:
//   EKEYREJECTED "M: Loading of unsigned module is rejected" (and "module with
//     unavailable key", "module with unsupported crypto") under Enforce;
//   EKEYREJECTED "M: module signature does not verify: ..." and EBADMSG
//     "M: malformed module signature: ..." under Warn and Enforce;
//   the keyring's error (ENOENT, EBADMSG...) naming it; ELIBACC without libcrypto.
Expected<LoadVerdict> check_module_signature(const SignatureOptions& options, std::string_view module,
                                             std::span<const std::byte> file);

}  // namespace umod::sign
