#include "sign/policy.h"

#include "sign/keyring.h"
#include "support/libcrypto.h"
#include "sign/verify.h"
#include "support/mutex.h"

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>

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

namespace {

// Outcomes of files verified before, by the SHA-256 of every byte of the file
// (module, signature, trailer) and the keyring they were verified with: a
// reload of the same bytes (the loader's kept copy) is not verified again.
// A keyring read again is a new object, so its entries no longer match.
class VerifiedFiles {
public:
    using Digest = std::array<unsigned char, 32>;

    static bool digest(std::span<const std::byte> file, Digest& out) {
        auto c = support::libcrypto();
        if (!c) return false;
        static const EVP_MD* const sha256 = (*c)->EVP_get_digestbyname("sha256");
        unsigned int size = 0;
        return sha256 != nullptr && (*c)->EVP_Digest(file.data(), file.size(), out.data(), &size, sha256, nullptr) == 1 &&
               size == out.size();
    }
    bool find(const Keyring* ring, const Digest& d, SignatureCheck& out) {
        support::MutexLock lock(mutex_);
        for (const Entry& e : entries_)
            if (e.ring == ring && e.digest == d) {
                out = e.check;
                return true;
            }
        return false;
    }
    void add(std::shared_ptr<const Keyring> ring, const Digest& d, const SignatureCheck& check) {
        support::MutexLock lock(mutex_);
        if (entries_.size() == kEntries) entries_.pop_front();
        entries_.push_back(Entry{ring.get(), std::move(ring), d, check});
    }

private:
    static constexpr std::size_t kEntries = 256;
    struct Entry {
        const Keyring* ring;
        std::shared_ptr<const Keyring> keep;  // so that `ring` is never another keyring at the same address
        Digest digest;
        SignatureCheck check;
    };
    support::Mutex mutex_;
    std::deque<Entry> entries_;  // oldest first
};

VerifiedFiles& verified_files() {
    static VerifiedFiles files;
    return files;
}

SignatureCheck verify_once(std::span<const std::byte> file, const std::shared_ptr<const Keyring>& ring) {
    VerifiedFiles::Digest digest{};
    SignatureCheck check;
    const bool digested = VerifiedFiles::digest(file, digest);
    if (digested && verified_files().find(ring.get(), digest, check)) return check;
    check = verify_module_signature(file, *ring);
    if (digested && check.status != SignatureStatus::Unavailable) verified_files().add(ring, digest, check);
    return check;
}

}  // namespace

Expected<LoadVerdict> check_module_signature(const SignatureOptions& options, std::string_view module,
                                             std::span<const std::byte> file) {
    const EffectivePolicy effective = effective_policy(options);
    if (effective.policy == SignaturePolicy::Off) return LoadVerdict{};
    static const auto kEmpty = std::make_shared<const Keyring>();
    std::shared_ptr<const Keyring> ring = kEmpty;
    if (!effective.keyring.empty()) {
        auto loaded = shared_keyring(effective.keyring);
        if (!loaded) return loaded.error().context("keyring");
        ring = *loaded;
    }
    const std::string name(module);
    SignatureCheck check = verify_once(file, ring);
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
