#include "sign/policy.h"

#include "sign/keyring.h"
#include "sign/verify.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace umod::sign {

EffectivePolicy effective_policy(const SignatureOptions& options) {
    EffectivePolicy out;
    out.keyring = options.keyring;
    if (out.keyring.empty())
        if (const char* env = std::getenv("UMOD_KEYRING")) out.keyring = env;
    if (options.policy) {
        out.policy = *options.policy;
    } else if (const char* enforce = std::getenv("UMOD_SIG_ENFORCE"); enforce && std::strcmp(enforce, "1") == 0) {
        out.policy = SignaturePolicy::Enforce;
    } else {
        out.policy = out.keyring.empty() ? SignaturePolicy::Off : SignaturePolicy::Warn;
    }
    return out;
}

Expected<LoadVerdict> check_module_signature(const SignatureOptions& options, std::string_view module,
                                             std::span<const std::byte> file) {
    const EffectivePolicy effective = effective_policy(options);
    if (effective.policy == SignaturePolicy::Off) return LoadVerdict{};
    static const Keyring kEmpty;
    std::shared_ptr<const Keyring> ring;
    if (!effective.keyring.empty()) {
        auto loaded = shared_keyring(effective.keyring);
        if (!loaded) return loaded.error().context("keyring");
        ring = *loaded;
    }
    const std::string name(module);
    SignatureCheck check = verify_module_signature(file, ring ? *ring : kEmpty);
    if (check.verified()) return LoadVerdict{};
    if (check.missing()) {
        if (effective.policy == SignaturePolicy::Enforce)
            return Error(EKEYREJECTED, name + ": Loading of " + check.reason + " is rejected");
        return LoadVerdict{"E", name + ": module verification failed: " + check.reason + " - tainting module"};
    }
    switch (check.status) {
        case SignatureStatus::Malformed:
            return Error(EBADMSG, name + ": malformed module signature: " + check.reason);
        case SignatureStatus::Rejected:
            return Error(EKEYREJECTED, name + ": " + check.reason);
        default:
            return Error(check.code, name + ": " + check.reason);
    }
}

}  // namespace umod::sign
