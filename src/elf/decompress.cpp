#include "elf/decompress.h"
#include "support/private_library.h"

#include <dlfcn.h>
#include <lzma.h>
#include <zstd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

namespace umod::elf {

Compression compression_of(std::string_view path) {
    if (path.ends_with(".xz")) return Compression::Xz;
    if (path.ends_with(".zst")) return Compression::Zstd;
    if (path.ends_with(".gz")) return Compression::Gzip;
    return Compression::None;
}

namespace {

// liblzma and libzstd are loaded on the first compressed module rather than
// linked: every umod process would otherwise pay for their dynamic linking
// (and liblzma's start-up CPU probing), and Debian's module trees are not
// compressed. Each table is filled once (a function-local static, so
// thread-safe) and read-only afterwards; the libraries are never unloaded.
template <class Table>
using Loaded = support::PrivateFunctions<Table>;

struct Xz {
    decltype(&::lzma_stream_decoder) stream_decoder = nullptr;
    decltype(&::lzma_code) code = nullptr;
    decltype(&::lzma_end) end = nullptr;
};

const Loaded<Xz>& xz() {
    static const Loaded<Xz> loaded =
        support::bind_private_library<Xz>("liblzma.so." + std::to_string(LZMA_VERSION_MAJOR),
                                          [](Xz& t, auto& bind) {
            bind(t.stream_decoder, "lzma_stream_decoder");
            bind(t.code, "lzma_code");
            bind(t.end, "lzma_end");
        });
    return loaded;
}

struct Zstd {
    decltype(&::ZSTD_createDStream) create = nullptr;
    decltype(&::ZSTD_freeDStream) free = nullptr;
    decltype(&::ZSTD_decompressStream) decompress_stream = nullptr;
    decltype(&::ZSTD_isError) is_error = nullptr;
    decltype(&::ZSTD_getErrorName) error_name = nullptr;
};

const Loaded<Zstd>& zstd() {
    static const Loaded<Zstd> loaded =
        support::bind_private_library<Zstd>("libzstd.so." + std::to_string(ZSTD_VERSION_MAJOR),
                                            [](Zstd& t, auto& bind) {
            bind(t.create, "ZSTD_createDStream");
            bind(t.free, "ZSTD_freeDStream");
            bind(t.decompress_stream, "ZSTD_decompressStream");
            bind(t.is_error, "ZSTD_isError");
            bind(t.error_name, "ZSTD_getErrorName");
        });
    return loaded;
}

Expected<std::vector<std::byte>> unxz(std::span<const std::byte> data) {
    const Loaded<Xz>& lib = xz();
    if (lib.table == nullptr) return Error(ELIBACC, "xz: " + lib.error);
    const Xz& x = *lib.table;
    lzma_stream stream = LZMA_STREAM_INIT;
    if (x.stream_decoder(&stream, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
        return Error(ENOMEM, "xz: cannot start a decoder");
    std::vector<std::byte> out(data.size() * 4 + 4096);
    stream.next_in = reinterpret_cast<const std::uint8_t*>(data.data());
    stream.avail_in = data.size();
    lzma_ret ret = LZMA_OK;
    for (;;) {
        if (stream.total_out == out.size()) out.resize(out.size() * 2);
        stream.next_out = reinterpret_cast<std::uint8_t*>(out.data()) + stream.total_out;
        stream.avail_out = out.size() - stream.total_out;
        ret = x.code(&stream, LZMA_FINISH);
        if (ret != LZMA_OK) break;
    }
    std::size_t produced = stream.total_out;
    x.end(&stream);
    if (ret != LZMA_STREAM_END) return Error(EINVAL, "xz: corrupt or truncated data");
    out.resize(produced);
    return out;
}

Expected<std::vector<std::byte>> unzstd(std::span<const std::byte> data) {
    const Loaded<Zstd>& lib = zstd();
    if (lib.table == nullptr) return Error(ELIBACC, "zstd: " + lib.error);
    const Zstd& z = *lib.table;
    std::unique_ptr<ZSTD_DStream, decltype(&::ZSTD_freeDStream)> stream(z.create(), z.free);
    if (!stream) return Error(ENOMEM, "zstd: cannot start a decoder");
    std::vector<std::byte> out(data.size() * 4 + 4096);
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    std::size_t produced = 0;
    std::size_t ret = 1;
    while (in.pos < in.size || ret != 0) {
        if (produced == out.size()) out.resize(out.size() * 2);
        ZSTD_outBuffer buf{out.data() + produced, out.size() - produced, 0};
        ret = z.decompress_stream(stream.get(), &buf, &in);
        if (z.is_error(ret)) return Error(EINVAL, std::string("zstd: ") + z.error_name(ret));
        produced += buf.pos;
        if (buf.pos == 0 && in.pos == in.size && ret != 0) return Error(EINVAL, "zstd: truncated data");
    }
    out.resize(produced);
    return out;
}

}  // namespace

Expected<std::vector<std::byte>> decompress(std::span<const std::byte> data, Compression compression) {
    switch (compression) {
        case Compression::Xz: return unxz(data);
        case Compression::Zstd: return unzstd(data);
        case Compression::Gzip: return Error(EPROTONOSUPPORT, "gzip-compressed modules are not supported");
        case Compression::None: break;
    }
    return std::vector<std::byte>(data.begin(), data.end());
}

}  // namespace umod::elf
