// umod sign [-dpk] HASH KEY CERT MODULE [DEST]: appends a module signature
// exactly as the kernel's scripts/sign-file does (same arguments, same bytes
// for RSA keys). -p also writes the signature to MODULE.p7s; -d writes only
// that; -k identifies the signer by the certificate's subject key id.
#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "commands.h"
#include "sign/sign.h"
#include "support/mapped_file.h"

namespace umod::tool {

namespace {

int usage(std::FILE* out) {
    std::fputs("Usage: umod sign [-dpk] <hash algo> <key> <x509> <module> [<dest>]\n"
               "  Appends the kernel's module signature (PKCS#7, struct module_signature, magic), as\n"
               "  scripts/sign-file does. <key>: a PEM or DER private key ($KBUILD_SIGN_PIN: its passphrase;\n"
               "  PKCS#11 URIs are not supported); <x509>: its certificate, PEM or DER.\n"
               "  -p  also save the signature as <module>.p7s\n"
               "  -d  only save the signature as <module>.p7s (the module is not changed)\n"
               "  -k  name the signer by subject key identifier instead of issuer and serial\n"
               "  Without <dest> the module is replaced.\n",
               out);
    return out == stdout ? 0 : 2;
}

// Writes `parts` to `path` through a temporary file renamed into place.
bool write_file(const std::string& path, std::initializer_list<std::span<const std::byte>> parts) {
    const std::string temporary = path + ".~signed~";
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        std::fprintf(stderr, "umod sign: %s: %s\n", temporary.c_str(), std::strerror(errno));
        return false;
    }
    for (std::span<const std::byte> part : parts) {
        for (std::size_t done = 0; done < part.size();) {
            ssize_t n = ::write(fd, part.data() + done, part.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                std::fprintf(stderr, "umod sign: %s: %s\n", temporary.c_str(), std::strerror(errno));
                ::close(fd);
                ::unlink(temporary.c_str());
                return false;
            }
            done += static_cast<std::size_t>(n);
        }
    }
    if (::close(fd) != 0 || ::rename(temporary.c_str(), path.c_str()) != 0) {
        std::fprintf(stderr, "umod sign: %s: %s\n", path.c_str(), std::strerror(errno));
        ::unlink(temporary.c_str());
        return false;
    }
    return true;
}

}  // namespace

int sign_main(std::string_view, std::span<char* const> args) {
    bool save_signature = false, signature_only = false;
    sign::KeyIdentifier id = sign::KeyIdentifier::IssuerAndSerial;
    std::string argv0 = "sign";
    std::vector<char*> argv = getopt_argv(argv0, args);
    static const option long_options[] = {{"help", no_argument, nullptr, 'h'}, {nullptr, 0, nullptr, 0}};
    optind = 1;
    for (int c; (c = getopt_long(static_cast<int>(argv.size()) - 1, argv.data(), "+dpkh", long_options, nullptr)) != -1;) {
        switch (c) {
            case 'd': signature_only = save_signature = true; break;
            case 'p': save_signature = true; break;
            case 'k': id = sign::KeyIdentifier::SubjectKeyId; break;
            case 'h': return usage(stdout);
            default: return usage(stderr);
        }
    }
    const int rest = static_cast<int>(argv.size()) - 1 - optind;
    if (rest != 4 && rest != 5) return usage(stderr);
    const std::string hash = argv[optind], key = argv[optind + 1], cert = argv[optind + 2], module = argv[optind + 3];
    const std::string dest = rest == 5 ? argv[optind + 4] : module;

    auto signer = sign::Signer::open(hash, key, cert, id);
    if (!signer) {
        std::fprintf(stderr, "umod sign: %s\n", signer.error().message().c_str());
        return 1;
    }
    auto file = support::MappedFile::open(module);
    if (!file) {
        std::fprintf(stderr, "umod sign: %s: %s\n", module.c_str(), file.error().message().c_str());
        return 1;
    }
    auto signature = signer->signature(file->bytes());
    if (!signature) {
        std::fprintf(stderr, "umod sign: %s: %s\n", module.c_str(), signature.error().message().c_str());
        return 1;
    }
    if (save_signature && !write_file(module + ".p7s", {*signature})) return 1;
    if (signature_only) return 0;
    std::vector<std::byte> trailer = sign::signature_trailer(*signature);
    return write_file(dest, {file->bytes(), trailer}) ? 0 : 1;
}

}  // namespace umod::tool
