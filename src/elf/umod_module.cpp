#include "elf/umod_module.h"

#include <umod/type_name.h>

#include <elf.h>

#include <cxxabi.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

namespace umod::elf {

namespace {

Error malformed(std::string what) { return Error::with(ENOEXEC, MalformedElf{std::move(what)}); }

// Pointers stored in the module's data are position-independent: each has an
// R_X86_64_RELATIVE relocation whose addend is the target's virtual address.
class PointerReader {
public:
    static Expected<PointerReader> make(const ElfFile& file, std::vector<SymbolBinding>& bindings) {
        PointerReader reader(file);
        std::vector<Symbol> dynamic_symbols;
        if (const Section* dynsym = file.section(".dynsym")) {
            auto symbols = file.symbols(*dynsym);
            if (!symbols) return symbols.error();
            dynamic_symbols = std::move(*symbols);
        }
        for (const Section& s : file.sections()) {
            if (s.type != SHT_RELA || !(s.flags & SHF_ALLOC)) continue;
            auto relocs = file.relocations(s);
            if (!relocs) return relocs.error();
            for (const Relocation& r : *relocs) {
                if (r.type == R_X86_64_RELATIVE) {
                    reader.targets_[r.offset] = static_cast<std::uint64_t>(r.addend);
                } else if (r.type == R_X86_64_64 && r.symbol < dynamic_symbols.size() &&
                           dynamic_symbols[r.symbol].shndx != SHN_UNDEF) {
                    // A pointer to one of the module's own symbols.
                    reader.targets_[r.offset] = dynamic_symbols[r.symbol].value + static_cast<std::uint64_t>(r.addend);
                }
                if ((r.type == R_X86_64_GLOB_DAT || r.type == R_X86_64_JUMP_SLOT || r.type == R_X86_64_64) &&
                    r.symbol != 0 && r.symbol < dynamic_symbols.size() && !dynamic_symbols[r.symbol].name.empty()) {
                    const Symbol& sym = dynamic_symbols[r.symbol];
                    bindings.push_back({r.offset, r.type, r.addend, std::string(sym.name), sym.shndx != SHN_UNDEF});
                }
            }
        }
        return reader;
    }
    // The address stored at `where` (0 when it holds no pointer).
    std::uint64_t pointer_at(std::uint64_t where) const {
        auto it = targets_.find(where);
        return it == targets_.end() ? 0 : it->second;
    }
    Expected<std::string> string_at(std::uint64_t where) const {
        std::uint64_t target = pointer_at(where);
        if (target == 0) return malformed(fmt::format("no string pointer at {:#x}", where));
        auto s = file_.string_at_address(target);
        if (!s) return s.error();
        return std::string(*s);
    }

private:
    explicit PointerReader(const ElfFile& file) : file_(file) {}
    const ElfFile& file_;
    std::unordered_map<std::uint64_t, std::uint64_t> targets_;
};

}  // namespace

Expected<UmodModuleInfo> read_umod_module(const ElfFile& file) {
    if (file.kind() != FileKind::SharedObject)
        return malformed("not a shared object (a relocatable file such as a Linux .ko cannot be loaded)");
    UmodModuleInfo info;
    auto pointers = PointerReader::make(file, info.bindings);
    if (!pointers) return pointers.error();

    if (const Section* modinfo = file.section(".modinfo")) {
        auto data = file.contents(*modinfo);
        if (!data) return data.error();
        for (auto [key, value] : parse_modinfo(*data)) info.modinfo.emplace_back(key, value);
    }

    // Dynamic symbols: imports, and the link names of exports by address.
    std::unordered_map<std::uint64_t, std::string> default_by_address;
    std::unordered_set<std::string> default_names;
    if (const Section* dynsym = file.section(".dynsym")) {
        auto symbols = file.symbols(*dynsym);
        if (!symbols) return symbols.error();
        for (const Symbol& s : *symbols) {
            if (s.name.empty()) continue;
            if (s.shndx == SHN_UNDEF) {
                if (s.bind != STB_WEAK) info.undefined.emplace_back(s.name);
                continue;
            }
            // Protected: what EXPORT_SYMBOL marks when Clang ignored its
            // visibility attribute (<umod/module.h>); exported all the same.
            bool exported_visibility = s.visibility == STV_DEFAULT || s.visibility == STV_PROTECTED;
            if (exported_visibility && (s.type == STT_FUNC || s.type == STT_OBJECT)) {
                default_by_address.emplace(s.value, std::string(s.name));
                default_names.emplace(s.name);
            }
        }
    }

    // The export table: struct umod_export { address, name, ns, type, flags }.
    constexpr std::uint64_t kExportSize = 40;
    if (const Section* table = file.section(".umod_exports")) {
        auto data = file.contents(*table);
        if (!data) return data.error();
        if (data->size() % kExportSize != 0)
            return malformed(fmt::format(".umod_exports size {} is not a multiple of {}", data->size(), kExportSize));
        for (std::uint64_t off = 0; off < data->size(); off += kExportSize) {
            std::uint64_t entry = table->addr + off;
            UmodExport e;
            e.address = pointers->pointer_at(entry);
            if (e.address == 0) return malformed(fmt::format("export entry at {:#x} has no address", entry));
            auto name = pointers->string_at(entry + 8);
            auto ns = pointers->string_at(entry + 16);
            auto type = pointers->string_at(entry + 24);
            if (!name) return name.error();
            if (!ns) return ns.error();
            if (!type) return type.error();
            e.written_name = *name;
            e.ns = *ns;
            e.type = canonical_type_name(*type);
            e.gpl_only = (read_unaligned<std::uint64_t>(*data, off + 32) & 1) != 0;
            auto linked = default_by_address.find(e.address);
            if (linked == default_by_address.end())
                return malformed(fmt::format(
                    "export {} is not in the dynamic symbol table (it is hidden): with Clang, export a "
                    "variable from a declaration before its definition", e.written_name));
            e.link_name = linked->second;
            info.exports.push_back(std::move(e));
        }
    }
    std::unordered_map<std::string, int> by_qualified_name;
    for (const auto& e : info.exports) ++by_qualified_name[qualified_name(e.link_name)];
    for (auto& e : info.exports) e.overloaded = by_qualified_name[qualified_name(e.link_name)] > 1;
    std::unordered_set<std::string> exported;
    for (const auto& e : info.exports) exported.insert(e.link_name);
    for (const auto& name : default_names)
        if (!exported.count(name)) info.other_default.push_back(name);

    // Parameters: struct umod_param { name, address, type }.
    constexpr std::uint64_t kParamSize = 24;
    if (const Section* table = file.section(".umod_params")) {
        if (table->size % kParamSize != 0) return malformed(".umod_params has a partial entry");
        for (std::uint64_t off = 0; off < table->size; off += kParamSize) {
            std::uint64_t entry = table->addr + off;
            UmodParam p;
            auto name = pointers->string_at(entry);
            auto type = pointers->string_at(entry + 16);
            if (!name) return name.error();
            if (!type) return type.error();
            p.name = *name;
            p.type = *type;
            p.address = pointers->pointer_at(entry + 8);
            if (p.address == 0) return malformed(fmt::format("parameter {} has no address", p.name));
            info.params.push_back(std::move(p));
        }
    }

    auto single_pointer = [&](std::string_view section) -> Expected<std::uint64_t> {
        const Section* s = file.section(section);
        if (s == nullptr) return std::uint64_t{0};
        if (s->size != 8) return malformed(fmt::format("{} must hold exactly one function", section));
        std::uint64_t target = pointers->pointer_at(s->addr);
        if (target == 0) return malformed(fmt::format("{} holds no function address", section));
        return target;
    };
    auto init = single_pointer(".umod_init");
    auto exit = single_pointer(".umod_exit");
    if (!init) return init.error();
    if (!exit) return exit.error();
    info.init = *init;
    info.exit = *exit;
    if (const Section* self = file.section(".umod_this_module")) info.this_module = self->addr;

    if (const Section* symtab = file.section(".symtab")) {
        auto symbols = file.symbols(*symtab);
        if (!symbols) return symbols.error();
        for (const Symbol& s : *symbols)
            if (!s.name.empty() && s.shndx != SHN_UNDEF && (s.type == STT_FUNC || s.type == STT_OBJECT) &&
                !exported.count(std::string(s.name)))
                info.local_defined.emplace_back(s.name);
    }

    auto dynamic = file.dynamic();
    if (!dynamic) return dynamic.error();
    for (const DynamicEntry& d : *dynamic) {
        if (d.tag == DT_SYMBOLIC) info.symbolic = true;
        if (d.tag == DT_FLAGS && (d.value & DF_SYMBOLIC)) info.symbolic = true;
        if (d.tag == DT_FLAGS_1 && (d.value & DF_1_NODELETE)) info.nodelete = true;
    }
    for (const Section& s : file.sections()) {
        if (s.flags & SHF_TLS) info.has_tls = true;
        if (s.flags & SHF_ALLOC) info.image_size = std::max(info.image_size, s.addr + s.size);
    }
    return info;
}

std::string demangle(std::string_view link_name) {
    std::string name(link_name);
    if (!link_name.starts_with("_Z")) return name;
    int status = 0;
    char* plain = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
    if (status != 0 || plain == nullptr) return name;
    name = plain;
    std::free(plain);
    return name;
}

namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
}

}  // namespace

