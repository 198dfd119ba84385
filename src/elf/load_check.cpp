// The headers, segments and dynamic entries of load_check.h; the tables they
// point to are checked in load_check_tables.cpp.
#include "elf/load_check.h"

#include <elf.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "elf/elf_file.h"
#include "elf/load_check_impl.h"
#include "elf/umod_module.h"

namespace umod::elf {

namespace {

constexpr std::uint64_t kPage = 4096;  // x86-64's base page: what glibc maps and protects by

bool power_of_two(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

const char* segment_type(std::uint32_t type) {
    switch (type) {
    case PT_LOAD: return "PT_LOAD";
    case PT_DYNAMIC: return "PT_DYNAMIC";
    case PT_TLS: return "PT_TLS";
    case PT_GNU_RELRO: return "PT_GNU_RELRO";
    case PT_PHDR: return "PT_PHDR";
    case PT_NOTE: return "PT_NOTE";
    case PT_GNU_PROPERTY: return "PT_GNU_PROPERTY";
    case PT_GNU_EH_FRAME: return "PT_GNU_EH_FRAME";
    default: return "segment";
    }
}

}  // namespace

Error load_defect(std::string what) { return Error::with(ENOEXEC, MalformedElf{std::move(what)}); }

bool in_range(std::uint64_t offset, std::uint64_t size, std::uint64_t limit) {
    std::uint64_t end = 0;
    return !__builtin_add_overflow(offset, size, &end) && end <= limit;
}

const char* dynamic_tag_name(std::int64_t tag) {
    switch (tag) {
    case DT_NEEDED: return "DT_NEEDED";
    case DT_PLTRELSZ: return "DT_PLTRELSZ";
    case DT_PLTGOT: return "DT_PLTGOT";
    case DT_HASH: return "DT_HASH";
    case DT_STRTAB: return "DT_STRTAB";
    case DT_SYMTAB: return "DT_SYMTAB";
    case DT_RELA: return "DT_RELA";
    case DT_RELASZ: return "DT_RELASZ";
    case DT_RELAENT: return "DT_RELAENT";
    case DT_STRSZ: return "DT_STRSZ";
    case DT_SYMENT: return "DT_SYMENT";
    case DT_INIT: return "DT_INIT";
    case DT_FINI: return "DT_FINI";
    case DT_SONAME: return "DT_SONAME";
    case DT_RPATH: return "DT_RPATH";
    case DT_REL: return "DT_REL";
    case DT_PLTREL: return "DT_PLTREL";
    case DT_TEXTREL: return "DT_TEXTREL";
    case DT_JMPREL: return "DT_JMPREL";
    case DT_INIT_ARRAY: return "DT_INIT_ARRAY";
    case DT_FINI_ARRAY: return "DT_FINI_ARRAY";
    case DT_INIT_ARRAYSZ: return "DT_INIT_ARRAYSZ";
    case DT_FINI_ARRAYSZ: return "DT_FINI_ARRAYSZ";
    case DT_RUNPATH: return "DT_RUNPATH";
    case DT_FLAGS: return "DT_FLAGS";
    case DT_PREINIT_ARRAY: return "DT_PREINIT_ARRAY";
    case DT_RELRSZ: return "DT_RELRSZ";
    case DT_RELR: return "DT_RELR";
    case DT_RELRENT: return "DT_RELRENT";
    case DT_GNU_HASH: return "DT_GNU_HASH";
    case DT_VERSYM: return "DT_VERSYM";
    case DT_VERDEF: return "DT_VERDEF";
    case DT_VERNEED: return "DT_VERNEED";
    case DT_AUXILIARY: return "DT_AUXILIARY";
    case DT_FILTER: return "DT_FILTER";
    case DT_AUDIT: return "DT_AUDIT";
    case DT_DEPAUDIT: return "DT_DEPAUDIT";
    case DT_FLAGS_1: return "DT_FLAGS_1";
    default: return "tag";
    }
}

// ---- LoadImage -----------------------------------------------------------------

const LoadImage::Segment* LoadImage::segment_holding(std::uint64_t address, std::uint64_t size) const {
    for (const Segment& s : segments_)
        if (address >= s.vaddr && in_range(address - s.vaddr, size, s.memsz)) return &s;
    return nullptr;
}

bool LoadImage::loaded(std::uint64_t address, std::uint64_t size) const {
    return segment_holding(address, size) != nullptr;
}

bool LoadImage::executable(std::uint64_t address) const {
    const Segment* s = segment_holding(address, 1);
    return s != nullptr && (s->flags & PF_X);
}

bool LoadImage::writable(std::uint64_t address, std::uint64_t size) const {
    const Segment* s = segment_holding(address, size);
    return s != nullptr && (s->flags & PF_W);
}

bool LoadImage::writable_after_load(std::uint64_t address, std::uint64_t size) const {
    const Segment* s = segment_holding(address, size);
    if (s == nullptr || !(s->flags & PF_W)) return false;
    std::uint64_t end = address + size;  // no overflow: inside a segment
    return end <= relro_start_ || address >= relro_end_;
}

// ---- LoadChecker: headers ------------------------------------------------------------

const std::byte* LoadChecker::file_bytes(std::uint64_t vaddr, std::uint64_t size) const {
    for (const auto& s : image_.segments_) {
        // The loader reads it in memory: mapped readable, from the file.
        if (vaddr < s.vaddr || !in_range(vaddr - s.vaddr, size, s.filesz) || !(s.flags & PF_R)) continue;
        return bytes_.data() + s.offset + (vaddr - s.vaddr);  // offset + filesz fits in the file
    }
    return nullptr;
}

std::uint64_t LoadChecker::file_offset(std::uint64_t vaddr) const {
    for (const auto& s : image_.segments_)
        if (vaddr >= s.vaddr && vaddr - s.vaddr < s.filesz) return s.offset + (vaddr - s.vaddr);
    return 0;
}

Status LoadChecker::check_headers() {
    if (bytes_.size() < sizeof(Elf64_Ehdr)) return load_defect("file too short for an ELF header");
    auto eh = read_unaligned<Elf64_Ehdr>(bytes_, 0);
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return load_defect("ELF header: bad magic");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
        return load_defect("ELF header: not a 64-bit little-endian x86-64 file");
    if (eh.e_ident[EI_VERSION] != EV_CURRENT || eh.e_version != EV_CURRENT)
        return load_defect(fmt::format("ELF header: version {} is not {}", eh.e_version, EV_CURRENT));
    if (eh.e_type != ET_DYN) return load_defect(fmt::format("ELF header: type {} is not ET_DYN", eh.e_type));
    if (eh.e_phentsize != sizeof(Elf64_Phdr))
        return load_defect(fmt::format("ELF header: e_phentsize is {}, expected {}", eh.e_phentsize,
                                       sizeof(Elf64_Phdr)));
    if (eh.e_phnum == 0 || eh.e_phnum == PN_XNUM)
        return load_defect(fmt::format("ELF header: e_phnum is {}", eh.e_phnum));
    if (!in_range(eh.e_phoff, std::uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr), bytes_.size()))
        return load_defect(fmt::format("ELF header: program header table at offset {:#x} past end of file",
                                       eh.e_phoff));
    phoff_ = eh.e_phoff;
    phnum_ = eh.e_phnum;
    shnum_ = eh.e_shnum;

