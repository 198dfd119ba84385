// depmod as kmod 30 does it (see shared/reference/kmod-formats.md §5): find
// the modules, order them (hash order, then modules.order), read their
// exports and imports with the ELF layer, resolve dependencies, sort them
// topologically, and write every file through a temporary name.
#include "index/depmod.h"

#include <dirent.h>
#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "elf/decompress.h"
#include "elf/elf_file.h"
#include "elf/mapped_file.h"
#include "index/index_file.h"
#include "index/kmod_hash.h"
#include "index/modprobe.h"

namespace umod::index {

namespace {

struct Symbol;

struct Module {
    std::string name;
    std::string path;     // absolute
    std::string relpath;  // relative to the module directory
    int sort_idx = 1;
    std::uint32_t idx = 0;
    std::vector<std::pair<std::string, std::uint32_t>> exports;  // name, crc
    struct Import {
        std::string name;
        std::uint32_t crc;
        bool weak;
    };
    std::vector<Import> imports;
    std::vector<std::string> aliases;
    std::vector<std::string> softdeps;
    std::vector<Module*> deps;  // first-reference order
    int users = 0;
    std::uint32_t dep_sort_idx = 0;
};

struct SymbolOwner {
    Module* owner;  // nullptr: the kernel itself
    std::uint32_t crc;
};

bool is_module_file(std::string_view name) {
    return name.ends_with(".ko") || name.ends_with(".ko.xz") || name.ends_with(".ko.zst");
}

// Recursive readdir in the directory's own order, as kmod walks it.
void discover(const std::string& root, const std::string& rel, std::vector<Module>& found,
              std::unordered_map<std::string, std::size_t>& by_name) {
    std::string dir = rel.empty() ? root : root + "/" + rel;
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return;
    while (dirent* e = readdir(d)) {
        std::string_view n = e->d_name;
        if (n == "." || n == ".." || n == "build" || n == "source") continue;
        std::string child = rel.empty() ? std::string(n) : rel + "/" + std::string(n);
        unsigned char type = e->d_type;
        if (type == DT_UNKNOWN) {
            struct stat st {};
            if (stat((root + "/" + child).c_str(), &st) == 0) type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
        }
        if (type == DT_DIR) {
            discover(root, child, found, by_name);
        } else if (is_module_file(n)) {
            Module m;
            m.name = module_name_of_path(n);
            m.relpath = child;
            m.path = root + "/" + child;
            auto it = by_name.find(m.name);
            if (it == by_name.end()) {
                by_name[m.name] = found.size();
                found.push_back(std::move(m));
            } else if (child.starts_with("updates/") && !found[it->second].relpath.starts_with("updates/")) {
                found[it->second] = std::move(m);  // updates/ overrides
            }
        }
    }
    closedir(d);
}

// Exports, imports and modinfo of one module, as libkmod-elf reads them.
bool read_module(Module& m, elf::ReadBuffer& buffer, std::FILE* err) {
    std::vector<std::byte> unpacked;
    std::span<const std::byte> bytes;
    auto compression = elf::compression_of(m.path);
    if (compression == elf::Compression::None) {
        // Only the sections read below (and the section tables).
        auto parts = elf::read_elf_parts(m.path, buffer,
                                         {".modinfo", ".symtab", ".strtab", "__versions", "__kcrctab",
                                          "__kcrctab_gpl", "__ksymtab_strings"},
                                         0);
        if (!parts) {
            std::fprintf(err, "depmod: ERROR: failed to load symbols from %s: %s\n", m.path.c_str(),
                         std::strerror(parts.error().code()));
            return false;
        }
        bytes = *parts;
    } else {
        auto file = elf::MappedFile::open(m.path);
        if (!file) {
            std::fprintf(err, "depmod: ERROR: failed to load symbols from %s: %s\n", m.path.c_str(),
                         std::strerror(file.error().code()));
            return false;
        }
        auto d = elf::decompress(file->bytes(), compression);
        if (!d) {
            std::fprintf(err, "depmod: ERROR: failed to load symbols from %s: %s\n", m.path.c_str(),
                         std::strerror(d.error().code()));
            return false;
        }
        unpacked = std::move(*d);
        bytes = unpacked;
    }
    auto elf = elf::ElfFile::parse(bytes);
    if (!elf) {
        std::fprintf(err, "depmod: ERROR: failed to load symbols from %s: %s\n", m.path.c_str(),
                     std::strerror(ENOEXEC));
        return false;
    }
    if (const elf::Section* modinfo = elf->section(".modinfo")) {
        if (auto data = elf->contents(*modinfo)) {
            for (auto [key, value] : elf::parse_modinfo(*data)) {
                if (key == "alias") m.aliases.emplace_back(value);
                if (key == "softdep") m.softdeps.emplace_back(value);
            }
        }
    }
    const elf::Section* symtab = elf->section(".symtab");
    std::vector<elf::Symbol> symbols;
    if (symtab != nullptr) {
        if (auto s = elf->symbols(*symtab)) symbols = std::move(*s);
    }
    // Exports: __crc_ symbols, CRC read from their section (or the value).
    for (const elf::Symbol& s : symbols) {
        if (!s.name.starts_with("__crc_")) continue;
        std::uint32_t crc = static_cast<std::uint32_t>(s.value);
        if (s.shndx != SHN_UNDEF && s.shndx != SHN_ABS && s.shndx < elf->sections().size()) {
            if (auto data = elf->contents(elf->sections()[s.shndx]); data && s.value + 4 <= data->size())
                crc = elf::read_unaligned<std::uint32_t>(*data, s.value);
        }
        m.exports.emplace_back(std::string(s.name.substr(6)), crc);
    }
    if (m.exports.empty()) {
        // No modversions: every string of __ksymtab_strings (namespaces too).
        if (const elf::Section* strings = elf->section("__ksymtab_strings")) {
            if (auto data = elf->contents(*strings)) {
                std::string_view all(reinterpret_cast<const char*>(data->data()), data->size());
                std::size_t pos = 0;
                while (pos < all.size()) {
                    std::size_t end = all.find('\0', pos);
                    if (end == std::string_view::npos) end = all.size();
                    if (end > pos) m.exports.emplace_back(std::string(all.substr(pos, end - pos)), 0);
                    pos = end + 1;
                }
            }
        }
    }
    // Imports: undefined symbols in order, CRCs from __versions, then the
    // __versions entries nothing matched.
    std::vector<std::pair<std::string_view, std::uint32_t>> versions;
    if (const elf::Section* v = elf->section("__versions")) {
        if (auto data = elf->contents(*v)) {
            for (std::size_t off = 0; off + 64 <= data->size(); off += 64) {
                auto crc = elf::read_unaligned<std::uint64_t>(*data, off);
                const char* name = reinterpret_cast<const char*>(data->data() + off + 8);
                versions.emplace_back(std::string_view(name, strnlen(name, 56)), static_cast<std::uint32_t>(crc));
            }
        }
    }
    std::vector<bool> matched(versions.size());
    for (const elf::Symbol& s : symbols) {
        if (s.shndx != SHN_UNDEF || s.name.empty()) continue;
        std::uint32_t crc = 0;
        for (std::size_t i = 0; i < versions.size(); ++i) {
            if (versions[i].first == s.name) {
                crc = versions[i].second;
                matched[i] = true;
                break;
            }
        }
        m.imports.push_back({std::string(s.name), crc, s.bind == STB_WEAK});
    }
    for (std::size_t i = 0; i < versions.size(); ++i)
        if (!matched[i]) m.imports.push_back({std::string(versions[i].first), versions[i].second, false});
    return true;
}

// Writes `content` to dir/name through a temporary file renamed into place.
bool write_file(const std::string& dir, const std::string& name, const std::string& content, std::FILE* err) {
    std::string final_path = dir + "/" + name;
    std::string tmp = fmt::format("{}.{}.tmp", final_path, getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << content;
        if (!out.flush()) {
            std::fprintf(err, "depmod: ERROR: could not write %s: %s\n", tmp.c_str(), std::strerror(errno));
            std::remove(tmp.c_str());
            return false;
        }
    }
    if (std::rename(tmp.c_str(), final_path.c_str()) != 0) {
        std::fprintf(err, "depmod: ERROR: could not rename %s: %s\n", tmp.c_str(), std::strerror(errno));
        std::remove(tmp.c_str());
        return false;
    }
    return true;
}

// Modules left unsorted are in cycles or depend on one. As kmod does: from
// each unsorted module not yet known to be in a cycle (array order), walk its
// unsorted dependencies depth first, last dependency first, and report every
// path that comes back to it.
void report_cycles(std::vector<Module>& modules, const std::vector<int>& users, std::FILE* err) {
    std::vector<char> in_cycle(modules.size(), 0);
    std::vector<Module*> path;
    std::vector<char> on_path(modules.size(), 0);
    Module* start = nullptr;
    std::function<void(Module*)> walk = [&](Module* m) {
        path.push_back(m);
        on_path[m->idx] = 1;
        for (auto it = m->deps.rbegin(); it != m->deps.rend(); ++it) {
            Module* d = *it;
            if (users[d->idx] == 0) continue;  // sorted: in no cycle
            if (d == start) {
                std::string text;
                for (Module* p : path) {
                    text += p->name + " -> ";
                    in_cycle[p->idx] = 1;
                }
                std::fprintf(err, "depmod: ERROR: Cycle detected: %s%s\n", text.c_str(), d->name.c_str());
            } else if (!on_path[d->idx]) {
                walk(d);
            }
        }
        on_path[m->idx] = 0;
        path.pop_back();
    };
    for (Module& m : modules) {
        if (users[m.idx] == 0 || in_cycle[m.idx]) continue;
        start = &m;
        walk(&m);
    }
    std::size_t count = static_cast<std::size_t>(std::count(in_cycle.begin(), in_cycle.end(), 1));
    std::fprintf(err, "depmod: ERROR: Found %zu modules in dependency cycles!\n", count);
}

}  // namespace

int depmod(const DepmodOptions& options, std::FILE* out, std::FILE* err) {
    std::string base = options.basedir.empty() ? "" : std::filesystem::absolute(options.basedir).string();
    std::string dirname = base + "/lib/modules/" + options.kernel_version;

    std::vector<Module> modules;
    std::unordered_map<std::string, std::size_t> by_name;
    discover(dirname, "", modules, by_name);

    // Order: kmod's hash iteration order, then modules.order (stable).
    std::sort(modules.begin(), modules.end(),
              [](const Module& a, const Module& b) { return hash_order_less(a.name, b.name, 512); });
    {
        std::ifstream order(dirname + "/modules.order");
        if (!order) {
            std::fprintf(err, "depmod: WARNING: could not open modules.order at %s: %s\n", dirname.c_str(),
                         std::strerror(errno));
        } else {
            std::vector<std::string> lines;
            for (std::string line; std::getline(order, line);) lines.push_back(line);
            int total = static_cast<int>(lines.size()) + 1;
            std::unordered_map<std::string, Module*> by_relpath;
            for (Module& m : modules) {
                std::string rel = m.relpath;
                if (auto ko = rel.find(".ko"); ko != std::string::npos) rel.resize(ko + 3);
                by_relpath[rel] = &m;
            }
            for (int i = 0; i < static_cast<int>(lines.size()); ++i)
                if (auto it = by_relpath.find(lines[static_cast<std::size_t>(i)]); it != by_relpath.end())
                    it->second->sort_idx = (i + 1) - total;
        }
    }
    std::stable_sort(modules.begin(), modules.end(),
                     [](const Module& a, const Module& b) { return a.sort_idx < b.sort_idx; });
    for (std::uint32_t i = 0; i < modules.size(); ++i) modules[i].idx = i;

    elf::ReadBuffer buffer;
    for (Module& m : modules) read_module(m, buffer, err);

    // The symbol table: the kernel's (from -E), then module exports (later wins).
    std::unordered_map<std::string, SymbolOwner> symbols;
    if (!options.symvers.empty()) {
        std::ifstream symvers(options.symvers);
        for (std::string line; std::getline(symvers, line);) {
            std::istringstream fields(line);
            std::string crc, name, owner;
            fields >> crc >> name >> owner;
            if (owner == "vmlinux") symbols[name] = {nullptr, static_cast<std::uint32_t>(std::stoul(crc, nullptr, 16))};
        }
    } else if (options.show_unknown) {
        std::fprintf(err, "depmod: WARNING: -e needs -E or -F\n");
    }
    for (const char* special : {"__this_module", "_GLOBAL_OFFSET_TABLE_", "TOC."}) symbols[special] = {nullptr, 0};
    for (Module& m : modules)
        for (const auto& [name, crc] : m.exports) symbols[name] = {&m, crc};

    for (Module& m : modules) {
        for (const Module::Import& imp : m.imports) {
            std::string_view name = imp.name;
            if (!name.empty() && name[0] == '.') name.remove_prefix(1);
            auto it = symbols.find(std::string(name));
            if (it == symbols.end()) {
                if (options.show_unknown && !options.symvers.empty() && !imp.weak)
                    std::fprintf(err, "depmod: WARNING: %s needs unknown symbol %.*s\n", m.path.c_str(),
                                 static_cast<int>(name.size()), name.data());
                continue;
            }
            if (options.show_unknown && !options.symvers.empty() && !imp.weak && imp.crc != it->second.crc)
                std::fprintf(err, "depmod: WARNING: %s disagrees about version of symbol %.*s\n", m.path.c_str(),
                             static_cast<int>(name.size()), name.data());
            Module* owner = it->second.owner;
            if (owner == nullptr || owner == &m) continue;
            if (std::find(m.deps.begin(), m.deps.end(), owner) == m.deps.end()) {
                m.deps.push_back(owner);
                ++owner->users;
            }
        }
    }

    // Topological order: Kahn's algorithm with a LIFO stack.
    std::vector<Module*> stack;
    std::vector<int> users(modules.size());
    for (Module& m : modules) {
        users[m.idx] = m.users;
        if (m.users == 0) stack.push_back(&m);
    }
    std::uint32_t n = 0;
    while (!stack.empty()) {
        Module* m = stack.back();
        stack.pop_back();
        m->dep_sort_idx = n++;
        for (Module* dep : m->deps)
            if (--users[dep->idx] == 0) stack.push_back(dep);
    }
    if (n < modules.size()) {
        report_cycles(modules, users, err);
        return 1;  // nothing is written
    }

    // The text files.
    std::string dep, alias = "# Aliases extracted from modules themselves.\n",
                     softdep = "# Soft dependencies extracted from modules themselves.\n",
                     symbols_text = "# Aliases for symbols, used by symbol_request().\n", devname;
    IndexBuilder dep_bin, alias_bin, symbols_bin;
    std::string normal;
    for (Module& m : modules) {
        std::vector<Module*> closure;
        std::vector<Module*> todo(m.deps.rbegin(), m.deps.rend());
        std::set<Module*> seen;
        std::function<void(Module*)> visit = [&](Module* d) {
            if (!seen.insert(d).second) return;
            closure.push_back(d);
            for (Module* dd : d->deps) visit(dd);
        };
        for (Module* d : m.deps) visit(d);
        std::sort(closure.begin(), closure.end(),
                  [](const Module* a, const Module* b) { return a->dep_sort_idx < b->dep_sort_idx; });
        std::string line = m.relpath + ":";
        for (Module* d : closure) line += " " + d->relpath;
        dep += line + "\n";
        dep_bin.insert(m.name, line, m.idx);
        for (const std::string& a : m.aliases) {
            alias += "alias " + a + " " + m.name + "\n";
            if (options.dry_run) continue;  // no .bin files: kmod does not check them either
            if (alias_normalize(a, normal))
                alias_bin.insert(normal, m.name, m.idx);
            else
                std::fprintf(err, "depmod: WARNING: Unmatched bracket in %s\n", a.c_str());
        }
        for (const std::string& s : m.softdeps) softdep += "softdep " + m.name + " " + s + "\n";
        std::string dev_name;
        char dev_type = 0;
        unsigned major = 0, minor = 0;
        for (const std::string& a : m.aliases) {
            if (a.starts_with("devname:")) {
                dev_name = a.substr(8);
            } else if (std::sscanf(a.c_str(), "char-major-%u-%u", &major, &minor) == 2) {
                dev_type = 'c';
            } else if (std::sscanf(a.c_str(), "block-major-%u-%u", &major, &minor) == 2) {
                dev_type = 'b';
            }
            if (!dev_name.empty() && dev_type != 0) break;
        }
        if (!dev_name.empty()) {
            if (dev_type == 0) {
                std::fprintf(err, "depmod: ERROR: Module '%s' has devname (%s) but lacks major and minor information. Ignoring.\n",
                             m.name.c_str(), dev_name.c_str());
            } else {
                if (devname.empty()) devname = "# Device nodes to trigger on-demand module loading.\n";
                devname += fmt::format("{} {} {}{}:{}\n", m.name, dev_name, dev_type, major, minor);
            }
        }
    }
    std::vector<std::pair<const std::string*, const SymbolOwner*>> sorted;
    for (const auto& [name, owner] : symbols)
        if (owner.owner != nullptr) sorted.emplace_back(&name, &owner);
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return hash_order_less(*a.first, *b.first, 2048); });
    for (const auto& [name, owner] : sorted) {
        symbols_text += "alias symbol:" + *name + " " + owner->owner->name + "\n";
        symbols_bin.insert("symbol:" + *name, owner->owner->name, owner->owner->idx);
    }

    if (options.dry_run) {
        for (const std::string* text : {&dep, &alias, &softdep, &symbols_text, &devname})
            std::fwrite(text->data(), 1, text->size(), out);
        return 0;
    }

    // modules.builtin(.alias).bin from modules.builtin and modules.builtin.modinfo.
    IndexBuilder builtin_bin, builtin_alias_bin;
    bool have_builtin = false, have_builtin_modinfo = false;
    if (std::ifstream builtin(dirname + "/modules.builtin"); builtin) {
        have_builtin = true;
        for (std::string line; std::getline(builtin, line);) {
            if (line.empty() || !std::isalpha(static_cast<unsigned char>(line[0]))) continue;
            builtin_bin.insert(module_name_of_path(line), "", 0);
        }
    } else {
        std::fprintf(err, "depmod: WARNING: could not open modules.builtin at %s: %s\n", dirname.c_str(),
                     std::strerror(errno));
    }
    have_builtin_modinfo =
        for_each_builtin_info(dirname, [&](std::string_view module, std::string_view key, std::string_view value) {
            if (key == "alias" && alias_normalize(value, normal)) builtin_alias_bin.insert(normal, module, 0);
        });
    if (!have_builtin_modinfo) {
        std::fprintf(err, "depmod: WARNING: could not open modules.builtin.modinfo at %s: %s\n", dirname.c_str(),
                     std::strerror(errno));
    }

    bool ok = write_file(dirname, "modules.dep", dep, err) &&
              write_file(dirname, "modules.dep.bin", dep_bin.serialize(), err) &&
              write_file(dirname, "modules.alias", alias, err) &&
              write_file(dirname, "modules.alias.bin", alias_bin.serialize(), err) &&
              write_file(dirname, "modules.softdep", softdep, err) &&
              write_file(dirname, "modules.symbols", symbols_text, err) &&
              write_file(dirname, "modules.symbols.bin", symbols_bin.serialize(), err) &&
              write_file(dirname, "modules.builtin.bin", have_builtin ? builtin_bin.serialize() : "", err) &&
              write_file(dirname, "modules.builtin.alias.bin",
                         have_builtin_modinfo ? builtin_alias_bin.serialize() : "", err) &&
              write_file(dirname, "modules.devname", devname, err);
    return ok ? 0 : 1;
}

}  // namespace umod::index
