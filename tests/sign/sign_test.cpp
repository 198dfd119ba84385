// The trailer, signing and verification: round trips for each hash and key
// type, tampering, wrong keys, keyrings.
#include "common.h"

#include <cerrno>

#include "elf/kernel_module.h"
#include "elf/signature_trailer.h"
#include "sign/keyring.h"
#include "sign/verify.h"

namespace umod::sign::test {
namespace {

Keyring ring_of(std::initializer_list<const char*> certs) {
    Keyring ring;
    for (const char* c : certs) {
        auto loaded = Keyring::load(key(c));
        EXPECT_TRUE(loaded) << (loaded ? "" : loaded.error().message());
        if (loaded) ring.add_all(*loaded);
    }
    return ring;
}

std::vector<std::byte> crc() { return read_bytes(example("crc")); }

TEST(Trailer, UnsignedFileHasNone) {
    auto t = elf::parse_signature_trailer(crc());
    ASSERT_TRUE(t);
    EXPECT_FALSE(*t);
}

TEST(Trailer, FieldsOfASignedModule) {
    auto module = crc();
    auto file = signed_with(module, "sha256", "rsa.key", "rsa.crt");
    auto t = elf::parse_signature_trailer(file);
    ASSERT_TRUE(t && *t);
    EXPECT_EQ((*t)->id_type, elf::kPkeyIdPkcs7);
    EXPECT_EQ((*t)->module_size, module.size());
    EXPECT_EQ((*t)->signature.size(), (*t)->sig_len);
    EXPECT_EQ((*t)->extent(), file.size() - module.size());
}

TEST(Trailer, AbsurdLengthIsEbadmsg) {
    auto file = signed_with(crc(), "sha256", "rsa.key", "rsa.crt");
    const std::size_t len_at = file.size() - elf::kModuleSignatureMagic.size() - 4;
    for (int i = 0; i < 4; ++i) file[len_at + static_cast<std::size_t>(i)] = std::byte{0xff};
    auto t = elf::parse_signature_trailer(file);
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().code(), EBADMSG);
    EXPECT_EQ(t.error().message(), "module signature longer than the file");
    SignatureCheck check = verify_module_signature(file, ring_of({"rsa.crt"}));
    EXPECT_EQ(check.status, SignatureStatus::Malformed);
    EXPECT_EQ(check.code, EBADMSG);
}

TEST(Trailer, TruncatedTrailerIsUnsigned) {
    auto file = signed_with(crc(), "sha256", "rsa.key", "rsa.crt");
    file.pop_back();  // the magic's newline: no longer a signed module
    EXPECT_EQ(verify_module_signature(file, ring_of({"rsa.crt"})).status, SignatureStatus::Unsigned);
    // Only the magic, nothing before it: too short for struct module_signature.
    std::vector<std::byte> magic;
    for (char c : elf::kModuleSignatureMagic) magic.push_back(static_cast<std::byte>(c));
    EXPECT_FALSE(*elf::parse_signature_trailer(magic));
}

TEST(Trailer, ModinfoReadsTheSameTrailer) {
    auto file = signed_with(crc(), "sha384", "rsa.key", "rsa.crt");
    auto sig = elf::read_module_signature(file);
    ASSERT_TRUE(sig && *sig);
    EXPECT_EQ((*sig)->id_type, "PKCS#7");
    EXPECT_EQ((*sig)->signer, "umod test signing key");
    EXPECT_EQ((*sig)->hash_algorithm, "sha384");
    EXPECT_EQ(elf::module_signature_extent(file), file.size() - crc().size());
}

struct RoundTrip : testing::TestWithParam<std::tuple<const char*, const char*, const char*>> {};

TEST_P(RoundTrip, SignedModuleVerifies) {
    auto [hash, key_file, cert_file] = GetParam();
    auto file = signed_with(crc(), hash, key_file, cert_file);
    SignatureCheck check = verify_module_signature(file, ring_of({cert_file}));
    EXPECT_EQ(check.status, SignatureStatus::Verified) << check.reason;
    EXPECT_EQ(check.code, 0);
    EXPECT_EQ(check.hash, hash);
    EXPECT_EQ(check.module_size, crc().size());
}

INSTANTIATE_TEST_SUITE_P(HashesAndKeys, RoundTrip,
                         testing::Values(std::tuple{"sha256", "rsa.key", "rsa.crt"},
                                         std::tuple{"sha384", "rsa.key", "rsa.crt"},
                                         std::tuple{"sha512", "rsa.key", "rsa.crt"},
                                         std::tuple{"sha256", "ec.key", "ec.crt"},
                                         std::tuple{"sha384", "ec.key", "ec.crt"},
                                         std::tuple{"sha512", "ec.key", "ec.crt"},
                                         std::tuple{"sha256", "rsa.key.der", "rsa.der"}));

TEST(Sign, RsaIsDeterministicAndDerEqualsPem) {
    auto a = signed_with(crc(), "sha256", "rsa.key", "rsa.crt");
    auto b = signed_with(crc(), "sha256", "rsa.key.der", "rsa.der");
    EXPECT_EQ(a, b);
}

TEST(Sign, ErrorsNameWhatIsWrong) {
    auto bad_hash = Signer::open("sha999", key("rsa.key"), key("rsa.crt"));
    ASSERT_FALSE(bad_hash);
    EXPECT_EQ(bad_hash.error().code(), EINVAL);
    EXPECT_EQ(bad_hash.error().message(), "unknown hash algorithm 'sha999'");
    auto pkcs11 = Signer::open("sha256", "pkcs11:token=x", key("rsa.crt"));
    ASSERT_FALSE(pkcs11);
    EXPECT_EQ(pkcs11.error().code(), ENOTSUP);
    auto not_key = Signer::open("sha256", key("rsa.crt"), key("rsa.crt"));
    ASSERT_FALSE(not_key);
    EXPECT_EQ(not_key.error().code(), EBADMSG);
    EXPECT_NE(not_key.error().message().find("rsa.crt: not a private key"), std::string::npos);
    auto missing = Signer::open("sha256", key("nope.key"), key("rsa.crt"));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), ENOENT);
    auto mismatched = Signer::open("sha256", key("other.key"), key("rsa.crt"));
    ASSERT_TRUE(mismatched);
    auto signature = mismatched->signature(crc());
    ASSERT_FALSE(signature);
    EXPECT_EQ(signature.error().code(), EKEYREJECTED);
}