    struct Other {
        std::uint32_t index;
        Elf64_Phdr ph;
    };
    std::vector<Other> others;
    for (std::uint32_t i = 0; i < phnum_; ++i) {
        std::uint64_t at = phoff_ + std::uint64_t{i} * sizeof(Elf64_Phdr);
        auto ph = read_unaligned<Elf64_Phdr>(bytes_, at);
        auto defect = [&](std::string what) {
            return load_defect(fmt::format("program header {} ({}) at offset {:#x}: {}", i, segment_type(ph.p_type),
                                           at, what));
        };
        std::uint64_t end = 0;
        if (__builtin_add_overflow(ph.p_vaddr, ph.p_memsz, &end))
            return defect("address range overflows");
        if (ph.p_filesz > ph.p_memsz)
            return defect(fmt::format("file size {:#x} exceeds memory size {:#x}", ph.p_filesz, ph.p_memsz));
        if (ph.p_type != PT_LOAD) {
            if (ph.p_type == PT_DYNAMIC || ph.p_type == PT_TLS || ph.p_type == PT_GNU_RELRO || ph.p_type == PT_PHDR ||
                ph.p_type == PT_NOTE || ph.p_type == PT_GNU_PROPERTY || ph.p_type == PT_GNU_EH_FRAME)
                others.push_back({i, ph});
            continue;
        }
        if (!in_range(ph.p_offset, ph.p_filesz, bytes_.size()))
            return defect(fmt::format("file bytes [{:#x}, +{:#x}) past end of file", ph.p_offset, ph.p_filesz));
        if (ph.p_memsz == 0) return defect("empty");
        if (!power_of_two(ph.p_align) || ph.p_align % kPage != 0)
            return defect(fmt::format("alignment {:#x} is not a power-of-two multiple of the page", ph.p_align));
        if ((ph.p_vaddr - ph.p_offset) % ph.p_align != 0)
            return defect(fmt::format("address {:#x} and offset {:#x} disagree modulo the alignment", ph.p_vaddr,
                                      ph.p_offset));
        if (!image_.segments_.empty()) {
            const auto& prev = image_.segments_.back();
            std::uint64_t prev_end = (prev.vaddr + prev.memsz + kPage - 1) / kPage * kPage;
            if (ph.p_vaddr / kPage * kPage < prev_end)
                return defect(fmt::format("address {:#x} is below or overlaps the previous PT_LOAD (ends {:#x})",
                                          ph.p_vaddr, prev.vaddr + prev.memsz));
        }
        if (end > (std::uint64_t{1} << 47)) return defect(fmt::format("ends at {:#x}, beyond user space", end));
        image_.segments_.push_back({ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz, ph.p_flags});
    }
    if (image_.segments_.empty()) return load_defect("program headers: no PT_LOAD segment");