std::string readable_name(std::string_view link_name) {
    std::string name = demangle(link_name);
    if (name.size() == link_name.size() && name == link_name) return name;
    // ABI tags ("cache::lookup[abi:cxx11]()") are part of the link name only.
    for (std::size_t at = name.find("[abi:"); at != std::string::npos; at = name.find("[abi:", at)) {
        std::size_t end = name.find(']', at);
        if (end == std::string::npos) break;
        name.erase(at, end + 1 - at);
    }
    replace_all(name, "std::__cxx11::", "std::");
    replace_all(name, "std::basic_string<char, std::char_traits<char>, std::allocator<char> >", "std::string");
    replace_all(name, "std::basic_string_view<char, std::char_traits<char> >", "std::string_view");
    return name;
}

std::string qualified_name(std::string_view link_name) {
    std::string name = readable_name(link_name);
    if (name == link_name) return name;
    // The parameter list: the first '(' outside template arguments.
    int depth = 0;
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (name[i] == '<') ++depth;
        if (name[i] == '>') --depth;
        if (name[i] == '(' && depth == 0) {
            name.resize(i);
            break;
        }
    }
    return name;
}

std::string overload_key(std::string_view qualified, std::string_view type) {
    std::string key(qualified);
    key += '@';
    for (char c : type)
        if (c != ' ') key += c;
    return key;
}

std::string second_name(const UmodExport& e) {
    if (std::string name = qualified_name(e.link_name); name != e.link_name)
        return e.overloaded && !e.type.empty() ? overload_key(name, e.type) : name;
    return e.written_name != e.link_name ? e.written_name : std::string();
}

}  // namespace umod::elf
