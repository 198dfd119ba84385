#include "elf/elf_file.h"

#include <elf.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace umod::elf {

void describe_error(const MalformedElf& e, std::string& out) { out += "malformed ELF: " + e.what; }

namespace {

Error malformed(std::string what) { return Error::with(ENOEXEC, MalformedElf{std::move(what)}); }
Error foreign(std::string what) { return Error::with(ENOEXEC, MalformedElf{std::move(what), true}); }

// True and `end` set when [offset, offset + size) fits in `limit`.
bool fits(std::uint64_t offset, std::uint64_t size, std::uint64_t limit) {
    std::uint64_t end = 0;
    return !__builtin_add_overflow(offset, size, &end) && end <= limit;
}

}  // namespace

std::uint16_t ElfFile::read16(std::span<const std::byte> data, std::uint64_t offset) const {
    auto v = read_unaligned<std::uint16_t>(data, offset);
    return order_ == ByteOrder::Big ? __builtin_bswap16(v) : v;
}
std::uint32_t ElfFile::read32(std::span<const std::byte> data, std::uint64_t offset) const {
    auto v = read_unaligned<std::uint32_t>(data, offset);
    return order_ == ByteOrder::Big ? __builtin_bswap32(v) : v;
}
std::uint64_t ElfFile::read64(std::span<const std::byte> data, std::uint64_t offset) const {
    auto v = read_unaligned<std::uint64_t>(data, offset);
    return order_ == ByteOrder::Big ? __builtin_bswap64(v) : v;
}

std::uint64_t ElfFile::section_flags_offset(const Section& s) const {
    return shoff_ + std::uint64_t{s.index} * shentsize_ + 8;
}

namespace {

// Where the fields of the ELF structures are in each class (byte offsets,
// from <elf.h>'s Elf32_* and Elf64_* layouts), and how big each structure is.
struct Layout {
    std::uint64_t ehdr_size, e_shoff, e_shentsize, e_shnum, e_shstrndx;
    std::uint64_t shdr_size, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, sh_entsize;
    std::uint64_t sym_size, st_value, st_size, st_info, st_other, st_shndx;
    std::uint64_t rela_size, dyn_size;
};
constexpr Layout kLayout32{52, 0x20, 0x2e, 0x30, 0x32, 40, 8, 12, 16, 20, 24, 28, 36, 16, 4, 8, 12, 13, 14, 12, 8};
constexpr Layout kLayout64{64, 0x28, 0x3a, 0x3c, 0x3e, 64, 8, 16, 24, 32, 40, 44, 56, 24, 8, 16, 4, 5, 6, 24, 16};

const Layout& layout_of(ElfClass c) { return c == ElfClass::Elf64 ? kLayout64 : kLayout32; }

}  // namespace