// A flipped byte anywhere the signature covers, in the signature, or in the
// trailer, fails — each with its reason.
TEST(Tamper, CodeByteFailsToVerify) {
    auto file = signed_with(crc(), "sha256", "rsa.key", "rsa.crt");
    file[0x1000] ^= std::byte{1};
    SignatureCheck check = verify_module_signature(file, ring_of({"rsa.crt"}));
    EXPECT_EQ(check.status, SignatureStatus::Rejected);
    EXPECT_EQ(check.code, EKEYREJECTED);
    EXPECT_TRUE(check.reason.starts_with("module signature does not verify")) << check.reason;
}

TEST(Tamper, SectionHeaderByteFailsToVerify) {
    auto module = crc();
    auto file = signed_with(module, "sha256", "rsa.key", "rsa.crt");
    std::uint64_t shoff = 0;
    for (int i = 7; i >= 0; --i) shoff = shoff << 8 | std::to_integer<std::uint64_t>(module[0x28 + static_cast<std::size_t>(i)]);
    ASSERT_LT(shoff + 64 + 8, module.size());
    file[shoff + 64 + 8] ^= std::byte{0x40};  // the second section header's flags
    EXPECT_EQ(verify_module_signature(file, ring_of({"rsa.crt"})).code, EKEYREJECTED);
}

TEST(Tamper, SignatureByteFails) {
    auto module = crc();
    auto file = signed_with(module, "sha256", "rsa.key", "rsa.crt");
    const std::size_t trailer = elf::kModuleSignatureInfoSize + elf::kModuleSignatureMagic.size();
    file[file.size() - trailer - 10] ^= std::byte{1};  // inside the RSA signature value
    SignatureCheck check = verify_module_signature(file, ring_of({"rsa.crt"}));
    EXPECT_EQ(check.code, EKEYREJECTED) << check.reason;
    // The DER framing of the message itself: no longer PKCS#7.
    auto framed = signed_with(module, "sha256", "rsa.key", "rsa.crt");
    framed[module.size() + 1] ^= std::byte{0x10};
    EXPECT_EQ(verify_module_signature(framed, ring_of({"rsa.crt"})).code, EBADMSG);
}

