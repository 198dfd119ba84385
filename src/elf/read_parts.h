// Reads the parts of an ELF file that metadata readers need, rather than the
// whole file.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include <umod/expected.h>

#include "support/mapped_file.h"

namespace umod::elf {

using support::ReadBuffer;

// Reads from an ELF file only what metadata readers need: the ELF header, the
// section header table, the section-name table, the sections named in
// `sections`, and the last `tail` bytes, each at its file offset in `buffer`.
// The span covers the whole file; bytes outside those parts are unspecified
// and must not be read (ElfFile::parse and contents() of those sections read
// only them). Much cheaper than reading a large file whole.
Expected<std::span<const std::byte>> read_elf_parts(const std::string& path, ReadBuffer& buffer,
                                                    std::initializer_list<std::string_view> sections,
                                                    std::size_t tail);
// The same for `file` opened relative to the directory open as `dirfd`
// (AT_FDCWD: the current one; an absolute `file` ignores it); `path` names
// it in messages.
Expected<std::span<const std::byte>> read_elf_parts_at(int dirfd, const char* file, const std::string& path,
                                                       ReadBuffer& buffer,
                                                       std::initializer_list<std::string_view> sections,
                                                       std::size_t tail);

}  // namespace umod::elf