Expected<ElfFile> ElfFile::parse(std::span<const std::byte> bytes, Machines machines) {
    if (bytes.size() < SELFMAG || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0)
        return foreign("not an ELF file (bad magic)");
    if (bytes.size() <= EI_DATA) return malformed("file too short for an ELF header");
    int elf_class = std::to_integer<int>(bytes[EI_CLASS]), data = std::to_integer<int>(bytes[EI_DATA]);
    ElfFile file;
    file.bytes_ = bytes;
    if (elf_class == ELFCLASS64)
        file.class_ = ElfClass::Elf64;
    else if (elf_class == ELFCLASS32 && machines == Machines::Any)
        file.class_ = ElfClass::Elf32;
    else
        return foreign(elf_class == ELFCLASS32 ? "not a 64-bit ELF file" : fmt::format("ELF class {} is unknown", elf_class));
    if (data == ELFDATA2LSB)
        file.order_ = ByteOrder::Little;
    else if (data == ELFDATA2MSB && machines == Machines::Any)
        file.order_ = ByteOrder::Big;
    else
        return foreign(data == ELFDATA2MSB ? "not a little-endian ELF file" : fmt::format("ELF data encoding {} is unknown", data));
    const Layout& l = layout_of(file.class_);
    if (bytes.size() < l.ehdr_size) return malformed("file too short for an ELF header");
    std::uint16_t type = file.read16(bytes, 16);
    file.machine_ = file.read16(bytes, 18);
    if (machines == Machines::Host && file.machine_ != EM_X86_64)
        return foreign(fmt::format("machine {} is not x86-64", file.machine_));
    if (type == ET_REL)
        file.kind_ = FileKind::Relocatable;
    else if (type == ET_DYN)
        file.kind_ = FileKind::SharedObject;
    else
        return foreign(fmt::format("ELF type {} is neither relocatable nor shared object", type));

    file.shoff_ = file.read_word(bytes, l.e_shoff);
    file.shentsize_ = file.read16(bytes, l.e_shentsize);
    std::uint16_t shnum = file.read16(bytes, l.e_shnum), shstrndx = file.read16(bytes, l.e_shstrndx);
    if (shnum == 0) return malformed("no section header table");
    if (file.shentsize_ != l.shdr_size)
        return malformed(fmt::format("section header size {} is not {}", file.shentsize_, l.shdr_size));
    if (!fits(file.shoff_, std::uint64_t{shnum} * l.shdr_size, bytes.size()))
        return malformed("section header table past end of file");
    if (shstrndx >= shnum) return malformed("section name table index out of range");

    file.sections_.reserve(shnum);
    std::vector<std::uint32_t> name_offsets;
    for (std::uint32_t i = 0; i < shnum; ++i) {
        std::uint64_t at = file.shoff_ + std::uint64_t{i} * l.shdr_size;
        Section s;
        name_offsets.push_back(file.read32(bytes, at));
        s.index = i;
        s.type = file.read32(bytes, at + 4);
        s.flags = file.read_word(bytes, at + l.sh_flags);
        s.addr = file.read_word(bytes, at + l.sh_addr);
        s.offset = file.read_word(bytes, at + l.sh_offset);
        s.size = file.read_word(bytes, at + l.sh_size);
        s.link = file.read32(bytes, at + l.sh_link);
        s.info = file.read32(bytes, at + l.sh_info);
        s.entsize = file.read_word(bytes, at + l.sh_entsize);
        if (s.type != SHT_NOBITS && s.type != SHT_NULL && !fits(s.offset, s.size, bytes.size()))
            return malformed(fmt::format("section {} extends past end of file", i));
        file.sections_.push_back(s);
    }
    const Section& names = file.sections_[shstrndx];
    for (Section& s : file.sections_) {
        auto name = file.string_in(names, name_offsets[s.index]);
        if (!name) return name.error();
        s.name = *name;
    }
    return file;
}

const Section* ElfFile::section(std::string_view name) const {
    for (const Section& s : sections_)
        if (s.name == name) return &s;
    return nullptr;
}

Expected<std::span<const std::byte>> ElfFile::contents(const Section& s) const {
    if (s.type == SHT_NOBITS || s.type == SHT_NULL) return std::span<const std::byte>();
    if (!fits(s.offset, s.size, bytes_.size()))
        return malformed(fmt::format("section {} extends past end of file", s.name));
    return bytes_.subspan(s.offset, s.size);
}

Expected<std::string_view> ElfFile::string_in(const Section& strtab, std::uint64_t offset) const {
    if (strtab.type != SHT_STRTAB) return malformed(fmt::format("section {} is not a string table", strtab.index));
    auto data = contents(strtab);
    if (!data) return data.error();
    if (offset >= data->size()) return malformed(fmt::format("string offset {} outside its table", offset));
    const char* start = reinterpret_cast<const char*>(data->data()) + offset;
    const void* nul = std::memchr(start, 0, data->size() - offset);
    if (nul == nullptr) return malformed("unterminated string");
    return std::string_view(start, static_cast<const char*>(nul) - start);
}

Expected<std::vector<Symbol>> ElfFile::symbols(const Section& table) const {
    if (table.type != SHT_SYMTAB && table.type != SHT_DYNSYM)
        return malformed(fmt::format("section {} is not a symbol table", table.name));
    if (table.link >= sections_.size()) return malformed(fmt::format("symbol table {} links to no section", table.name));
    auto data = contents(table);
    if (!data) return data.error();
    const Layout& l = layout_of(class_);
    std::vector<Symbol> out;
    out.reserve(data->size() / l.sym_size);
    const Section& strtab = sections_[table.link];
    for (std::uint64_t off = 0; off + l.sym_size <= data->size(); off += l.sym_size) {
        Symbol s;
        auto name = string_in(strtab, read32(*data, off));
        if (!name) return name.error();
        s.name = *name;
        s.value = read_word(*data, off + l.st_value);
        s.size = read_word(*data, off + l.st_size);
        s.shndx = read16(*data, off + l.st_shndx);
        auto info = std::to_integer<std::uint8_t>((*data)[off + l.st_info]);
        s.bind = static_cast<std::uint8_t>(info >> 4);
        s.type = static_cast<std::uint8_t>(info & 0xf);
        s.visibility = static_cast<std::uint8_t>(std::to_integer<std::uint8_t>((*data)[off + l.st_other]) & 0x3);
        out.push_back(s);
    }
    return out;
}