TEST(Tamper, TrailerBytesFail) {
    auto file = signed_with(crc(), "sha256", "rsa.key", "rsa.crt");
    const std::size_t info = file.size() - elf::kModuleSignatureMagic.size() - elf::kModuleSignatureInfoSize;
    auto with = [&](std::size_t at, std::uint8_t value) {
        auto copy = file;
        copy[at] = std::byte{value};
        return verify_module_signature(copy, ring_of({"rsa.crt"}));
    };
    EXPECT_EQ(with(info + 0, 1).code, EBADMSG);      // algo
    EXPECT_EQ(with(info + 3, 1).code, EBADMSG);      // signer_len
    EXPECT_EQ(with(info + 6, 1).code, EBADMSG);      // pad
    SignatureCheck pgp = with(info + 2, 0);          // id_type PGP
    EXPECT_EQ(pgp.code, ENOPKG);
    EXPECT_EQ(pgp.reason, "module with unsupported crypto");
    EXPECT_NE(with(info + 11, 0).code, 0);           // sig_len's low byte
    EXPECT_EQ(with(file.size() - 2, '!').status, SignatureStatus::Unsigned);  // the magic
}

TEST(Keys, WrongKeyIsUnavailable) {
    auto file = signed_with(crc(), "sha256", "rsa.key", "rsa.crt");
    SignatureCheck check = verify_module_signature(file, ring_of({"other.crt", "ec.crt"}));
    EXPECT_EQ(check.status, SignatureStatus::UnavailableKey);
    EXPECT_EQ(check.code, ENOKEY);
    EXPECT_EQ(check.reason, "module with unavailable key");
    EXPECT_EQ(verify_module_signature(file, Keyring{}).code, ENOKEY);
}

TEST(Keys, KeyringOfSeveralCertificates) {
    Scratch scratch;
    // One PEM file holding three certificates, and a directory of files.
    std::vector<std::byte> all;
    for (const char* c : {"other.crt", "ec.crt", "rsa.crt"}) {
        auto b = read_bytes(key(c));
        all.insert(all.end(), b.begin(), b.end());
    }
    write_bytes(scratch.path("bundle.pem"), all);
    auto bundle = Keyring::load(scratch.path("bundle.pem"));
    ASSERT_TRUE(bundle);
    EXPECT_EQ(bundle->size(), 3u);
    std::filesystem::create_directory(scratch.dir / "dir");
    write_bytes(scratch.path("dir/a.pem"), read_bytes(key("other.crt")));
    write_bytes(scratch.path("dir/b.der"), read_bytes(key("rsa.der")));
    auto dir = Keyring::load(scratch.path("dir"));
    ASSERT_TRUE(dir);
    EXPECT_EQ(dir->size(), 2u);
    auto file = signed_with(crc(), "sha256", "rsa.key", "rsa.crt");
    EXPECT_TRUE(verify_module_signature(file, *bundle).verified());
    SignatureCheck check = verify_module_signature(file, *dir);
    EXPECT_TRUE(check.verified()) << check.reason;
    EXPECT_EQ(check.signer, "umod test signing key");
}

TEST(Keys, KeyringErrorsNameTheFile) {
    Scratch scratch;
    write_bytes(scratch.path("junk.pem"), {std::byte{'h'}, std::byte{'i'}});
    auto junk = Keyring::load(scratch.path("junk.pem"));
    ASSERT_FALSE(junk);
    EXPECT_EQ(junk.error().code(), EBADMSG);
    EXPECT_EQ(junk.error().message(), scratch.path("junk.pem") + ": no X.509 certificate (PEM or DER) in it");
    auto missing = Keyring::load(scratch.path("none"));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), ENOENT);
}

TEST(Keys, SignedAttributesAreRejected) {
    // openssl cms -sign without -noattr: what sign-file never makes.
    Scratch scratch;
    write_bytes(scratch.path("m.so"), crc());
    std::string cmd = "openssl cms -sign -binary -nocerts -outform DER -md sha256 -in " + scratch.path("m.so") +
                      " -signer " + key("rsa.crt") + " -inkey " + key("rsa.key") + " -out " + scratch.path("m.p7s") +
                      " 2>/dev/null";
    if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "openssl(1) is not installed";
    auto file = crc();
    auto trailer = signature_trailer(read_bytes(scratch.path("m.p7s")));
    file.insert(file.end(), trailer.begin(), trailer.end());
    SignatureCheck check = verify_module_signature(file, ring_of({"rsa.crt"}));
    EXPECT_EQ(check.code, EKEYREJECTED);
    EXPECT_EQ(check.reason, "invalid module signature (has authattrs)");
}

}  // namespace
}  // namespace umod::sign::test
