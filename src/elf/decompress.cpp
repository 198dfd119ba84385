#include "elf/decompress.h"

#include <lzma.h>
#include <zstd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>

namespace umod::elf {

Compression compression_of(std::string_view path) {
    if (path.ends_with(".xz")) return Compression::Xz;
    if (path.ends_with(".zst")) return Compression::Zstd;
    if (path.ends_with(".gz")) return Compression::Gzip;
    return Compression::None;
}

namespace {

Expected<std::vector<std::byte>> unxz(std::span<const std::byte> data) {
    lzma_stream stream = LZMA_STREAM_INIT;
    if (lzma_stream_decoder(&stream, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
        return Error(ENOMEM, "xz: cannot start a decoder");
    std::vector<std::byte> out(data.size() * 4 + 4096);
    stream.next_in = reinterpret_cast<const std::uint8_t*>(data.data());
    stream.avail_in = data.size();
    lzma_ret ret = LZMA_OK;
    for (;;) {
        if (stream.total_out == out.size()) out.resize(out.size() * 2);
        stream.next_out = reinterpret_cast<std::uint8_t*>(out.data()) + stream.total_out;
        stream.avail_out = out.size() - stream.total_out;
        ret = lzma_code(&stream, LZMA_FINISH);
        if (ret != LZMA_OK) break;
    }
    std::size_t produced = stream.total_out;
    lzma_end(&stream);
    if (ret != LZMA_STREAM_END) return Error(EINVAL, "xz: corrupt or truncated data");
    out.resize(produced);
    return out;
}

Expected<std::vector<std::byte>> unzstd(std::span<const std::byte> data) {
    std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> stream(ZSTD_createDStream(), &ZSTD_freeDStream);
    if (!stream) return Error(ENOMEM, "zstd: cannot start a decoder");
    std::vector<std::byte> out(data.size() * 4 + 4096);
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    std::size_t produced = 0;
    std::size_t ret = 1;
    while (in.pos < in.size || ret != 0) {
        if (produced == out.size()) out.resize(out.size() * 2);
        ZSTD_outBuffer buf{out.data() + produced, out.size() - produced, 0};
        ret = ZSTD_decompressStream(stream.get(), &buf, &in);
        if (ZSTD_isError(ret)) return Error(EINVAL, std::string("zstd: ") + ZSTD_getErrorName(ret));
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
