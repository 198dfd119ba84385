#include "sign/kernel_image.h"

#include "elf/decompress.h"
#include "support/libcrypto.h"
#include "support/mapped_file.h"
#include "support/private_library.h"

#include <lz4.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <set>
#include <string_view>

namespace umod::sign {

namespace {

std::uint32_t le32(std::span<const std::byte> b, std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = v << 8 | std::to_integer<std::uint32_t>(b[at + static_cast<std::size_t>(i)]);
    return v;
}

bool starts_with(std::span<const std::byte> b, std::string_view magic) {
    return b.size() >= magic.size() && std::memcmp(b.data(), magic.data(), magic.size()) == 0;
}

// A hostile payload must not make the decompressor allocate without bound.
constexpr std::size_t kMaxKernel = std::size_t{1} << 30;

// The kernel's LZ4 "legacy" format (lib/decompress_unlz4.c): the magic, then
// chunks of a little-endian compressed size and the block, each at most
// 8 MiB decompressed; anything else after the last chunk (the appended
// length) ends it.
Expected<std::vector<std::byte>> unlz4_legacy(std::span<const std::byte> in) {
    struct Lz4 {
        decltype(&::LZ4_decompress_safe) decompress_safe = nullptr;
    };
    static const auto lz4 = support::bind_private_library<Lz4>(
        "liblz4.so.1", [](Lz4& t, auto& bind) { bind(t.decompress_safe, "LZ4_decompress_safe"); });
    if (lz4.table == nullptr) return Error(ELIBACC, "cannot load liblz4: " + lz4.error);
    const auto decompress = lz4.table->decompress_safe;
    constexpr std::size_t kChunk = std::size_t{8} << 20;
    std::vector<std::byte> out;
    std::size_t at = 4;
    while (at + 4 <= in.size()) {
        const std::uint32_t size = le32(in, at);
        if (size == 0x184C2102) {  // a concatenated stream
            at += 4;
            continue;
        }
        if (size > in.size() - at - 4 || size > static_cast<std::uint32_t>(LZ4_COMPRESSBOUND(kChunk))) break;
        if (out.size() + kChunk > kMaxKernel) return Error(EFBIG, "kernel payload decompresses to over 1 GiB");
        const std::size_t had = out.size();
        out.resize(had + kChunk);
        const int n = decompress(reinterpret_cast<const char*>(in.data() + at + 4),
                                 reinterpret_cast<char*>(out.data() + had), static_cast<int>(size),
                                 static_cast<int>(kChunk));
        if (n < 0) return Error(EINVAL, "corrupt LZ4 payload (block at offset " + std::to_string(at) + ")");
        out.resize(had + static_cast<std::size_t>(n));
        at += 4 + size;
    }
    if (out.empty()) return Error(EINVAL, "empty LZ4 payload");
    return out;
}

}  // namespace

Expected<std::vector<std::byte>> kernel_image_payload(std::span<const std::byte> image) {
    // The x86 boot protocol's setup header (Documentation/x86/boot.rst).
    if (image.size() < 0x250 || std::memcmp(image.data() + 0x202, "HdrS", 4) != 0)
        return std::vector<std::byte>(image.begin(), image.end());
    const std::uint16_t version = static_cast<std::uint16_t>(std::to_integer<unsigned>(image[0x206]) |
                                                             std::to_integer<unsigned>(image[0x207]) << 8);
    if (version < 0x208) return Error(EPROTONOSUPPORT, "bzImage boot protocol too old (no payload fields)");
    std::uint64_t setup_sects = std::to_integer<unsigned>(image[0x1f1]);
    if (setup_sects == 0) setup_sects = 4;
    const std::uint64_t offset = (setup_sects + 1) * 512 + le32(image, 0x248);
    const std::uint64_t length = le32(image, 0x24c);
    if (offset > image.size() || length > image.size() - offset)
        return Error(EINVAL, "bzImage payload (offset " + std::to_string(offset) + ", " + std::to_string(length) +
                                 " bytes) is outside the file");
    std::span<const std::byte> payload = image.subspan(offset, length);
    if (starts_with(payload, "\x02\x21\x4c\x18")) return unlz4_legacy(payload);
    // Kbuild appends the decompressed size (4 bytes) to every compressed
    // kernel ($(size_append)): after the xz or zstd stream, not part of it.
    std::span<const std::byte> stream = payload.size() > 4 ? payload.first(payload.size() - 4) : payload;
    if (starts_with(payload, "\xfd" "7zXZ")) return elf::decompress(stream, elf::Compression::Xz);
    if (starts_with(payload, "\x28\xb5\x2f\xfd")) return elf::decompress(stream, elf::Compression::Zstd);
    const char* name = starts_with(payload, "\x1f\x8b")   ? "gzip"
                       : starts_with(payload, "BZh")      ? "bzip2"
                       : starts_with(payload, "\x89LZO") ? "lzo"
                       : starts_with(payload, "\x5d")     ? "lzma"
                                                          : "an unknown format";
    return Error(EPROTONOSUPPORT, std::string("bzImage payload compressed with ") + name +
                                      " (umod reads LZ4, xz and zstd kernels)");
}

Expected<Keyring> certificates_in_kernel(std::span<const std::byte> kernel) {
    Keyring ring;
    std::set<std::vector<std::byte>> seen;
    // 30 82 L L 30 82 L L a0 03 02 01 02: Certificate, TBSCertificate, [0] version v3.
    static constexpr unsigned char kTbsVersion[] = {0xa0, 0x03, 0x02, 0x01, 0x02};
    const auto* base = reinterpret_cast<const unsigned char*>(kernel.data());
    std::size_t at = 0;
    while (at + 13 <= kernel.size()) {
        const void* hit = std::memchr(base + at, 0x30, kernel.size() - 13 - at + 1);
        if (hit == nullptr) break;
        at = static_cast<std::size_t>(static_cast<const unsigned char*>(hit) - base);
        const unsigned char* p = base + at;
        if (p[1] == 0x82 && p[4] == 0x30 && p[5] == 0x82 && std::memcmp(p + 8, kTbsVersion, 5) == 0) {
            const std::size_t total = (std::size_t{p[2]} << 8 | p[3]) + 4;
            const std::size_t tbs = (std::size_t{p[6]} << 8 | p[7]) + 4;
            if (tbs < total && total <= kernel.size() - at) {
                std::span<const std::byte> der = kernel.subspan(at, total);
                std::vector<std::byte> copy(der.begin(), der.end());
                if (seen.count(copy) != 0) {  // a second copy of one certificate: kept once
                    at += total;
                    continue;
                }
                Status added = ring.add_der(der);
                if (added) {
                    seen.insert(std::move(copy));
                    at += total;
                    continue;
                }
                if (added.error().code() == ELIBACC) return added.error();
            }
        }
        ++at;
    }
    return ring;
}

Expected<Keyring> keyring_from_kernel_image(const std::string& path) {
    auto file = support::MappedFile::open(path);
    if (!file) return file.error().context(path);
    auto kernel = kernel_image_payload(file->bytes());
    if (!kernel) return kernel.error().context(path);
    auto ring = certificates_in_kernel(*kernel);
    if (!ring) return ring.error().context(path);
    if (ring->empty()) return Error(ENOKEY, path + ": no X.509 certificate in the kernel image");
    return ring;
}

}  // namespace umod::sign
