#include "sign/keyring.h"

#include "support/libcrypto.h"
#include "support/mapped_file.h"
#include "support/mutex.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

namespace umod::sign {

namespace {

std::shared_ptr<X509> share(X509* x) {
    return std::shared_ptr<X509>(x, support::X509Free{});
}

}  // namespace

Status Keyring::add_der(std::span<const std::byte> der) {
    auto c = support::libcrypto();
    if (!c) return c.error();
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    X509* x = (*c)->d2i_X509(nullptr, &p, static_cast<long>(der.size()));
    if (x == nullptr) return Error(EBADMSG, "not an X.509 certificate: " + (*c)->last_error("unparsable"));
    certificates_.push_back(share(x));
    return {};
}

Status Keyring::add_bytes(std::span<const std::byte> bytes, const std::string& origin) {
    auto c = support::libcrypto();
    if (!c) return c.error();
    if (!bytes.empty() && bytes[0] == std::byte{0x30}) {  // DER: one certificate, or several one after another
        const auto* start = reinterpret_cast<const unsigned char*>(bytes.data());
        const auto* p = start;
        const auto* end = start + bytes.size();
        while (p < end) {
            X509* x = (*c)->d2i_X509(nullptr, &p, static_cast<long>(end - p));
            if (x == nullptr)
                return Error(EBADMSG, origin + ": not an X.509 certificate at offset " + std::to_string(p - start) +
                                          ": " + (*c)->last_error("unparsable"));
            certificates_.push_back(share(x));
        }
        return {};
    }
    support::BioPtr bio((*c)->BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    if (!bio) return Error(ENOMEM, origin + ": " + (*c)->last_error("out of memory"));
    std::size_t found = 0;
    while (X509* x = (*c)->PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
        certificates_.push_back(share(x));
        ++found;
    }
    (*c)->ERR_clear_error();  // the end of the PEM text
    if (found == 0) return Error(EBADMSG, origin + ": no X.509 certificate (PEM or DER) in it");
    return {};
}

Expected<Keyring> Keyring::load(const std::string& path) {
    Keyring ring;
    std::error_code ec;
    std::vector<std::string> files;
    if (std::filesystem::is_directory(path, ec)) {
        for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
            if (entry.path().filename().string().starts_with(".")) continue;
            if (entry.is_regular_file(ec)) files.push_back(entry.path().string());
        }
        if (ec) return Error(ec.value(), path + ": " + ec.message());
        std::sort(files.begin(), files.end());
        if (files.empty()) return Error(ENOENT, path + ": keyring directory holds no certificate file");
    } else {
        files.push_back(path);
    }
    for (const std::string& file : files) {
        auto bytes = support::MappedFile::open(file);
        if (!bytes) return bytes.error().context(file);
        if (Status added = ring.add_bytes(bytes->bytes(), file); !added) return added.error();
    }
    return ring;
}

std::string Keyring::subject(const X509& certificate) {
    auto c = support::libcrypto();
    if (!c) return {};
    X509_NAME* name = (*c)->X509_get_subject_name(&certificate);
    int index = (*c)->X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (index < 0) {
        char line[256];
        return (*c)->X509_NAME_oneline(name, line, sizeof line) ? line : "";
    }
    ASN1_STRING* cn = (*c)->X509_NAME_ENTRY_get_data((*c)->X509_NAME_get_entry(name, index));
    return std::string(reinterpret_cast<const char*>((*c)->ASN1_STRING_get0_data(cn)),
                       static_cast<std::size_t>((*c)->ASN1_STRING_length(cn)));
}

std::vector<std::byte> Keyring::der() const {
    std::vector<std::byte> out;
    auto c = support::libcrypto();
    if (!c) return out;
    for (const auto& certificate : certificates_) {
        unsigned char* der = nullptr;
        int n = (*c)->i2d_X509(certificate.get(), &der);
        if (n <= 0) continue;
        out.insert(out.end(), reinterpret_cast<std::byte*>(der), reinterpret_cast<std::byte*>(der) + n);
        (*c)->CRYPTO_free(der, __FILE__, __LINE__);
    }
    return out;
}

Expected<std::shared_ptr<const Keyring>> shared_keyring(const std::string& path) {
    struct Entry {
        timespec mtime{};
        off_t size = 0;
        std::shared_ptr<const Keyring> ring;
    };
    static support::Mutex mutex;
    static std::map<std::string, Entry> cache;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return Error(errno, path + ": " + std::strerror(errno));
    support::MutexLock lock(mutex);
    Entry& entry = cache[path];
    if (entry.ring && entry.mtime.tv_sec == st.st_mtim.tv_sec && entry.mtime.tv_nsec == st.st_mtim.tv_nsec &&
        entry.size == st.st_size)
        return entry.ring;
    auto ring = Keyring::load(path);
    if (!ring) return ring.error();
    entry = Entry{st.st_mtim, st.st_size, std::make_shared<const Keyring>(std::move(*ring))};
    return entry.ring;
}

}  // namespace umod::sign