Expected<std::vector<Relocation>> ElfFile::relocations(const Section& rela) const {
    if (rela.type != SHT_RELA) return malformed(fmt::format("section {} is not SHT_RELA", rela.name));
    auto data = contents(rela);
    if (!data) return data.error();
    const Layout& l = layout_of(class_);
    std::vector<Relocation> out;
    out.reserve(data->size() / l.rela_size);
    for (std::uint64_t off = 0; off + l.rela_size <= data->size(); off += l.rela_size) {
        Relocation r;
        r.offset = read_word(*data, off);
        std::uint64_t info = read_word(*data, off + word_size());
        if (class_ == ElfClass::Elf64) {
            r.type = static_cast<std::uint32_t>(info & 0xffffffff);
            r.symbol = static_cast<std::uint32_t>(info >> 32);
            r.addend = static_cast<std::int64_t>(read64(*data, off + 16));
        } else {
            r.type = static_cast<std::uint32_t>(info & 0xff);
            r.symbol = static_cast<std::uint32_t>(info >> 8);
            r.addend = static_cast<std::int32_t>(read32(*data, off + 8));
        }
        out.push_back(r);
    }
    return out;
}

Expected<std::vector<DynamicEntry>> ElfFile::dynamic() const {
    std::vector<DynamicEntry> out;
    for (const Section& s : sections_) {
        if (s.type != SHT_DYNAMIC) continue;
        auto data = contents(s);
        if (!data) return data.error();
        const Layout& l = layout_of(class_);
        for (std::uint64_t off = 0; off + l.dyn_size <= data->size(); off += l.dyn_size) {
            std::uint64_t tag = read_word(*data, off);
            std::int64_t signed_tag = class_ == ElfClass::Elf64 ? static_cast<std::int64_t>(tag)
                                                                : std::int64_t{static_cast<std::int32_t>(tag)};
            if (signed_tag == DT_NULL) break;
            out.push_back({signed_tag, read_word(*data, off + word_size())});
        }
    }
    return out;
}

Expected<std::span<const std::byte>> ElfFile::at_address(std::uint64_t address, std::uint64_t size) const {
    for (const Section& s : sections_) {
        if (!(s.flags & SHF_ALLOC) || s.type == SHT_NOBITS || s.type == SHT_NULL) continue;
        if (address >= s.addr && fits(address - s.addr, size, s.size)) {
            auto data = contents(s);
            if (!data) return data.error();
            return data->subspan(address - s.addr, size);
        }
    }
    return malformed(fmt::format("address {:#x} (+{}) is in no section of the file", address, size));
}

Expected<std::string_view> ElfFile::string_at_address(std::uint64_t address) const {
    for (const Section& s : sections_) {
        if (!(s.flags & SHF_ALLOC) || s.type == SHT_NOBITS || s.type == SHT_NULL) continue;
        if (address >= s.addr && address - s.addr < s.size) {
            auto data = contents(s);
            if (!data) return data.error();
            auto rest = data->subspan(address - s.addr);
            const char* start = reinterpret_cast<const char*>(rest.data());
            const void* nul = std::memchr(start, 0, rest.size());
            if (nul == nullptr) return malformed(fmt::format("unterminated string at {:#x}", address));
            return std::string_view(start, static_cast<const char*>(nul) - start);
        }
    }
    return malformed(fmt::format("string address {:#x} is in no section of the file", address));
}

std::vector<std::pair<std::string_view, std::string_view>> parse_modinfo(std::span<const std::byte> section) {
    std::vector<std::pair<std::string_view, std::string_view>> out;
    std::string_view rest(reinterpret_cast<const char*>(section.data()), section.size());
    while (!rest.empty()) {
        std::size_t start = rest.find_first_not_of('\0');
        if (start == std::string_view::npos) break;
        rest.remove_prefix(start);
        std::size_t end = rest.find('\0');
        std::string_view entry = rest.substr(0, end);
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
        std::size_t eq = entry.find('=');
        if (eq == std::string_view::npos)
            out.emplace_back(entry, std::string_view());
        else
            out.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
    }
    return out;
}

}  // namespace umod::elf
