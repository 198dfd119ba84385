#include "elf/module_file.h"

#include "elf/decompress.h"
#include "elf/read_parts.h"

#include <fcntl.h>

#include <cerrno>
#include <string>

namespace umod::elf {

namespace {

// libkmod reads the longest compression magic it knows (xz's, 6 bytes) from
// every module file first: a shorter file is EINVAL to it, not ENOEXEC.
constexpr std::size_t kLongestMagic = 6;

Error too_short(const std::string& path) {
    return Error(EINVAL, path + ": shorter than any module file (" + std::to_string(kLongestMagic) + " bytes)");
}

}  // namespace

Expected<std::span<const std::byte>> read_module_file(const std::string& path, const ModuleFileParts& parts,
                                                      ModuleFileBuffer& buffer) {
    return read_module_file_at(AT_FDCWD, path.c_str(), path, parts, buffer);
}

Expected<std::span<const std::byte>> read_module_file_at(int dirfd, const char* name, const std::string& path,
                                                         const ModuleFileParts& parts, ModuleFileBuffer& buffer) {
    Compression compression = compression_of(path);
    if (compression == Compression::None && !parts.whole) {
        auto bytes = read_elf_parts_at(dirfd, name, path, buffer.parts, parts.sections, parts.tail);
        if (bytes && bytes->size() < kLongestMagic) return too_short(path);
        return bytes;
    }
    auto file = dirfd == AT_FDCWD ? support::MappedFile::open(path) : support::MappedFile::map_at(dirfd, name, path);
    if (!file) return file.error();
    if (file->bytes().size() < kLongestMagic) return too_short(path);
    if (compression == Compression::None) {
        buffer.image.assign(file->bytes().begin(), file->bytes().end());
    } else {
        auto plain = decompress(file->bytes(), compression);
        if (!plain) return plain.error();
        buffer.image = std::move(*plain);
    }
    return std::span<const std::byte>(buffer.image);
}

}  // namespace umod::elf
