// The part of libcrypto umod uses (modinfo's signature fields, signing,
// verification, keyrings), loaded on first use (support/private_library.h)
// rather than linked: linking it costs every umod process about half a
// millisecond of dynamic linking, more than a whole `umod modprobe -D`, and a
// process that never touches a signature never maps OpenSSL. Filled once and
// read-only afterwards; the library is never unloaded.
#pragma once

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

#include <umod/expected.h>

namespace umod::support {

struct Libcrypto {
    decltype(&::BIO_new_mem_buf) BIO_new_mem_buf = nullptr;
    decltype(&::BIO_new) BIO_new = nullptr;
    decltype(&::BIO_s_mem) BIO_s_mem = nullptr;
    decltype(&::BIO_ctrl) BIO_ctrl = nullptr;
    decltype(&::BIO_free) BIO_free = nullptr;
    decltype(&::PEM_read_bio_PrivateKey) PEM_read_bio_PrivateKey = nullptr;
    decltype(&::d2i_PrivateKey_bio) d2i_PrivateKey_bio = nullptr;
    decltype(&::EVP_PKEY_free) EVP_PKEY_free = nullptr;
    decltype(&::PEM_read_bio_X509) PEM_read_bio_X509 = nullptr;
    decltype(&::d2i_X509) d2i_X509 = nullptr;
    decltype(&::i2d_X509) i2d_X509 = nullptr;
    decltype(&::X509_free) X509_free = nullptr;
    decltype(&::X509_get_subject_name) X509_get_subject_name = nullptr;
    decltype(&::X509_NAME_oneline) X509_NAME_oneline = nullptr;
    decltype(&::X509_NAME_get_index_by_NID) X509_NAME_get_index_by_NID = nullptr;
    decltype(&::X509_NAME_get_entry) X509_NAME_get_entry = nullptr;
    decltype(&::X509_NAME_ENTRY_get_data) X509_NAME_ENTRY_get_data = nullptr;
    decltype(&::ASN1_STRING_get0_data) ASN1_STRING_get0_data = nullptr;
    decltype(&::ASN1_STRING_length) ASN1_STRING_length = nullptr;
    decltype(&::EVP_get_digestbyname) EVP_get_digestbyname = nullptr;
    decltype(&::EVP_MD_get_type) EVP_MD_get_type = nullptr;
    decltype(&::OBJ_obj2nid) OBJ_obj2nid = nullptr;
    decltype(&::OBJ_nid2sn) OBJ_nid2sn = nullptr;
    decltype(&::CMS_sign) CMS_sign = nullptr;
    decltype(&::CMS_add1_signer) CMS_add1_signer = nullptr;
    decltype(&::CMS_final) CMS_final = nullptr;
    decltype(&::i2d_CMS_ContentInfo) i2d_CMS_ContentInfo = nullptr;
    decltype(&::d2i_CMS_ContentInfo) d2i_CMS_ContentInfo = nullptr;
    decltype(&::CMS_ContentInfo_free) CMS_ContentInfo_free = nullptr;
    decltype(&::CMS_get0_type) CMS_get0_type = nullptr;
    decltype(&::CMS_get0_eContentType) CMS_get0_eContentType = nullptr;
    decltype(&::CMS_get0_SignerInfos) CMS_get0_SignerInfos = nullptr;
    decltype(&::CMS_SignerInfo_cert_cmp) CMS_SignerInfo_cert_cmp = nullptr;
    decltype(&::CMS_SignerInfo_get0_algs) CMS_SignerInfo_get0_algs = nullptr;
    decltype(&::CMS_signed_get_attr_count) CMS_signed_get_attr_count = nullptr;
    decltype(&::X509_ALGOR_get0) X509_ALGOR_get0 = nullptr;
    decltype(&::CMS_SignerInfo_get0_signature) CMS_SignerInfo_get0_signature = nullptr;
    decltype(&::X509_get0_pubkey) X509_get0_pubkey = nullptr;
    decltype(&::EVP_Digest) EVP_Digest = nullptr;
    decltype(&::EVP_PKEY_CTX_new) EVP_PKEY_CTX_new = nullptr;
    decltype(&::EVP_PKEY_CTX_free) EVP_PKEY_CTX_free = nullptr;
    decltype(&::EVP_PKEY_verify_init) EVP_PKEY_verify_init = nullptr;
    decltype(&::EVP_PKEY_CTX_set_signature_md) EVP_PKEY_CTX_set_signature_md = nullptr;
    decltype(&::EVP_PKEY_verify) EVP_PKEY_verify = nullptr;
    decltype(&::OPENSSL_sk_new_null) sk_new_null = nullptr;
    decltype(&::OPENSSL_sk_push) sk_push = nullptr;
    decltype(&::OPENSSL_sk_free) sk_free = nullptr;
    decltype(&::OPENSSL_sk_num) sk_num = nullptr;
    decltype(&::OPENSSL_sk_value) sk_value = nullptr;
    decltype(&::ERR_get_error) ERR_get_error = nullptr;
    decltype(&::ERR_error_string_n) ERR_error_string_n = nullptr;
    decltype(&::ERR_clear_error) ERR_clear_error = nullptr;
    decltype(&::CRYPTO_free) CRYPTO_free = nullptr;
    decltype(&::d2i_PKCS7) d2i_PKCS7 = nullptr;
    decltype(&::PKCS7_free) PKCS7_free = nullptr;
    decltype(&::PKCS7_get_signer_info) PKCS7_get_signer_info = nullptr;
    decltype(&::ASN1_INTEGER_to_BN) ASN1_INTEGER_to_BN = nullptr;
    decltype(&::BN_free) BN_free = nullptr;
    decltype(&::BN_num_bits) BN_num_bits = nullptr;
    decltype(&::BN_bn2bin) BN_bn2bin = nullptr;

    // The oldest queued error's text ("error:...:routines:reason"), the
    // queue cleared; `fallback` when there is none.
    std::string last_error(const char* fallback) const;
};

// libcrypto's functions, or ELIBACC naming the library when it cannot be
// loaded. Thread-safe.
Expected<const Libcrypto*> libcrypto();

// A hash algorithm's name as the kernel spells it (hash_algo_name[]:
// "sha256", "rmd160", "sha3-256"), or "unknown" for any other NID. kmod 30
// knows the names up to sm3 only and prints "unknown" for the sha3 family:
// `as_kmod30` gives its answer.
std::string_view kernel_hash_name(int nid, bool as_kmod30 = false);

// Owning handles.
struct X509Free { void operator()(X509* x) const; };
struct PkeyFree { void operator()(EVP_PKEY* k) const; };
struct BioFree { void operator()(BIO* b) const; };
struct CmsFree { void operator()(CMS_ContentInfo* c) const; };
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, CmsFree>;

}  // namespace umod::support
