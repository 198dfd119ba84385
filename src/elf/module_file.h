// A Linux module file's bytes, as kmod reads them: compressed files (.ko.xz,
// .ko.zst, by name) whole and decompressed; an uncompressed one whole, or
// only the parts a metadata reader needs. The one place the tools read .ko
// bytes (depmod, modinfo, modprobe, the kernel loader's init_module).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <umod/expected.h>

#include "support/mapped_file.h"

namespace umod::elf {

// Memory reused from module file to module file.
struct ModuleFileBuffer {
    support::ReadBuffer parts;     // an uncompressed file read in parts
    std::vector<std::byte> image;  // a file read whole (decompressed when compressed)
};

// What of an uncompressed file to read: the ELF header and section tables,
// the named sections and the last `tail` bytes (see read_elf_parts); or, with
// `whole`, every byte. A compressed file is always read whole.
struct ModuleFileParts {
    std::initializer_list<std::string_view> sections;
    std::size_t tail = 0;
    bool whole = false;
};

// The file's bytes, in `buffer` (a whole file in `buffer.image`, which the
// caller may change). ENOENT/EACCES... when it cannot be read; decompress()'s
// errors for a compressed one.
Expected<std::span<const std::byte>> read_module_file(const std::string& path, const ModuleFileParts& parts,
                                                      ModuleFileBuffer& buffer);
// The same for `name` opened relative to the directory open as `dirfd` (a
// module directory opened once; an absolute `name` ignores it); `path` names
// the file in messages and decides its compression.
Expected<std::span<const std::byte>> read_module_file_at(int dirfd, const char* name, const std::string& path,
                                                         const ModuleFileParts& parts, ModuleFileBuffer& buffer);

}  // namespace umod::elf
