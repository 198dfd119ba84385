// The tables of load_check.h the dynamic linker walks: hash tables (they bound
// the symbol table), symbols, symbol versions, relocations, and the init and
// fini arrays as they read once relocated.
#include <elf.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "elf/elf_file.h"
#include "elf/load_check_impl.h"

namespace umod::elf {

namespace {

// Steps allowed through the version chains: linked lists in the file.
constexpr std::uint64_t kMaxChainSteps = 1u << 20;

// Bytes a relocation of `type` writes; 0 for a type the loader does not apply
// to a shared object.
std::uint64_t relocation_width(std::uint32_t type) {
    switch (type) {
    case R_X86_64_NONE: return 0;
    case R_X86_64_PC32:
    case R_X86_64_32:
    case R_X86_64_32S:
    case R_X86_64_SIZE32: return 4;
    case R_X86_64_64:
    case R_X86_64_GLOB_DAT:
    case R_X86_64_JUMP_SLOT:
    case R_X86_64_RELATIVE:
    case R_X86_64_DTPMOD64:
    case R_X86_64_DTPOFF64:
    case R_X86_64_TPOFF64:
    case R_X86_64_IRELATIVE:
    case R_X86_64_PC64:
    case R_X86_64_SIZE64: return 8;
    case R_X86_64_TLSDESC: return 16;
    default: return ~std::uint64_t{0};
    }
}

}  // namespace

Expected<std::span<const std::byte>> LoadChecker::table(const Entry& address, std::uint64_t size,
                                                        std::uint64_t entsize, const char* what) const {
    auto defect = [&](std::string problem) {
        return load_defect(fmt::format("dynamic entry {} at offset {:#x}: {}", address.index, address.offset, problem));
    };
    if (size % entsize != 0) return defect(fmt::format("{} size {:#x} is not a multiple of {}", what, size, entsize));
    if (size == 0) return std::span<const std::byte>();
    const std::byte* data = file_bytes(address.value, size);
    if (data == nullptr)
        return defect(fmt::format("{} [{:#x}, +{:#x}) is not in the file bytes of a PT_LOAD", what, address.value, size));
    return std::span<const std::byte>(data, size);
}

Status LoadChecker::check_tables() {
    if (auto s = check_gnu_hash(); !s) return s;
    if (auto s = check_sysv_hash(); !s) return s;
    if (auto s = check_relocated_symbols(); !s) return s;
    if (auto s = check_symbols(); !s) return s;
    if (auto s = check_versions(); !s) return s;
    if (auto s = check_relocations(); !s) return s;
    if (auto s = check_call_array(DT_INIT_ARRAY, DT_INIT_ARRAYSZ); !s) return s;
    return check_call_array(DT_FINI_ARRAY, DT_FINI_ARRAYSZ);
}

// ---- hash tables -------------------------------------------------------------------------

Status LoadChecker::check_gnu_hash() {
    const Entry* e = entry(DT_GNU_HASH);
    if (e == nullptr) return {};
    auto defect = [&](std::string what) {
        return load_defect(fmt::format("dynamic entry {} at offset {:#x}: DT_GNU_HASH: {}", e->index, e->offset, what));
    };
    const std::byte* header = file_bytes(e->value, 16);
    if (header == nullptr) return defect(fmt::format("table at {:#x} is not in the file", e->value));
    std::uint32_t words[4];
    std::memcpy(words, header, sizeof(words));
    auto [nbuckets, symbias, bloom_words, shift] = words;
    (void)shift;
    if (bloom_words == 0 || (bloom_words & (bloom_words - 1)) != 0)
        return defect(fmt::format("bloom filter size {} is not a power of two", bloom_words));
    std::uint64_t prefix = 16 + std::uint64_t{bloom_words} * 8 + std::uint64_t{nbuckets} * 4;
    const std::byte* table = file_bytes(e->value, prefix);
    if (table == nullptr) return defect(fmt::format("{} buckets past the loaded bytes", nbuckets));
    std::uint64_t buckets = 16 + std::uint64_t{bloom_words} * 8;
    std::uint64_t nsyms = symbias;
    std::uint64_t chain_end = symbias;  // the first index no earlier chain reached
    for (std::uint32_t b = 0; b < nbuckets; ++b) {
        std::uint32_t start = 0;
        std::memcpy(&start, table + buckets + std::uint64_t{b} * 4, 4);
        if (start == 0) continue;
        if (start < chain_end)
            return defect(fmt::format("bucket {} starts at symbol {}, inside an earlier chain or below the "
                                      "first hashed symbol {}", b, start, symbias));
        for (std::uint64_t index = start;; ++index) {
            const std::byte* word = file_bytes(e->value + prefix + (index - symbias) * 4, 4);
            if (word == nullptr) return defect(fmt::format("bucket {}'s chain runs past the loaded bytes", b));
            std::uint32_t hash = 0;
            std::memcpy(&hash, word, 4);
            if (hash & 1) {
                chain_end = index + 1;
                break;
            }
        }
        nsyms = std::max(nsyms, chain_end);
    }
    nsyms_ = std::max(nsyms_, nsyms);
    return {};
}

Status LoadChecker::check_sysv_hash() {
    const Entry* e = entry(DT_HASH);
    if (e == nullptr) return {};
    auto defect = [&](std::string what) {
        return load_defect(fmt::format("dynamic entry {} at offset {:#x}: DT_HASH: {}", e->index, e->offset, what));
    };
    const std::byte* header = file_bytes(e->value, 8);
    if (header == nullptr) return defect(fmt::format("table at {:#x} is not in the file", e->value));
    std::uint32_t nbucket = 0, nchain = 0;
    std::memcpy(&nbucket, header, 4);
    std::memcpy(&nchain, header + 4, 4);
    const std::byte* table = file_bytes(e->value, 8 + (std::uint64_t{nbucket} + nchain) * 4);
    if (table == nullptr) return defect(fmt::format("{} buckets and {} chains past the loaded bytes", nbucket, nchain));
    auto word = [&](std::uint64_t i) {
        std::uint32_t v = 0;
        std::memcpy(&v, table + 8 + i * 4, 4);
        return v;
    };
    std::vector<bool> seen(nchain);
    for (std::uint32_t b = 0; b < nbucket; ++b) {
        for (std::uint32_t index = word(b); index != STN_UNDEF; index = word(std::uint64_t{nbucket} + index)) {
            if (index >= nchain) return defect(fmt::format("bucket {} reaches symbol {} of {}", b, index, nchain));
            if (seen[index]) return defect(fmt::format("bucket {}'s chain meets symbol {} twice", b, index));
            seen[index] = true;
        }
    }
    nsyms_ = std::max<std::uint64_t>(nsyms_, nchain);
    return {};
}

// ---- symbols and versions ------------------------------------------------------------------

// The symbol table has no size of its own: the loader reads the symbols the
// hash tables reach and those relocations name. Each such index must lie in
// the table as loaded.
Status LoadChecker::check_relocated_symbols() {
    const Entry& symtab = *entry(DT_SYMTAB);
    for (std::int64_t tag : {DT_RELA, DT_JMPREL}) {
        const Entry* where = entry(tag);
        if (where == nullptr) continue;
        auto data = table(*where, entry(tag == DT_RELA ? DT_RELASZ : DT_PLTRELSZ)->value, sizeof(Elf64_Rela),
                          tag == DT_RELA ? "DT_RELA table" : "DT_JMPREL table");
        if (!data) return data.error();
        for (std::uint64_t i = 0; i < data->size() / sizeof(Elf64_Rela); ++i) {
            auto r = read_unaligned<Elf64_Rela>(*data, i * sizeof(Elf64_Rela));
            std::uint64_t symbol = ELF64_R_SYM(r.r_info);
            if (symbol < nsyms_) continue;
            if (file_bytes(symtab.value, (symbol + 1) * sizeof(Elf64_Sym)) == nullptr)
                return load_defect(fmt::format("{} entry {} at offset {:#x}: symbol index {} is past the loaded "
                                               "symbol table", dynamic_tag_name(tag), i,
                                               file_offset(where->value) + i * sizeof(Elf64_Rela), symbol));
            nsyms_ = symbol + 1;
        }
    }
    return {};
}

Status LoadChecker::check_symbols() {
    const Entry& symtab = *entry(DT_SYMTAB);
    if (nsyms_ == 0) nsyms_ = 1;
    auto data = table(symtab, nsyms_ * sizeof(Elf64_Sym), sizeof(Elf64_Sym), "symbol table");
    if (!data) return data.error();
    for (std::uint64_t i = 0; i < nsyms_; ++i) {
        auto sym = read_unaligned<Elf64_Sym>(*data, i * sizeof(Elf64_Sym));
        auto defect = [&](std::string what) {
            return load_defect(fmt::format("dynamic symbol {} at offset {:#x}: {}", i,
                                           file_offset(symtab.value) + i * sizeof(Elf64_Sym), what));
        };
        if (!string(sym.st_name))
            return defect(fmt::format("name offset {:#x} is outside DT_STRSZ {:#x}", sym.st_name, strsz_));
        if (i == 0) continue;
        unsigned bind = ELF64_ST_BIND(sym.st_info), type = ELF64_ST_TYPE(sym.st_info);
        unsigned visibility = ELF64_ST_VISIBILITY(sym.st_other);
        if (sym.st_shndx == SHN_UNDEF) {
            // The loader binds a local or non-default undefined symbol to the
            // module itself, at address 0 of it.
            if ((bind != STB_GLOBAL && bind != STB_WEAK) || visibility != STV_DEFAULT)
                return defect(fmt::format("undefined with binding {} and visibility {}", bind, visibility));
            continue;
        }
        if (sym.st_shndx == SHN_ABS) continue;
        if (sym.st_shndx >= shnum_ && sym.st_shndx < SHN_LORESERVE)
            return defect(fmt::format("section index {} of {}", sym.st_shndx, shnum_));
        if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_LOCAL && bind != STB_GNU_UNIQUE)
            return defect(fmt::format("binding {}", bind));
        if (type == STT_TLS) continue;  // an offset in the TLS block
        // Where a reference to it is bound: the loader calls an IFUNC's resolver.
        const auto& first = image_.segments().front();
        const auto& last = image_.segments().back();
        if (sym.st_value < first.vaddr || sym.st_value > last.vaddr + last.memsz)
            return defect(fmt::format("value {:#x} is outside the image", sym.st_value));
        if ((type == STT_FUNC || type == STT_GNU_IFUNC) && !image_.executable(sym.st_value))
            return defect(fmt::format("function {:#x} is in no executable segment", sym.st_value));
        if (type == STT_GNU_IFUNC) image_.calls_.push_back(sym.st_value);
        if (bind == STB_GNU_UNIQUE) image_.unique_definitions_.push_back(file_offset(symtab.value) + i * sizeof(Elf64_Sym));
    }
    return {};
}

