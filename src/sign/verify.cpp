#include "sign/verify.h"

#include "elf/signature_trailer.h"
#include "support/libcrypto.h"

#include <cerrno>
#include <climits>
#include <cstring>

namespace umod::sign {

namespace {

SignatureCheck outcome(SignatureStatus status, int code, std::string reason) {
    SignatureCheck check;
    check.status = status;
    check.code = code;
    check.reason = std::move(reason);
    return check;
}

// Digests the kernel verifies module signatures with (crypto/asymmetric_keys
// of 6.1: sha1, the sha2 family, sha3 and sm3; umod takes what OpenSSL 3 does).
bool supported_digest(int nid) {
    switch (nid) {
        case NID_sha1: case NID_sha224: case NID_sha256: case NID_sha384: case NID_sha512:
        case NID_sha3_256: case NID_sha3_384: case NID_sha3_512: case NID_sm3:
            return true;
        default:
            return false;
    }
}

bool supported_key(int nid) {
    switch (nid) {
        case NID_rsaEncryption: case NID_X9_62_id_ecPublicKey: case NID_sm2:
        case NID_ecdsa_with_SHA1: case NID_ecdsa_with_SHA224: case NID_ecdsa_with_SHA256:
        case NID_ecdsa_with_SHA384: case NID_ecdsa_with_SHA512:
        case NID_sha1WithRSAEncryption: case NID_sha224WithRSAEncryption: case NID_sha256WithRSAEncryption:
        case NID_sha384WithRSAEncryption: case NID_sha512WithRSAEncryption:
            return true;
        default:
            return false;
    }
}

}  // namespace

SignatureCheck verify_module_signature(std::span<const std::byte> file, const Keyring& keyring) {
    // mod_verify_sig() and mod_check_sig(), in their order.
    auto trailer = elf::parse_signature_trailer(file);
    if (!trailer) return outcome(SignatureStatus::Malformed, EBADMSG, trailer.error().message());
    if (!*trailer) return outcome(SignatureStatus::Unsigned, ENODATA, "unsigned module");
    const elf::SignatureTrailer& t = **trailer;
    if (t.module_size == 0) return outcome(SignatureStatus::Malformed, EBADMSG, "module signature longer than the file");
    if (t.id_type != elf::kPkeyIdPkcs7)
        return outcome(SignatureStatus::UnsupportedCrypto, ENOPKG, "module with unsupported crypto");
    if (t.algo != 0 || t.hash != 0 || t.signer_len != 0 || t.key_id_len != 0 || t.pad[0] != 0 || t.pad[1] != 0 ||
        t.pad[2] != 0)
        return outcome(SignatureStatus::Malformed, EBADMSG, "module signature trailer: reserved fields are not zero");
    if (t.module_size > INT_MAX || t.signature.size() > INT_MAX)
        return outcome(SignatureStatus::Malformed, EBADMSG, "module too large to verify (over 2 GiB)");

    auto loaded = support::libcrypto();
    if (!loaded) return outcome(SignatureStatus::Unavailable, ELIBACC, loaded.error().message());
    const support::Libcrypto& c = **loaded;
    c.ERR_clear_error();
    const auto* p = reinterpret_cast<const unsigned char*>(t.signature.data());
    support::CmsPtr cms(c.d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(t.signature.size())));
    if (!cms || p != reinterpret_cast<const unsigned char*>(t.signature.data() + t.signature.size()))
        return outcome(SignatureStatus::Malformed, EBADMSG,
                       "module signature is not a PKCS#7 message: " + c.last_error("trailing bytes"));
    if (c.OBJ_obj2nid(c.CMS_get0_type(cms.get())) != NID_pkcs7_signed)
        return outcome(SignatureStatus::Malformed, EBADMSG, "module signature is not PKCS#7 signed data");
    if (c.OBJ_obj2nid(c.CMS_get0_eContentType(cms.get())) != NID_pkcs7_data)
        return outcome(SignatureStatus::Rejected, EKEYREJECTED, "invalid module signature (not pkcs7-data)");
    auto* signers = reinterpret_cast<OPENSSL_STACK*>(c.CMS_get0_SignerInfos(cms.get()));
    if (signers == nullptr || c.sk_num(signers) < 1)
        return outcome(SignatureStatus::Malformed, EBADMSG, "module signature has no signer");
    auto* si = static_cast<CMS_SignerInfo*>(c.sk_value(signers, 0));
    X509_ALGOR* digest = nullptr;
    X509_ALGOR* algorithm = nullptr;
    c.CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest, &algorithm);
    const ASN1_OBJECT* digest_oid = nullptr;
    const ASN1_OBJECT* algorithm_oid = nullptr;
    if (digest != nullptr) c.X509_ALGOR_get0(&digest_oid, nullptr, nullptr, digest);
    if (algorithm != nullptr) c.X509_ALGOR_get0(&algorithm_oid, nullptr, nullptr, algorithm);
    const int digest_nid = digest_oid ? c.OBJ_obj2nid(digest_oid) : NID_undef;
    SignatureCheck check;
    check.hash = support::kernel_hash_name(digest_nid);
    check.module_size = t.module_size;
    auto with = [&](SignatureStatus status, int code, std::string reason) {
        check.status = status;
        check.code = code;
        check.reason = std::move(reason);
        return check;
    };
    if (!supported_digest(digest_nid) || !algorithm_oid || !supported_key(c.OBJ_obj2nid(algorithm_oid)))
        return with(SignatureStatus::UnsupportedCrypto, ENOPKG, "module with unsupported crypto");
    if (c.CMS_signed_get_attr_count(si) > 0)
        return with(SignatureStatus::Rejected, EKEYREJECTED, "invalid module signature (has authattrs)");

    X509* key = nullptr;
    for (const auto& certificate : keyring.certificates())
        if (c.CMS_SignerInfo_cert_cmp(si, certificate.get()) == 0) {
            key = certificate.get();
            break;
        }
    if (key == nullptr) return with(SignatureStatus::UnavailableKey, ENOKEY, "module with unavailable key");
    check.signer = Keyring::subject(*key);

    // No signed attributes: the signature is over the module's digest itself
    // (as the kernel's public_key_verify_signature takes it). OpenSSL
    // digests and verifies; CMS_verify does the same through a chain of BIOs
    // at several times the cost.
    const EVP_MD* md = c.EVP_get_digestbyname(c.OBJ_nid2sn(digest_nid));
    ASN1_OCTET_STRING* value = c.CMS_SignerInfo_get0_signature(si);
    EVP_PKEY* public_key = c.X509_get0_pubkey(key);
    if (md == nullptr || value == nullptr || public_key == nullptr)
        return with(SignatureStatus::UnsupportedCrypto, ENOPKG, "module with unsupported crypto");
    unsigned char digest_value[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    if (c.EVP_Digest(file.data(), t.module_size, digest_value, &digest_size, md, nullptr) != 1)
        return with(SignatureStatus::Unavailable, ENOMEM, "digest: " + c.last_error("failed"));
    std::unique_ptr<EVP_PKEY_CTX, decltype(c.EVP_PKEY_CTX_free)> ctx(c.EVP_PKEY_CTX_new(public_key, nullptr),
                                                                      c.EVP_PKEY_CTX_free);
    if (!ctx || c.EVP_PKEY_verify_init(ctx.get()) != 1 || c.EVP_PKEY_CTX_set_signature_md(ctx.get(), md) != 1)
        return with(SignatureStatus::UnsupportedCrypto, ENOPKG, "module with unsupported crypto");
    if (c.EVP_PKEY_verify(ctx.get(), c.ASN1_STRING_get0_data(value), static_cast<std::size_t>(c.ASN1_STRING_length(value)),
                          digest_value, digest_size) != 1)
        return with(SignatureStatus::Rejected, EKEYREJECTED,
                    "module signature does not verify: " + c.last_error("bad signature"));
    return with(SignatureStatus::Verified, 0, "");
}

}  // namespace umod::sign
