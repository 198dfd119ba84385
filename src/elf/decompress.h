// Compressed module files (.ko.xz, .ko.zst), as kmod reads them.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include <umod/expected.h>

namespace umod::elf {

enum class Compression { None, Xz, Zstd, Gzip };

// By file name, as kmod decides: ".xz", ".zst", ".gz" or none.
Compression compression_of(std::string_view path);

// The decompressed bytes. EINVAL for corrupt data; EPROTONOSUPPORT for gzip
// (Debian's kmod is built without zlib and refuses it too); ELIBACC when
// liblzma or libzstd (loaded on first use) cannot be loaded.
Expected<std::vector<std::byte>> decompress(std::span<const std::byte> data, Compression compression);

}  // namespace umod::elf