Status LoadChecker::check_versions() {
    std::uint64_t steps = 0;
    std::uint32_t highest = 0;
    if (const Entry* e = entry(DT_VERNEED)) {
        has_versions_ = true;
        auto defect = [&](std::uint64_t at, std::string what) {
            return load_defect(fmt::format("DT_VERNEED entry at {:#x} (dynamic entry {}): {}", at, e->index, what));
        };
        std::string_view soname;
        if (const Entry* s = entry(DT_SONAME)) soname = *string(s->value);
        for (std::uint64_t at = e->value;;) {
            if (++steps > kMaxChainSteps) return defect(at, "chain too long");
            const std::byte* p = file_bytes(at, sizeof(Elf64_Verneed));
            if (p == nullptr) return defect(at, "not in the file");
            Elf64_Verneed vn;
            std::memcpy(&vn, p, sizeof(vn));
            if (vn.vn_version != VER_NEED_CURRENT) return defect(at, fmt::format("version {}", vn.vn_version));
            auto file = string(vn.vn_file);
            if (!file) return defect(at, fmt::format("file name offset {:#x} is outside DT_STRSZ", vn.vn_file));
            if (std::find(needed_.begin(), needed_.end(), *file) == needed_.end() && *file != soname)
                return defect(at, fmt::format("needs versions of {}, which no DT_NEEDED names", *file));
            std::uint64_t aux = 0;
            if (__builtin_add_overflow(at, std::uint64_t{vn.vn_aux}, &aux)) return defect(at, "vn_aux overflows");
            for (;;) {
                if (++steps > kMaxChainSteps) return defect(at, "chain too long");
                const std::byte* q = file_bytes(aux, sizeof(Elf64_Vernaux));
                if (q == nullptr) return defect(at, fmt::format("auxiliary entry at {:#x} is not in the file", aux));
                Elf64_Vernaux vna;
                std::memcpy(&vna, q, sizeof(vna));
                if (!string(vna.vna_name))
                    return defect(at, fmt::format("version name offset {:#x} is outside DT_STRSZ", vna.vna_name));
                highest = std::max<std::uint32_t>(highest, vna.vna_other & 0x7fff);
                if (vna.vna_next == 0) break;
                aux += vna.vna_next;  // no overflow: both below 2^47 + 2^32
            }
            if (vn.vn_next == 0) break;
            at += vn.vn_next;
        }
    }
    if (const Entry* e = entry(DT_VERDEF)) {
        has_versions_ = true;
        auto defect = [&](std::uint64_t at, std::string what) {
            return load_defect(fmt::format("DT_VERDEF entry at {:#x} (dynamic entry {}): {}", at, e->index, what));
        };
        for (std::uint64_t at = e->value;;) {
            if (++steps > kMaxChainSteps) return defect(at, "chain too long");
            const std::byte* p = file_bytes(at, sizeof(Elf64_Verdef));
            if (p == nullptr) return defect(at, "not in the file");
            Elf64_Verdef vd;
            std::memcpy(&vd, p, sizeof(vd));
            if (vd.vd_version != VER_DEF_CURRENT) return defect(at, fmt::format("version {}", vd.vd_version));
            const std::byte* q = file_bytes(at + vd.vd_aux, sizeof(Elf64_Verdaux));
            if (q == nullptr) return defect(at, "its name entry is not in the file");
            Elf64_Verdaux vda;
            std::memcpy(&vda, q, sizeof(vda));
            if (!string(vda.vda_name))
                return defect(at, fmt::format("version name offset {:#x} is outside DT_STRSZ", vda.vda_name));
            highest = std::max<std::uint32_t>(highest, vd.vd_ndx & 0x7fff);
            if (vd.vd_next == 0) break;
            at += vd.vd_next;
        }
    }
    // Once there is a version index, the loader reads DT_VERSYM regardless.
    if (highest > 0 && entry(DT_VERSYM) == nullptr) {
        const Entry* e = entry(DT_VERNEED) ? entry(DT_VERNEED) : entry(DT_VERDEF);
        return load_defect(fmt::format("dynamic entry {} at offset {:#x}: {} without DT_VERSYM", e->index, e->offset,
                                       dynamic_tag_name(e->tag)));
    }
    if (const Entry* e = entry(DT_VERSYM)) {
        auto defect = [&](std::string what) {
            return load_defect(fmt::format("dynamic entry {} at offset {:#x}: DT_VERSYM: {}", e->index, e->offset, what));
        };
        // The loader indexes a table of `highest + 1` versions, allocated only
        // when there is a version to hold.
        if (!has_versions_ || highest == 0) return defect("no DT_VERNEED or DT_VERDEF defines a version index");
        auto data = table(*e, nsyms_ * sizeof(Elf64_Half), sizeof(Elf64_Half), "version table");
        if (!data) return data.error();
        for (std::uint64_t i = 0; i < nsyms_; ++i) {
            auto v = read_unaligned<Elf64_Half>(*data, i * sizeof(Elf64_Half));
            if ((v & 0x7fff) > highest)
                return defect(fmt::format("symbol {} has version index {}, and the highest defined is {}", i,
                                          v & 0x7fff, highest));
        }
    }
    max_version_ = highest;
    return {};
}

