// umod verify [-k KEYRING]... [--keyring-from-kernel VMLINUZ]... [--list-keys]
// [--extract-certs FILE] FILE...: verifies each module's appended signature
// (.ko, .so, compressed too) as the kernel would, one line per file; exit 0
// only if every one verifies. --extract-certs writes the keyring as DER
// certificates one after another, as the kernel's scripts/extract-cert does.
#include <getopt.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <string>
#include <vector>

#include "commands.h"
#include "elf/decompress.h"
#include "sign/kernel_image.h"
#include "sign/keyring.h"
#include "sign/verify.h"
#include "support/mapped_file.h"

namespace umod::tool {

namespace {

int usage(std::FILE* out) {
    std::fputs("Usage: umod verify [-k KEYRING]... [--keyring-from-kernel VMLINUZ]... [--list-keys] FILE...\n"
               "  Verifies each module's appended signature (.ko, .so, .xz, .zst) as the kernel does; one line\n"
               "  per file; exit status 0 only if every file verifies.\n"
               "  -k, --keyring PATH           trusted certificates: a PEM or DER file, or a directory of them\n"
               "                               (default: $UMOD_KEYRING)\n"
               "  -K, --keyring-from-kernel F  the certificates built into the kernel image F (/boot/vmlinuz-*)\n"
               "  -l, --list-keys              print the keyring's certificates (subject CN) first\n"
               "  -x, --extract-certs FILE     write the keyring to FILE (DER certificates, as extract-cert)\n",
               out);
    return out == stdout ? 0 : 2;
}

}  // namespace

int verify_main(std::string_view, std::span<char* const> args) {
    std::vector<std::string> keyrings, kernels;
    bool list = false;
    std::string extract;
    std::string argv0 = "verify";
    std::vector<char*> argv = getopt_argv(argv0, args);
    static const option long_options[] = {
        {"keyring", required_argument, nullptr, 'k'}, {"keyring-from-kernel", required_argument, nullptr, 'K'},
        {"list-keys", no_argument, nullptr, 'l'},     {"help", no_argument, nullptr, 'h'},
        {"extract-certs", required_argument, nullptr, 'x'},
        {nullptr, 0, nullptr, 0},
    };
    optind = 1;
    for (int c; (c = getopt_long(static_cast<int>(argv.size()) - 1, argv.data(), "k:K:lx:h", long_options, nullptr)) != -1;) {
        switch (c) {
            case 'k': keyrings.push_back(optarg); break;
            case 'K': kernels.push_back(optarg); break;
            case 'l': list = true; break;
            case 'x': extract = optarg; break;
            case 'h': return usage(stdout);
            default: return usage(stderr);
        }
    }
    if (keyrings.empty() && kernels.empty())
        if (const char* env = std::getenv("UMOD_KEYRING"); env && *env) keyrings.push_back(env);
    if (keyrings.empty() && kernels.empty()) {
        std::fputs("umod verify: no keyring: give -k KEYRING or --keyring-from-kernel VMLINUZ (or set UMOD_KEYRING)\n",
                   stderr);
        return 2;
    }
    if (optind >= static_cast<int>(argv.size()) - 1 && !list && extract.empty()) return usage(stderr);

    sign::Keyring ring;
    for (const std::string& path : keyrings) {
        auto loaded = sign::Keyring::load(path);
        if (!loaded) {
            std::fprintf(stderr, "umod verify: %s\n", loaded.error().message().c_str());
            return 2;
        }
        ring.add_all(*loaded);
    }
    for (const std::string& path : kernels) {
        auto loaded = sign::keyring_from_kernel_image(path);
        if (!loaded) {
            std::fprintf(stderr, "umod verify: %s\n", loaded.error().message().c_str());
            return 2;
        }
        ring.add_all(*loaded);
    }
    if (!extract.empty()) {
        std::vector<std::byte> der = ring.der();
        std::FILE* out = std::fopen(extract.c_str(), "wb");
        if (out == nullptr || std::fwrite(der.data(), 1, der.size(), out) != der.size() || std::fclose(out) != 0) {
            std::fprintf(stderr, "umod verify: %s: %s\n", extract.c_str(), std::strerror(errno));
            return 2;
        }
    }
    if (list)
        for (const auto& certificate : ring.certificates())
            std::printf("key: %s\n", sign::Keyring::subject(*certificate).c_str());

    int failed = 0;
    for (int i = optind; i < static_cast<int>(argv.size()) - 1; ++i) {
        const std::string path = argv[i];
        auto file = support::MappedFile::open(path);
        if (!file) {
            std::printf("%s: FAIL: %s\n", path.c_str(), file.error().message().c_str());
            ++failed;
            continue;
        }
        std::vector<std::byte> unpacked;
        std::span<const std::byte> bytes = file->bytes();
        if (auto compression = elf::compression_of(path); compression != elf::Compression::None) {
            auto data = elf::decompress(bytes, compression);
            if (!data) {
                std::printf("%s: FAIL: cannot decompress: %s\n", path.c_str(), data.error().message().c_str());
                ++failed;
                continue;
            }
            unpacked = std::move(*data);
            bytes = unpacked;
        }
        sign::SignatureCheck check = sign::verify_module_signature(bytes, ring);
        if (check.verified()) {
            std::printf("%s: OK: signed by \"%s\" (%s)\n", path.c_str(), check.signer.c_str(), check.hash.c_str());
        } else {
            std::printf("%s: FAIL: %s\n", path.c_str(), check.reason.c_str());
            ++failed;
        }
    }
    return failed == 0 ? 0 : 1;
}

}  // namespace umod::tool