    bool have_dynamic = false;
    for (const Other& o : others) {
        const Elf64_Phdr& ph = o.ph;
        auto defect = [&](std::string what) {
            return load_defect(fmt::format("program header {} ({}) at offset {:#x}: {}", o.index,
                                           segment_type(ph.p_type),
                                           phoff_ + std::uint64_t{o.index} * sizeof(Elf64_Phdr), what));
        };
        // What the loader reads from memory must be loaded from the file.
        bool file_backed = ph.p_filesz == 0 || file_bytes(ph.p_vaddr, ph.p_filesz) != nullptr;
        switch (ph.p_type) {
        case PT_DYNAMIC:
            if (have_dynamic) return defect("a second PT_DYNAMIC");
            have_dynamic = true;
            if (ph.p_filesz < sizeof(Elf64_Dyn)) return defect("empty");
            if (!file_backed) return defect(fmt::format("[{:#x}, +{:#x}) is not in the file bytes of a PT_LOAD",
                                                        ph.p_vaddr, ph.p_filesz));
            dynamic_vaddr_ = ph.p_vaddr;
            dynamic_size_ = ph.p_filesz;
            break;
        case PT_TLS:
            if (ph.p_memsz == 0) break;  // ignored by the loader
            if (!power_of_two(ph.p_align) && ph.p_align != 0)
                return defect(fmt::format("alignment {:#x} is not a power of two", ph.p_align));
            if (ph.p_align == 0) return defect("alignment 0");
            if (!file_backed) return defect("initial image is not in the file bytes of a PT_LOAD");
            if (ph.p_memsz > (std::uint64_t{1} << 30)) return defect(fmt::format("size {:#x}", ph.p_memsz));
            break;
        case PT_GNU_RELRO:
            if (ph.p_memsz == 0) break;
            if (!image_.loaded(ph.p_vaddr, ph.p_memsz)) return defect("not inside one PT_LOAD");
            image_.relro_start_ = ph.p_vaddr / kPage * kPage;
            image_.relro_end_ = (ph.p_vaddr + ph.p_memsz) / kPage * kPage;
            break;
        case PT_PHDR:
            if (ph.p_memsz < std::uint64_t{phnum_} * sizeof(Elf64_Phdr) ||
                file_bytes(ph.p_vaddr, std::uint64_t{phnum_} * sizeof(Elf64_Phdr)) == nullptr ||
                file_offset(ph.p_vaddr) != phoff_)
                return defect("does not cover the program header table as loaded");
            break;
        default:  // notes and the unwinder's table: read in memory by the loader and the unwinder
            if (ph.p_filesz == 0 && ph.p_memsz == 0) break;
            if (!file_backed || ph.p_filesz == 0)
                return defect(fmt::format("[{:#x}, +{:#x}) is not in the file bytes of a PT_LOAD", ph.p_vaddr,
                                          ph.p_filesz));
            break;
        }
    }
    if (!have_dynamic) return load_defect("program headers: no PT_DYNAMIC segment");
    return {};
}

// ---- LoadChecker: dynamic entries ---------------------------------------------------

Status LoadChecker::check_dynamic() {
    const std::byte* dyn = file_bytes(dynamic_vaddr_, dynamic_size_);
    std::uint64_t dyn_offset = file_offset(dynamic_vaddr_);
    std::span<const std::byte> table(dyn, dynamic_size_);
    bool terminated = false;
    for (std::uint64_t off = 0, n = 0; in_range(off, sizeof(Elf64_Dyn), table.size()); off += sizeof(Elf64_Dyn), ++n) {
        auto d = read_unaligned<Elf64_Dyn>(table, off);
        if (d.d_tag == DT_NULL) {
            terminated = true;
            break;
        }
        Entry e{static_cast<std::uint32_t>(n), dyn_offset + off, d.d_tag, d.d_un.d_val};
        if (d.d_tag == DT_NEEDED || d.d_tag == DT_AUXILIARY || d.d_tag == DT_FILTER) strings_.push_back(e);
        else if (d.d_tag >= 0 && d.d_tag <= DT_RELRENT) last_[d.d_tag] = e;
        else extra_last_[d.d_tag] = e;  // the last entry of a tag is the one the loader uses
    }
    if (!terminated)
        return load_defect(fmt::format("dynamic section at offset {:#x}: no DT_NULL within its {} bytes", dyn_offset,
                                       dynamic_size_));
    auto defect = [](const Entry& e, std::string what) {
        return load_defect(fmt::format("dynamic entry {} at offset {:#x}: {}", e.index, e.offset, what));
    };
    auto expect_value = [&](std::int64_t tag, std::uint64_t expected) -> Status {
        const Entry* e = entry(tag);
        if (e != nullptr && e->value != expected)
            return defect(*e, fmt::format("{} is {}, expected {}", dynamic_tag_name(tag), e->value, expected));
        return {};
    };
    if (auto s = expect_value(DT_SYMENT, sizeof(Elf64_Sym)); !s) return s;
    if (auto s = expect_value(DT_PLTREL, DT_RELA); !s) return s;
    if (auto s = expect_value(DT_RELRENT, sizeof(Elf64_Relr)); !s) return s;
    if (entry(DT_RELA) != nullptr) {
        if (entry(DT_RELAENT) == nullptr) return defect(*entry(DT_RELA), "DT_RELA without DT_RELAENT");
        if (auto s = expect_value(DT_RELAENT, sizeof(Elf64_Rela)); !s) return s;
        if (entry(DT_RELASZ) == nullptr) return defect(*entry(DT_RELA), "DT_RELA without DT_RELASZ");
    }
    // The loader reads all three once it sees DT_PLTREL, and DT_JMPREL asks for the others.
    for (std::int64_t tag : {DT_JMPREL, DT_PLTREL})
        if (const Entry* e = entry(tag); e != nullptr && (entry(DT_JMPREL) == nullptr || entry(DT_PLTREL) == nullptr ||
                                                          entry(DT_PLTRELSZ) == nullptr))
            return defect(*e, fmt::format("{} without all of DT_JMPREL, DT_PLTREL and DT_PLTRELSZ",
                                          dynamic_tag_name(tag)));
    if (entry(DT_RELR) != nullptr && (entry(DT_RELRENT) == nullptr || entry(DT_RELRSZ) == nullptr))
        return defect(*entry(DT_RELR), "DT_RELR without DT_RELRENT and DT_RELRSZ");
    for (std::int64_t tag : {DT_REL, DT_RELSZ, DT_RELENT, DT_PREINIT_ARRAY, DT_PREINIT_ARRAYSZ})
        if (const Entry* e = entry(tag))
            return defect(*e, fmt::format("{} has no place in an x86-64 shared object",
                                          tag == DT_PREINIT_ARRAY ? "DT_PREINIT_ARRAY" : "a DT_REL table"));
    if (const Entry* e = entry(DT_TEXTREL)) return defect(*e, "DT_TEXTREL: relocations in read-only code");
    if (const Entry* e = entry(DT_FLAGS); e != nullptr && (e->value & DF_TEXTREL))
        return defect(*e, "DF_TEXTREL: relocations in read-only code");
    for (std::int64_t tag : {DT_SYMTAB, DT_STRTAB, DT_STRSZ})
        if (entry(tag) == nullptr)
            return load_defect(fmt::format("dynamic section at offset {:#x}: no {}", dyn_offset, dynamic_tag_name(tag)));
    if (entry(DT_GNU_HASH) == nullptr && entry(DT_HASH) == nullptr)
        return load_defect(fmt::format("dynamic section at offset {:#x}: neither DT_GNU_HASH nor DT_HASH", dyn_offset));

    // The string table, and every string the loader reads from it.
    const Entry& strtab = *entry(DT_STRTAB);
    strsz_ = entry(DT_STRSZ)->value;
    strtab_ = file_bytes(strtab.value, strsz_);
    if (strtab_ == nullptr || strsz_ == 0)
        return defect(strtab, fmt::format("string table [{:#x}, +{:#x}) is not in the file bytes of a PT_LOAD",
                                          strtab.value, strsz_));
    for (std::int64_t tag : {DT_SONAME, DT_RPATH, DT_RUNPATH})
        if (const Entry* e = entry(tag); e != nullptr && !string(e->value))
            return defect(*e, fmt::format("{} string offset {:#x} is outside DT_STRSZ {:#x}", dynamic_tag_name(tag),
                                          e->value, strsz_));
    for (std::int64_t tag : {DT_AUDIT, DT_DEPAUDIT})
        if (const Entry* e = entry(tag); e != nullptr && !string(e->value))
            return defect(*e, fmt::format("{} string offset {:#x} is outside DT_STRSZ", dynamic_tag_name(tag), e->value));
    for (const Entry& e : strings_) {
        auto name = string(e.value);
        if (name && name->empty()) return defect(e, fmt::format("{} names no file", dynamic_tag_name(e.tag)));
        if (!name)
            return defect(e, fmt::format("{} string offset {:#x} is outside DT_STRSZ {:#x}", dynamic_tag_name(e.tag),
                                         e.value, strsz_));
        if (e.tag == DT_NEEDED) needed_.push_back(*name);
    }

    // Code the loader calls directly.
    for (std::int64_t tag : {DT_INIT, DT_FINI})
        if (const Entry* e = entry(tag); e != nullptr && !image_.executable(e->value))
            return defect(*e, fmt::format("{} {:#x} is in no executable segment", dynamic_tag_name(tag), e->value));
    if (const Entry* e = entry(DT_PLTGOT); e != nullptr && entry(DT_JMPREL) != nullptr &&
                                           !image_.loaded(e->value, 3 * sizeof(std::uint64_t)))
        return defect(*e, fmt::format("DT_PLTGOT {:#x} is in no segment", e->value));
    return {};
}

std::optional<std::string_view> LoadChecker::string(std::uint64_t offset) const {
    if (offset >= strsz_) return std::nullopt;
    const char* start = reinterpret_cast<const char*>(strtab_) + offset;
    const void* nul = std::memchr(start, 0, strsz_ - offset);
    if (nul == nullptr) return std::nullopt;
    return std::string_view(start, static_cast<const char*>(nul) - start);
}

const LoadChecker::Entry* LoadChecker::entry(std::int64_t tag) const {
    if (tag >= 0 && tag <= DT_RELRENT) return last_[tag] ? &*last_[tag] : nullptr;
    auto it = extra_last_.find(tag);
    return it == extra_last_.end() ? nullptr : &it->second;
}

Expected<LoadImage> LoadImage::check(std::span<const std::byte> bytes) {
    LoadChecker checker(bytes);
    if (auto s = checker.check_headers(); !s) return s.error();
    if (auto s = checker.check_dynamic(); !s) return s.error();
    if (auto s = checker.check_tables(); !s) return s.error();
    return std::move(checker.image_);
}

// ---- umod's own addresses --------------------------------------------------------------

namespace {

// Bytes a umod loader stores for a parameter of `type` (<umod/module.h>).
std::uint64_t param_size(const std::string& type) {
    if (type == "bool") return sizeof(bool);
    if (type == "short" || type == "ushort") return sizeof(short);
    if (type == "int" || type == "uint") return sizeof(int);
    return sizeof(void*);  // long, ulong, charp, string
}

}  // namespace

Status check_umod_addresses(const LoadImage& image, const ElfFile& file, const UmodModuleInfo& info) {
    // With a symbol table, init and exit must start a function of it.
    std::vector<std::uint64_t> functions;
    if (const Section* symtab = file.section(".symtab"))
        if (auto symbols = file.symbols(*symtab))
            for (const Symbol& s : *symbols)
                if (s.type == STT_FUNC && s.shndx != SHN_UNDEF) functions.push_back(s.value);
    for (auto [address, what] : {std::pair{info.init, ".umod_init: init"}, std::pair{info.exit, ".umod_exit: exit"}}) {
        if (address == 0) continue;
        if (!image.executable(address))
            return load_defect(fmt::format("{} function {:#x} is in no executable segment", what, address));
        if (!functions.empty() && std::find(functions.begin(), functions.end(), address) == functions.end())
            return load_defect(fmt::format("{} function {:#x} starts no function of .symtab", what, address));
    }
    constexpr std::uint64_t kModuleSize = 3 * sizeof(void*);  // struct module of <umod/module.h>
    if (info.this_module != 0 && !image.writable_after_load(info.this_module, kModuleSize))
        return load_defect(fmt::format(".umod_this_module: struct module at {:#x} is not in writable memory",
                                       info.this_module));
    for (const UmodParam& p : info.params)
        if (!image.writable_after_load(p.address, param_size(p.type)))
            return load_defect(fmt::format(".umod_params: parameter {} at {:#x} is not in writable memory", p.name,
                                           p.address));
    for (const SymbolBinding& b : info.bindings)
        if (!image.loaded(b.offset, sizeof(std::uint64_t)))
            return load_defect(fmt::format("relocation of {} at {:#x} is outside the image", b.symbol, b.offset));
    return {};
}

}  // namespace umod::elf