// ---- relocations --------------------------------------------------------------------------

Status LoadChecker::check_relocations() {
    if (const Entry* relr = entry(DT_RELR)) {
        auto data = table(*relr, entry(DT_RELRSZ)->value, sizeof(Elf64_Relr), "DT_RELR table");
        if (!data) return data.error();
        if (auto s = check_relr(*relr, *data); !s) return s;
    }
    if (const Entry* rela = entry(DT_RELA)) {
        auto data = table(*rela, entry(DT_RELASZ)->value, sizeof(Elf64_Rela), "DT_RELA table");
        if (!data) return data.error();
        if (const Entry* count = entry(DT_RELACOUNT)) {
            // The loader applies the first DT_RELACOUNT entries as relative
            // without looking at their type.
            std::uint64_t n = std::min<std::uint64_t>(count->value, data->size() / sizeof(Elf64_Rela));
            for (std::uint64_t i = 0; i < n; ++i)
                if (ELF64_R_TYPE(read_unaligned<Elf64_Rela>(*data, i * sizeof(Elf64_Rela)).r_info) != R_X86_64_RELATIVE)
                    return load_defect(fmt::format("DT_RELA entry {}: DT_RELACOUNT {} counts it, and it is not "
                                                   "R_X86_64_RELATIVE", i, count->value));
            // A linker that counts them sorts every relative relocation
            // first (GNU ld, gold, lld and mold with -z combreloc, the
            // default). One after them is a symbol's relocation whose type
            // was changed: a GOT slot of __cxa_finalize turned into a pointer
            // to the image's first byte, which the module's destructor then
            // calls.
            for (std::uint64_t i = n; i < data->size() / sizeof(Elf64_Rela); ++i)
                if (ELF64_R_TYPE(read_unaligned<Elf64_Rela>(*data, i * sizeof(Elf64_Rela)).r_info) == R_X86_64_RELATIVE)
                    return load_defect(fmt::format("DT_RELA entry {} at offset {:#x}: R_X86_64_RELATIVE after the "
                                                   "{} that DT_RELACOUNT counts (a linker sorts them all first)",
                                                   i, file_offset(rela->value) + i * sizeof(Elf64_Rela), count->value));
        }
        if (auto s = check_relocation_table(*rela, *data); !s) return s;
    }
    if (const Entry* jmprel = entry(DT_JMPREL)) {
        auto data = table(*jmprel, entry(DT_PLTRELSZ)->value, sizeof(Elf64_Rela), "DT_JMPREL table");
        if (!data) return data.error();
        if (auto s = check_relocation_table(*jmprel, *data); !s) return s;
    }
    return {};
}

