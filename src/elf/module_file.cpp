#include "elf/module_file.h"

#include "elf/decompress.h"
#include "elf/read_parts.h"

namespace umod::elf {

Expected<std::span<const std::byte>> read_module_file(const std::string& path, const ModuleFileParts& parts,
                                                      ModuleFileBuffer& buffer) {
    Compression compression = compression_of(path);
    if (compression == Compression::None && !parts.whole)
        return read_elf_parts(path, buffer.parts, parts.sections, parts.tail);
    auto file = support::MappedFile::open(path);
    if (!file) return file.error();
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
