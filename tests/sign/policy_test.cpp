// Signatures at load: each policy (off, warn, enforce) × each case
// (verified, unsigned, unknown key, unsupported crypto, bad signature,
// malformed) → the exact code, message, event and taint; under enforce
// nothing is mapped.
#include "common.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include <umod/loader.h>
#include <umod/views.h>

#include "elf/elf_file.h"
#include "elf/signature_trailer.h"

namespace umod::sign::test {
namespace {

struct Warnings final : Observer {
    std::mutex mutex;
    std::vector<std::string> texts;
    void on_event(const Event& e) override {
        if (e.kind != EventKind::Warning) return;
        std::lock_guard lock(mutex);
        texts.emplace_back(e.text);
    }
};

enum class Case { Verified, Unsigned, UnknownKey, Unsupported, BadSignature, Malformed };

// Lines of /proc/self/maps naming `file_name` in a directory of umod's.
int mappings_of(const std::string& file_name) {
    std::ifstream maps("/proc/self/maps");
    int n = 0;
    for (std::string line; std::getline(maps, line);)
        if (line.ends_with("/" + file_name) && line.find("/umod-") != std::string::npos) ++n;
    return n;
}

class SignaturePolicyTest : public testing::Test {
protected:
    Scratch scratch;

    // crc.so as the case makes it, written as NAME.so in the scratch directory.
    std::string module(Case c, const std::string& name) {
        std::vector<std::byte> bytes = read_bytes(example("crc"));
        switch (c) {
            case Case::Verified: bytes = signed_with(bytes, "sha256", "rsa.key", "rsa.crt"); break;
            case Case::Unsigned: break;
            case Case::UnknownKey: bytes = signed_with(bytes, "sha256", "other.key", "other.crt"); break;
            case Case::Unsupported:
                bytes = signed_with(bytes, "sha256", "rsa.key", "rsa.crt");
                bytes[bytes.size() - elf::kModuleSignatureMagic.size() - 10] = std::byte{elf::kPkeyIdX509};
                break;
            case Case::BadSignature: {
                // A byte of .comment: what the signature covers, harmless to map (the off policy maps it).
                std::size_t comment = 0;
                if (auto elf = elf::ElfFile::parse(bytes))
                    if (const elf::Section* s = elf->section(".comment")) comment = s->offset;
                EXPECT_NE(comment, 0u);
                bytes = signed_with(bytes, "sha256", "rsa.key", "rsa.crt");
                bytes[comment] ^= std::byte{1};
                break;
            }
            case Case::Malformed:
                bytes = signed_with(bytes, "sha256", "rsa.key", "rsa.crt");
                bytes[bytes.size() - elf::kModuleSignatureMagic.size() - 4] = std::byte{0x7f};  // sig_len
                break;
        }
        std::string path = scratch.path(name + ".so");
        write_bytes(path, bytes);
        return path;
    }

    struct Outcome {
        int code = 0;  // 0: loaded
        std::string message;
        std::vector<std::string> warnings;
        std::string proc_modules;
        int mapped_during_failure = 0;
    };