Status LoadChecker::check_relocation_table(const Entry& where, std::span<const std::byte> rela) {
    const char* name = dynamic_tag_name(where.tag);
    const std::byte* symtab = file_bytes(entry(DT_SYMTAB)->value, nsyms_ * sizeof(Elf64_Sym));
    for (std::uint64_t i = 0; i < rela.size() / sizeof(Elf64_Rela); ++i) {
        auto r = read_unaligned<Elf64_Rela>(rela, i * sizeof(Elf64_Rela));
        auto defect = [&](std::string what) {
            return load_defect(fmt::format("{} entry {} at offset {:#x}: {}", name, i,
                                           file_offset(where.value) + i * sizeof(Elf64_Rela), what));
        };
        auto type = static_cast<std::uint32_t>(ELF64_R_TYPE(r.r_info));
        auto symbol = static_cast<std::uint64_t>(ELF64_R_SYM(r.r_info));
        std::uint64_t width = relocation_width(type);
        if (width == ~std::uint64_t{0})
            return defect(fmt::format("relocation type {} is not one applied to a shared object", type));
        if (symbol >= nsyms_) return defect(fmt::format("symbol index {} is past the {} symbols", symbol, nsyms_));
        if (type == R_X86_64_NONE) continue;
        // Bound to symbol 0, these store the module's own base: linkers emit
        // R_X86_64_RELATIVE for that.
        if (symbol == 0 && (type == R_X86_64_GLOB_DAT || type == R_X86_64_JUMP_SLOT || type == R_X86_64_64))
            return defect(fmt::format("relocation type {} needs a symbol", type));
        if (!image_.writable(r.r_offset, width))
            return defect(fmt::format("target {:#x} is in no writable segment", r.r_offset));
        // A slot of the GOT is a whole aligned word, relocated once.
        bool got_slot = type == R_X86_64_GLOB_DAT || type == R_X86_64_JUMP_SLOT || type == R_X86_64_DTPMOD64 ||
                        type == R_X86_64_TPOFF64;
        if (got_slot && r.r_offset % 8 != 0) return defect(fmt::format("target {:#x} is not aligned", r.r_offset));
        if (auto next = relocated_.lower_bound(r.r_offset);
            (next != relocated_.end() && next->first < r.r_offset + width) ||
            (next != relocated_.begin() && std::prev(next)->first + 8 > r.r_offset))
            return defect(fmt::format("target {:#x} overlaps another relocation's", r.r_offset));
        std::optional<std::uint64_t> value;
        if (type == R_X86_64_RELATIVE) {
            // An address in the image (one past its end included, as C allows).
            value = static_cast<std::uint64_t>(r.r_addend);
            const auto& first = image_.segments().front();
            const auto& last = image_.segments().back();
            if (*value < first.vaddr || *value > last.vaddr + last.memsz)
                return defect(fmt::format("R_X86_64_RELATIVE value {:#x} points outside the image", *value));
        }
        if (type == R_X86_64_IRELATIVE) {
            if (!image_.executable(static_cast<std::uint64_t>(r.r_addend)))
                return defect(fmt::format("IRELATIVE resolver {:#x} is in no executable segment", r.r_addend));
            image_.calls_.push_back(static_cast<std::uint64_t>(r.r_addend));
        }
        if (type == R_X86_64_64 && symbol != 0) {
            auto sym = read_unaligned<Elf64_Sym>(std::span<const std::byte>(symtab, nsyms_ * sizeof(Elf64_Sym)),
                                                 symbol * sizeof(Elf64_Sym));
            if (sym.st_shndx != SHN_UNDEF && ELF64_ST_TYPE(sym.st_info) != STT_GNU_IFUNC)
                value = sym.st_value + static_cast<std::uint64_t>(r.r_addend);
        }
        relocated_[r.r_offset] = value;
    }
    return {};
}

