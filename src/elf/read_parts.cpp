#include "elf/read_parts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <elf.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace umod::elf {

namespace {

bool fits(std::uint64_t offset, std::uint64_t size, std::uint64_t file_size) {
    std::uint64_t end = 0;
    return !__builtin_add_overflow(offset, size, &end) && end <= file_size;
}

// Reads [offset, offset + size) of `fd` into `base + offset` when it lies
// within the file; false on an I/O error.
bool read_part(int fd, std::byte* base, std::uint64_t file_size, std::uint64_t offset, std::uint64_t size) {
    std::uint64_t end = 0;
    if (__builtin_add_overflow(offset, size, &end) || end > file_size) return true;  // the parser will say
    while (size > 0) {
        ssize_t n = ::pread(fd, base + offset, size, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        offset += static_cast<std::uint64_t>(n);
        size -= static_cast<std::uint64_t>(n);
    }
    return true;
}

}  // namespace

Expected<std::span<const std::byte>> read_elf_parts(const std::string& path, ReadBuffer& buffer,
                                                    std::initializer_list<std::string_view> sections,
                                                    std::size_t tail) {
    return read_elf_parts_at(AT_FDCWD, path.c_str(), path, buffer, sections, tail);
}

Expected<std::span<const std::byte>> read_elf_parts_at(int dirfd, const char* file, const std::string& path,
                                                       ReadBuffer& buffer,
                                                       std::initializer_list<std::string_view> sections,
                                                       std::size_t tail) {
    int fd = ::openat(dirfd, file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error(errno, path + ": " + std::strerror(errno));
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int code = S_ISREG(st.st_mode) ? errno : EINVAL;
        ::close(fd);
        return Error(code, path + ": " + std::strerror(code));
    }
    const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
    std::byte* base = buffer.reserve(size);
    std::vector<std::pair<std::uint64_t, std::uint64_t>> parts;  // (offset, size) of the sections and the tail
    bool ok = read_part(fd, base, size, 0, std::min<std::uint64_t>(size, sizeof(Elf64_Ehdr)));
    // Only the host's layout (ELF64, little-endian) is read in parts; an image
    // of another class or byte order is read whole, for ElfFile to decode.
    bool host_layout = size >= sizeof(Elf64_Ehdr) && std::to_integer<int>(base[EI_CLASS]) == ELFCLASS64 &&
                       std::to_integer<int>(base[EI_DATA]) == ELFDATA2LSB;
    if (ok && size >= sizeof(Elf64_Ehdr) && !host_layout) ok = read_part(fd, base, size, 0, size);
    if (ok && host_layout) {
        Elf64_Ehdr header;
        std::memcpy(&header, base, sizeof(header));
        std::uint64_t table = std::uint64_t{header.e_shnum} * sizeof(Elf64_Shdr);
        if (header.e_shentsize == sizeof(Elf64_Shdr) && header.e_shstrndx < header.e_shnum &&
            read_part(fd, base, size, header.e_shoff, table) && header.e_shoff + table <= size) {
            auto section_header = [&](std::uint32_t i) {
                Elf64_Shdr sh;
                std::memcpy(&sh, base + header.e_shoff + std::uint64_t{i} * sizeof(Elf64_Shdr), sizeof(sh));
                return sh;
            };
            Elf64_Shdr names = section_header(header.e_shstrndx);
            ok = read_part(fd, base, size, names.sh_offset, names.sh_size);
            std::uint64_t names_end = 0;
            bool names_read = !__builtin_add_overflow(names.sh_offset, names.sh_size, &names_end) && names_end <= size;
            for (std::uint32_t i = 0; ok && names_read && i < header.e_shnum; ++i) {
                Elf64_Shdr sh = section_header(i);
                if (sh.sh_name >= names.sh_size) continue;
                const char* name = reinterpret_cast<const char*>(base + names.sh_offset + sh.sh_name);
                std::size_t room = names.sh_size - sh.sh_name;
                std::string_view wanted_name(name, strnlen(name, room));
                for (std::string_view wanted : sections)
                    if (wanted == wanted_name && sh.sh_type != SHT_NOBITS && fits(sh.sh_offset, sh.sh_size, size))
                        parts.emplace_back(sh.sh_offset, sh.sh_size);
            }
        }
    }
    if (std::uint64_t t = std::min<std::uint64_t>(size, tail); t > 0) parts.emplace_back(size - t, t);
    // One pread for parts less than a page apart (.symtab and .strtab are
    // neighbours, and .modinfo and __versions usually).
    std::sort(parts.begin(), parts.end());
    for (std::size_t i = 0; ok && i < parts.size();) {
        std::uint64_t begin = parts[i].first, end = parts[i].first + parts[i].second;
        for (++i; i < parts.size() && parts[i].first <= end + 4096; ++i) end = std::max(end, parts[i].first + parts[i].second);
        ok = read_part(fd, base, size, begin, end - begin);
    }
    int code = errno;
    ::close(fd);
    if (!ok) return Error(code, path + ": " + std::strerror(code));
    return std::span<const std::byte>(base, size);
}

}  // namespace umod::elf
