// depmod's module reader: each module's exports, imports (with their
// versions), aliases and soft dependencies, read with the ELF layer as
// libkmod reads them. Kernel modules are read on every core.
#include <elf.h>
#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "elf/elf_file.h"
#include "elf/kernel_module.h"
#include "elf/module_file.h"
#include "elf/umod_module.h"
#include "index/depmod_run.h"
#include "support/mapped_file.h"

namespace umod::index::depmod_run {

namespace {

// What a reading thread reuses from module to module.
struct ReadScratch {
    elf::ModuleFileBuffer buffer;
    std::vector<elf::Symbol> symbols;
    std::vector<std::pair<std::string_view, std::uint32_t>> by_name;  // __versions entries: name, index
    std::vector<bool> matched;
};

// The undefined symbols in order, CRCs from __versions (the first entry of
// that name), then the __versions entries nothing matched.
void read_imports(Module& m, const std::vector<elf::Symbol>& symbols, const std::vector<elf::SymbolVersion>& versions,
                  ReadScratch& scratch) {
    auto& by_name = scratch.by_name;
    by_name.clear();
    for (std::uint32_t i = 0; i < versions.size(); ++i) by_name.emplace_back(versions[i].name, i);
    std::sort(by_name.begin(), by_name.end());  // by name, then index: the first entry of a name first
    scratch.matched.assign(versions.size(), false);
    std::size_t undefined = 0, names = 0;
    for (const elf::Symbol& s : symbols)
        if (s.shndx == SHN_UNDEF && !s.name.empty()) ++undefined, names += s.name.size();
    m.imports.reserve(undefined + versions.size());
    m.import_names.reserve(names);
    for (const elf::Symbol& s : symbols) {
        if (s.shndx != SHN_UNDEF || s.name.empty()) continue;
        std::uint32_t crc = 0;
        auto it = std::lower_bound(by_name.begin(), by_name.end(), s.name,
                                   [](const auto& entry, std::string_view name) { return entry.first < name; });
        if (it != by_name.end() && it->first == s.name) {
            crc = static_cast<std::uint32_t>(versions[it->second].crc);
            scratch.matched[it->second] = true;
        }
        m.add_import(s.name, crc, s.bind == STB_WEAK);
    }
    for (std::size_t i = 0; i < versions.size(); ++i)
        if (!scratch.matched[i])
            m.add_import(versions[i].name, static_cast<std::uint32_t>(versions[i].crc), false);
}

// Exports, imports and modinfo of a Linux module, as libkmod-elf reads them;
// 0, or the errno that stopped it.
int read_kernel_module(Module& m, int module_dir, ReadScratch& scratch) {
    // Only the sections read here (and the section tables) of an uncompressed
    // file; one in the module directory opened relative to its descriptor.
    const bool inside = !m.relpath.empty() && module_dir >= 0;
    auto bytes = elf::read_module_file_at(inside ? module_dir : AT_FDCWD, inside ? m.relpath.c_str() : m.path.c_str(),
                                          m.path,
                                          {{".modinfo", ".symtab", ".strtab", "__versions", "__kcrctab",
                                            "__kcrctab_gpl", "__ksymtab_strings"},
                                           0,
                                           false},
                                          scratch.buffer);
    if (!bytes) return bytes.error().code();
    auto elf = elf::ElfFile::parse(*bytes, elf::Machines::Any);  // modules of every architecture
    if (!elf) return ENOEXEC;
    if (const elf::Section* modinfo = elf->section(".modinfo")) {
        if (auto data = elf->contents(*modinfo)) {
            for (auto [key, value] : elf::parse_modinfo(*data)) {
                if (key == "alias") m.aliases.emplace_back(value);
                if (key == "softdep") m.softdeps.emplace_back(value);
            }
        }
    }
    // .symtab decoded once, for the exports (its __crc_ symbols) and the imports.
    std::vector<elf::Symbol>& symbols = scratch.symbols;
    symbols.clear();
    bool symtab_read = true;
    if (const elf::Section* symtab = elf->section(".symtab")) {
        auto decoded = elf->symbols(*symtab);
        if (decoded)
            symbols = std::move(*decoded);
        else
            symtab_read = false;  // no exports; no imports but the __versions entries
    }
    auto exports = elf::module_exports(*elf, symbols);
    if (symtab_read && exports) {
        std::size_t names = 0;
        for (const auto& e : *exports) names += e.name.size();
        m.exports.reserve(exports->size());
        m.export_names.reserve(names);
        for (const auto& e : *exports) m.add_export(e.name, static_cast<std::uint32_t>(e.crc));
    }
    std::vector<elf::SymbolVersion> versions;
    if (auto found = elf::module_versions(*elf)) versions = std::move(*found);
    read_imports(m, symbols, versions, scratch);
    return 0;
}

// Modules read on each of `threads` threads, taking the next unread one.
void read_kernel_modules(const std::vector<Module*>& modules, int module_dir, unsigned threads) {
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        ReadScratch scratch;
        for (std::size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < modules.size();)
            modules[i]->read_error = read_kernel_module(*modules[i], module_dir, scratch);
    };
    std::vector<std::thread> helpers;
    for (unsigned t = 1; t < threads; ++t) helpers.emplace_back(work);
    work();
    for (std::thread& t : helpers) t.join();
}

}  // namespace

// Exports, imports and modinfo of a umod module, from its umod tables. An
// export is indexed under its link name and under the other name the
// registry answers to (C++ qualified name, or the name EXPORT_SYMBOL wrote).
// Imports are its undefined dynamic symbols; those no module exports (libc's)
// add nothing. Its name is MODULE_NAME's when it has one, as the loader's.
bool read_umod_module(Module& m, const Log& log) {
    m.read = true;
    auto failed = [&](const Error& e) {
        log(kError, "failed to load symbols from %s: %s\n", m.path.c_str(), e.message().c_str());
        return false;
    };
    auto file = support::MappedFile::open(m.path);
    if (!file) return failed(file.error());
    auto elf = elf::ElfFile::parse(file->bytes());
    if (!elf) return failed(elf.error());
    auto info = elf::read_umod_module(*elf);
    if (!info) return failed(info.error());
    for (const auto& [key, value] : info->modinfo) {
        if (key == "alias") m.aliases.push_back(value);
        if (key == "softdep") m.softdeps.push_back(value);
        if (key == "name") m.name = value;
    }
    for (const elf::UmodExport& e : info->exports) {
        m.add_export(e.link_name, 0);
        if (std::string other = elf::second_name(e); !other.empty()) m.add_export(other, 0);
    }
    for (const std::string& u : info->undefined)
        if (!u.starts_with("__umod_")) m.add_import(u, 0, false);
    return true;
}

void read_modules(Run& run) {
    if (!run.kernel) {
        for (Module* m : run.modules)
            if (!m->read) read_umod_module(*m, run.log);
        return;
    }
    // Small trees are not worth a thread.
    unsigned threads = run.modules.size() < 64 ? 1u : std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
    read_kernel_modules(run.modules, run.dir.fd(), threads);
    for (const Module* m : run.modules)
        if (m->read_error != 0)
            run.log(kError, "failed to load symbols from %s: %s\n", m->path.c_str(), std::strerror(m->read_error));
}

}  // namespace umod::index::depmod_run
