#include "support/libcrypto.h"

#include "support/private_library.h"

#include <openssl/opensslv.h>

#include <cerrno>

namespace umod::support {

std::string Libcrypto::last_error(const char* fallback) const {
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return fallback;
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

Expected<const Libcrypto*> libcrypto() {
    static const std::string soname = "libcrypto.so." + std::to_string(OPENSSL_VERSION_MAJOR);
    static const auto loaded = support::bind_private_library<Libcrypto>(soname, [](Libcrypto& c, auto& bind) {
        bind(c.BIO_new_mem_buf, "BIO_new_mem_buf");
        bind(c.BIO_new, "BIO_new");
        bind(c.BIO_s_mem, "BIO_s_mem");
        bind(c.BIO_ctrl, "BIO_ctrl");
        bind(c.BIO_free, "BIO_free");
        bind(c.PEM_read_bio_PrivateKey, "PEM_read_bio_PrivateKey");
        bind(c.d2i_PrivateKey_bio, "d2i_PrivateKey_bio");
        bind(c.EVP_PKEY_free, "EVP_PKEY_free");
        bind(c.PEM_read_bio_X509, "PEM_read_bio_X509");
        bind(c.d2i_X509, "d2i_X509");
        bind(c.i2d_X509, "i2d_X509");
        bind(c.X509_free, "X509_free");
        bind(c.X509_get_subject_name, "X509_get_subject_name");
        bind(c.X509_NAME_oneline, "X509_NAME_oneline");
        bind(c.X509_NAME_get_index_by_NID, "X509_NAME_get_index_by_NID");
        bind(c.X509_NAME_get_entry, "X509_NAME_get_entry");
        bind(c.X509_NAME_ENTRY_get_data, "X509_NAME_ENTRY_get_data");
        bind(c.ASN1_STRING_get0_data, "ASN1_STRING_get0_data");
        bind(c.ASN1_STRING_length, "ASN1_STRING_length");
        bind(c.EVP_get_digestbyname, "EVP_get_digestbyname");
        bind(c.EVP_MD_get_type, "EVP_MD_get_type");
        bind(c.OBJ_obj2nid, "OBJ_obj2nid");
        bind(c.OBJ_nid2sn, "OBJ_nid2sn");
        bind(c.CMS_sign, "CMS_sign");
        bind(c.CMS_add1_signer, "CMS_add1_signer");
        bind(c.CMS_final, "CMS_final");
        bind(c.i2d_CMS_ContentInfo, "i2d_CMS_ContentInfo");
        bind(c.d2i_CMS_ContentInfo, "d2i_CMS_ContentInfo");
        bind(c.CMS_ContentInfo_free, "CMS_ContentInfo_free");
        bind(c.CMS_get0_type, "CMS_get0_type");
        bind(c.CMS_get0_eContentType, "CMS_get0_eContentType");
        bind(c.CMS_get0_SignerInfos, "CMS_get0_SignerInfos");
        bind(c.CMS_SignerInfo_cert_cmp, "CMS_SignerInfo_cert_cmp");
        bind(c.CMS_SignerInfo_get0_algs, "CMS_SignerInfo_get0_algs");
        bind(c.CMS_signed_get_attr_count, "CMS_signed_get_attr_count");
        bind(c.X509_ALGOR_get0, "X509_ALGOR_get0");
        bind(c.CMS_SignerInfo_get0_signature, "CMS_SignerInfo_get0_signature");
        bind(c.X509_get0_pubkey, "X509_get0_pubkey");
        bind(c.EVP_Digest, "EVP_Digest");
        bind(c.EVP_PKEY_CTX_new, "EVP_PKEY_CTX_new");
        bind(c.EVP_PKEY_CTX_free, "EVP_PKEY_CTX_free");
        bind(c.EVP_PKEY_verify_init, "EVP_PKEY_verify_init");
        bind(c.EVP_PKEY_CTX_set_signature_md, "EVP_PKEY_CTX_set_signature_md");
        bind(c.EVP_PKEY_verify, "EVP_PKEY_verify");
        bind(c.sk_new_null, "OPENSSL_sk_new_null");
        bind(c.sk_push, "OPENSSL_sk_push");
        bind(c.sk_free, "OPENSSL_sk_free");
        bind(c.sk_num, "OPENSSL_sk_num");
        bind(c.sk_value, "OPENSSL_sk_value");
        bind(c.ERR_get_error, "ERR_get_error");
        bind(c.ERR_error_string_n, "ERR_error_string_n");
        bind(c.ERR_clear_error, "ERR_clear_error");
        bind(c.CRYPTO_free, "CRYPTO_free");
        bind(c.d2i_PKCS7, "d2i_PKCS7");
        bind(c.PKCS7_free, "PKCS7_free");
        bind(c.PKCS7_get_signer_info, "PKCS7_get_signer_info");
        bind(c.ASN1_INTEGER_to_BN, "ASN1_INTEGER_to_BN");
        bind(c.BN_free, "BN_free");
        bind(c.BN_num_bits, "BN_num_bits");
        bind(c.BN_bn2bin, "BN_bn2bin");
    });
    if (loaded.table == nullptr) return Error(ELIBACC, "cannot load " + soname + ": " + loaded.error);
    return loaded.table;
}

std::string_view kernel_hash_name(int nid, bool as_kmod30) {
    switch (nid) {
        case NID_md4: return "md4";
        case NID_md5: return "md5";
        case NID_sha1: return "sha1";
        case NID_ripemd160: return "rmd160";
        case NID_sha256: return "sha256";
        case NID_sha384: return "sha384";
        case NID_sha512: return "sha512";
        case NID_sha224: return "sha224";
        case NID_sm3: return "sm3";
        case NID_sha3_256: return as_kmod30 ? "unknown" : "sha3-256";
        case NID_sha3_384: return as_kmod30 ? "unknown" : "sha3-384";
        case NID_sha3_512: return as_kmod30 ? "unknown" : "sha3-512";
        default: return "unknown";
    }
}

// The handles are only ever made from a loaded library.
void X509Free::operator()(X509* x) const { (*libcrypto())->X509_free(x); }
void PkeyFree::operator()(EVP_PKEY* k) const { (*libcrypto())->EVP_PKEY_free(k); }
void BioFree::operator()(BIO* b) const { (*libcrypto())->BIO_free(b); }
void CmsFree::operator()(CMS_ContentInfo* c) const { (*libcrypto())->CMS_ContentInfo_free(c); }

}  // namespace umod::support