Status LoadChecker::check_relr(const Entry& where, std::span<const std::byte> relr) {
    auto slot = [&](std::uint64_t i, std::uint64_t address) -> Status {
        if (!image_.writable(address, 8))
            return load_defect(fmt::format("DT_RELR entry {} at offset {:#x}: target {:#x} is in no writable segment",
                                           i, file_offset(where.value) + i * 8, address));
        const std::byte* p = file_bytes(address, 8);
        std::uint64_t content = 0;
        if (p != nullptr) std::memcpy(&content, p, 8);
        relocated_[address] = content;
        return {};
    };
    std::uint64_t next = 0;
    for (std::uint64_t i = 0; i < relr.size() / 8; ++i) {
        auto word = read_unaligned<std::uint64_t>(relr, i * 8);
        if ((word & 1) == 0) {
            if (auto s = slot(i, word); !s) return s;
            next = word + 8;
            continue;
        }
        for (std::uint64_t bit = 1, address = next; bit < 64; ++bit, address += 8)
            if ((word >> bit) & 1)
                if (auto s = slot(i, address); !s) return s;
        next += 63 * 8;
    }
    return {};
}

// The init and fini arrays: every entry, once relocated, is a function of the
// module, for the loader calls each.
Status LoadChecker::check_call_array(std::int64_t tag, std::int64_t size_tag) {
    const Entry* array = entry(tag);
    const Entry* size = entry(size_tag);
    if (array == nullptr && size == nullptr) return {};
    if (array == nullptr || size == nullptr)
        return load_defect(fmt::format("dynamic entry {} at offset {:#x}: {} without {}", (array ? array : size)->index,
                                       (array ? array : size)->offset, dynamic_tag_name(array ? tag : size_tag),
                                       dynamic_tag_name(array ? size_tag : tag)));
    auto defect = [&](std::string what) {
        return load_defect(fmt::format("dynamic entry {} at offset {:#x}: {}", array->index, array->offset, what));
    };
    if (size->value % 8 != 0) return defect(fmt::format("{} {:#x} is not a multiple of 8", dynamic_tag_name(size_tag),
                                                        size->value));
    if (size->value == 0) return {};
    if (!image_.loaded(array->value, size->value))
        return defect(fmt::format("{} [{:#x}, +{:#x}) is in no segment", dynamic_tag_name(tag), array->value,
                                  size->value));
    LoadImage::CallArray found{array->value, size->value / 8, size->offset + 8, dynamic_vaddr_ + size->index * 16ull + 8};
    (tag == DT_INIT_ARRAY ? image_.init_array_ : image_.fini_array_) = found;
    for (std::uint64_t i = 0; i < size->value / 8; ++i) {
        std::uint64_t slot = array->value + i * 8;
        auto it = relocated_.find(slot);
        if (it == relocated_.end())
            return defect(fmt::format("{} entry {} at {:#x} has no relocation", dynamic_tag_name(tag), i, slot));
        if (!it->second || !image_.executable(*it->second))
            return defect(fmt::format("{} entry {} at {:#x} is not a function of the module", dynamic_tag_name(tag), i,
                                      slot));
        image_.calls_.push_back(*it->second);
    }
    return {};
}

}  // namespace umod::elf