    Outcome load(std::optional<SignaturePolicy> policy, Case c, std::string keyring = key("rsa.crt")) {
        RegistryOptions options;
        options.signatures.keyring = std::move(keyring);
        options.signatures.policy = policy;
        Registry registry(options);
        Warnings warnings;
        registry.subscribe(warnings);
        std::string path = module(c, "crc");
        auto loaded = load_module_file(registry, path);
        Outcome out;
        if (!loaded) {
            out.code = loaded.error().code();
            out.message = loaded.error().message();
            out.mapped_during_failure = mappings_of("crc.so");
        }
        out.proc_modules = views::proc_modules(registry.snapshot());
        registry.unsubscribe(warnings);
        out.warnings = warnings.texts;
        return out;
    }
};

TEST_F(SignaturePolicyTest, OffChecksNothing) {
    for (Case c : {Case::Verified, Case::Unsigned, Case::UnknownKey, Case::Unsupported, Case::BadSignature,
                   Case::Malformed}) {
        Outcome o = load(SignaturePolicy::Off, c);
        EXPECT_EQ(o.code, 0) << o.message;
        EXPECT_TRUE(o.warnings.empty());
        EXPECT_EQ(o.proc_modules.find("(E)"), std::string::npos) << o.proc_modules;
    }
}

TEST_F(SignaturePolicyTest, VerifiedLoadsUntaintedUnderWarnAndEnforce) {
    for (auto policy : {SignaturePolicy::Warn, SignaturePolicy::Enforce}) {
        Outcome o = load(policy, Case::Verified);
        EXPECT_EQ(o.code, 0) << o.message;
        EXPECT_TRUE(o.warnings.empty());
        EXPECT_TRUE(o.proc_modules.starts_with("crc ")) << o.proc_modules;
        EXPECT_EQ(o.proc_modules.find("(E)"), std::string::npos) << o.proc_modules;
    }
}

TEST_F(SignaturePolicyTest, WarnLoadsTaintedWithAWarning) {
    const std::pair<Case, const char*> cases[] = {{Case::Unsigned, "unsigned module"},
                                                  {Case::UnknownKey, "module with unavailable key"},
                                                  {Case::Unsupported, "module with unsupported crypto"}};
    for (auto [c, reason] : cases) {
        Outcome o = load(SignaturePolicy::Warn, c);
        EXPECT_EQ(o.code, 0) << o.message;
        ASSERT_EQ(o.warnings.size(), 1u) << reason;
        EXPECT_EQ(o.warnings[0], scratch.path("crc.so") + ": module verification failed: " + reason +
                                     " - tainting module");
        EXPECT_NE(o.proc_modules.find(" Live 0x"), std::string::npos);
        EXPECT_TRUE(o.proc_modules.ends_with(" (E)\n")) << o.proc_modules;
    }
}

TEST_F(SignaturePolicyTest, WarnIsTheDefaultWithAKeyring) {
    Outcome o = load(std::nullopt, Case::Unsigned);
    EXPECT_EQ(o.code, 0);
    EXPECT_EQ(o.warnings.size(), 1u);
    EXPECT_TRUE(o.proc_modules.ends_with(" (E)\n")) << o.proc_modules;
    Outcome none = load(std::nullopt, Case::Unsigned, "");  // no keyring: off
    EXPECT_TRUE(none.warnings.empty());
}

TEST_F(SignaturePolicyTest, EnforceRefusesAndMapsNothing) {
    const std::pair<Case, const char*> cases[] = {{Case::Unsigned, "unsigned module"},
                                                  {Case::UnknownKey, "module with unavailable key"},
                                                  {Case::Unsupported, "module with unsupported crypto"}};
    for (auto [c, reason] : cases) {
        Outcome o = load(SignaturePolicy::Enforce, c);
        EXPECT_EQ(o.code, EKEYREJECTED) << reason;
        EXPECT_EQ(o.message, scratch.path("crc.so") + ": Loading of " + reason + " is rejected");
        EXPECT_EQ(o.mapped_during_failure, 0);
        EXPECT_EQ(o.proc_modules, "");
        EXPECT_TRUE(o.warnings.empty());
    }
}

TEST_F(SignaturePolicyTest, BadSignatureIsRefusedInWarnAndEnforce) {
    for (auto policy : {SignaturePolicy::Warn, SignaturePolicy::Enforce}) {
        Outcome bad = load(policy, Case::BadSignature);
        EXPECT_EQ(bad.code, EKEYREJECTED);
        EXPECT_TRUE(bad.message.starts_with(scratch.path("crc.so") + ": module signature does not verify: "))
            << bad.message;
        EXPECT_EQ(bad.mapped_during_failure, 0);
        EXPECT_EQ(bad.proc_modules, "");
        Outcome malformed = load(policy, Case::Malformed);
        EXPECT_EQ(malformed.code, EBADMSG);
        EXPECT_EQ(malformed.message,
                  scratch.path("crc.so") + ": malformed module signature: module signature longer than the file");
        EXPECT_EQ(malformed.proc_modules, "");
    }
}

TEST_F(SignaturePolicyTest, EnvironmentChoosesKeyringAndEnforce) {
    ::setenv("UMOD_KEYRING", key("rsa.crt").c_str(), 1);
    ::setenv("UMOD_SIG_ENFORCE", "1", 1);
    Outcome refused = load(std::nullopt, Case::Unsigned, "");
    Outcome loaded = load(std::nullopt, Case::Verified, "");
    ::unsetenv("UMOD_SIG_ENFORCE");
    Outcome warned = load(std::nullopt, Case::UnknownKey, "");
    ::unsetenv("UMOD_KEYRING");
    EXPECT_EQ(refused.code, EKEYREJECTED);
    EXPECT_EQ(loaded.code, 0) << loaded.message;
    EXPECT_EQ(warned.code, 0);
    EXPECT_EQ(warned.warnings.size(), 1u);
}

TEST_F(SignaturePolicyTest, MissingKeyringIsAnErrorNamingIt) {
    Outcome o = load(SignaturePolicy::Enforce, Case::Verified, scratch.path("no-such-keyring"));
    EXPECT_EQ(o.code, ENOENT);
    EXPECT_EQ(o.message, "keyring: " + scratch.path("no-such-keyring") + ": No such file or directory");
}

}  // namespace
}  // namespace umod::sign::test

namespace umod::sign::test {
namespace {

// A module verified once is not verified again for the same bytes and the
// same keyring; a changed keyring, or changed bytes, are checked afresh.
TEST_F(SignaturePolicyTest, ReloadsAreCheckedAgainstTheKeyringAsItIsNow) {
    const std::string ring = scratch.path("ring.pem");
    write_bytes(ring, read_bytes(key("rsa.crt")));
    EXPECT_EQ(load(SignaturePolicy::Enforce, Case::Verified, ring).code, 0);
    EXPECT_EQ(load(SignaturePolicy::Enforce, Case::Verified, ring).code, 0);
    write_bytes(ring, read_bytes(key("other.crt")));  // another key, another size
    Outcome o = load(SignaturePolicy::Enforce, Case::Verified, ring);
    EXPECT_EQ(o.code, EKEYREJECTED);
    EXPECT_EQ(o.message, scratch.path("crc.so") + ": Loading of module with unavailable key is rejected");
    write_bytes(ring, read_bytes(key("rsa.crt")));
    EXPECT_EQ(load(SignaturePolicy::Enforce, Case::Verified, ring).code, 0);
    EXPECT_EQ(load(SignaturePolicy::Enforce, Case::BadSignature, ring).code, EKEYREJECTED);
}

}  // namespace
}  // namespace umod::sign::test
