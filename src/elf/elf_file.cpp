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

Expected<ElfFile> ElfFile::parse(std::span<const std::byte> bytes) {
    if (bytes.size() < SELFMAG || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0)
        return foreign("not an ELF file (bad magic)");
    if (bytes.size() > EI_CLASS && std::to_integer<int>(bytes[EI_CLASS]) != ELFCLASS64)
        return foreign("not a 64-bit ELF file");
    if (bytes.size() < sizeof(Elf64_Ehdr)) return malformed("file too short for an ELF header");
    auto header = read_unaligned<Elf64_Ehdr>(bytes, 0);
    if (header.e_ident[EI_DATA] != ELFDATA2LSB) return foreign("not a little-endian ELF file");
    if (header.e_machine != EM_X86_64)
        return foreign(fmt::format("machine {} is not x86-64", header.e_machine));
    ElfFile file;
    file.bytes_ = bytes;
    if (header.e_type == ET_REL)
        file.kind_ = FileKind::Relocatable;
    else if (header.e_type == ET_DYN)
        file.kind_ = FileKind::SharedObject;
    else
        return foreign(fmt::format("ELF type {} is neither relocatable nor shared object", header.e_type));

    if (header.e_shnum == 0) return malformed("no section header table");
    if (header.e_shentsize != sizeof(Elf64_Shdr))
        return malformed(fmt::format("section header size {} is not {}", header.e_shentsize, sizeof(Elf64_Shdr)));
    if (!fits(header.e_shoff, std::uint64_t{header.e_shnum} * sizeof(Elf64_Shdr), bytes.size()))
        return malformed("section header table past end of file");
    if (header.e_shstrndx >= header.e_shnum) return malformed("section name table index out of range");

    file.sections_.reserve(header.e_shnum);
    std::vector<std::uint32_t> name_offsets;
    for (std::uint32_t i = 0; i < header.e_shnum; ++i) {
        auto sh = read_unaligned<Elf64_Shdr>(bytes, header.e_shoff + std::uint64_t{i} * sizeof(Elf64_Shdr));
        Section s;
        name_offsets.push_back(sh.sh_name);
        s.index = i;
        s.type = sh.sh_type;
        s.flags = sh.sh_flags;
        s.addr = sh.sh_addr;
        s.offset = sh.sh_offset;
        s.size = sh.sh_size;
        s.link = sh.sh_link;
        s.info = sh.sh_info;
        s.entsize = sh.sh_entsize;
        if (s.type != SHT_NOBITS && s.type != SHT_NULL && !fits(s.offset, s.size, bytes.size()))
            return malformed(fmt::format("section {} extends past end of file", i));
        file.sections_.push_back(s);
    }
    const Section& names = file.sections_[header.e_shstrndx];
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
    std::vector<Symbol> out;
    out.reserve(data->size() / sizeof(Elf64_Sym));
    const Section& strtab = sections_[table.link];
    for (std::uint64_t off = 0; off + sizeof(Elf64_Sym) <= data->size(); off += sizeof(Elf64_Sym)) {
        auto sym = read_unaligned<Elf64_Sym>(*data, off);
        Symbol s;
        auto name = string_in(strtab, sym.st_name);
        if (!name) return name.error();
        s.name = *name;
        s.value = sym.st_value;
        s.size = sym.st_size;
        s.shndx = sym.st_shndx;
        s.bind = ELF64_ST_BIND(sym.st_info);
        s.type = ELF64_ST_TYPE(sym.st_info);
        s.visibility = ELF64_ST_VISIBILITY(sym.st_other);
        out.push_back(s);
    }
    return out;
}

Expected<std::vector<Relocation>> ElfFile::relocations(const Section& rela) const {
    if (rela.type != SHT_RELA) return malformed(fmt::format("section {} is not SHT_RELA", rela.name));
    auto data = contents(rela);
    if (!data) return data.error();
    std::vector<Relocation> out;
    out.reserve(data->size() / sizeof(Elf64_Rela));
    for (std::uint64_t off = 0; off + sizeof(Elf64_Rela) <= data->size(); off += sizeof(Elf64_Rela)) {
        auto r = read_unaligned<Elf64_Rela>(*data, off);
        out.push_back({r.r_offset, static_cast<std::uint32_t>(ELF64_R_TYPE(r.r_info)),
                       static_cast<std::uint32_t>(ELF64_R_SYM(r.r_info)), r.r_addend});
    }
    return out;
}

Expected<std::vector<DynamicEntry>> ElfFile::dynamic() const {
    std::vector<DynamicEntry> out;
    for (const Section& s : sections_) {
        if (s.type != SHT_DYNAMIC) continue;
        auto data = contents(s);
        if (!data) return data.error();
        for (std::uint64_t off = 0; off + sizeof(Elf64_Dyn) <= data->size(); off += sizeof(Elf64_Dyn)) {
            auto d = read_unaligned<Elf64_Dyn>(*data, off);
            if (d.d_tag == DT_NULL) break;
            out.push_back({d.d_tag, d.d_un.d_val});
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
