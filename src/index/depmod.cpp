// depmod as kmod 30 does it (see shared/reference/kmod-formats.md §5): read
// the configuration, find the modules (keeping one copy of each name), order
// them (hash order, then modules.order), read their exports and imports with
// the ELF layer, resolve dependencies, sort them topologically, and write
// every file through a temporary name.
#include "index/depmod.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "elf/decompress.h"
#include "elf/elf_file.h"
#include "elf/module_name.h"
#include "elf/kernel_module.h"
#include "elf/read_parts.h"
#include "support/mapped_file.h"
#include "elf/umod_module.h"
#include "index/depmod_config.h"
#include "index/index_file.h"
#include "index/kmod_hash.h"
#include "index/modprobe.h"

namespace umod::index {

void describe_error(const DependencyCycles& cycles, std::string& out) {
    out += fmt::format("Found {} modules in dependency cycles!", cycles.modules);
}

namespace {

// kmod's log priorities (syslog's) and its tool log, "depmod: WARNING: ...".
enum Priority { kFatal = 2, kError = 3, kWarning = 4, kNotice = 5, kInfo = 6 };

class Log {
public:
    Log(std::FILE* file, int verbosity) : file_(file), verbosity_(verbosity) {}
    int verbosity() const { return verbosity_; }
    [[gnu::format(printf, 3, 4)]] void operator()(Priority priority, const char* format, ...) const {
        if (priority > verbosity_ || file_ == nullptr) return;
        static constexpr const char* kNames[] = {"", "", "FATAL", "ERROR", "WARNING", "NOTICE", "INFO"};
        std::fprintf(file_, "depmod: %s: ", kNames[priority]);
        va_list args;
        va_start(args, format);
        std::vfprintf(file_, format, args);
        va_end(args);
    }

private:
    std::FILE* file_;
    int verbosity_;
};

Error fatal(int code, std::string message) { return Error(code, std::move(message)); }

struct Module {
    std::string name;
    std::string path;     // absolute
    std::string relpath;  // relative to the module directory; empty outside it
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
    bool read = false;  // exports, imports and modinfo are filled in

    // The name modules.dep gives it: relative inside the module directory.
    const std::string& listed_path() const { return relpath.empty() ? path : relpath; }
};

struct SymbolOwner {
    Module* owner;  // nullptr: the kernel itself
    std::uint32_t crc;
};

bool is_module_file(std::string_view name, ModuleFormat format) {
    if (format == ModuleFormat::Umod) return name.size() > 3 && name.ends_with(".so");
    return name.ends_with(".ko") || name.ends_with(".ko.xz") || name.ends_with(".ko.zst");
}

// The loader's name for a umod module file: the one rule (elf/module_name.h).
std::string umod_module_name(std::string_view path) { return elf::module_name_of_file(path); }

// Exports, imports and modinfo of a Linux module, as libkmod-elf reads them.
bool read_kernel_module(Module& m, support::ReadBuffer& buffer, const Log& log) {
    std::vector<std::byte> unpacked;
    std::span<const std::byte> bytes;
    auto failed = [&](int code) {
        log(kError, "failed to load symbols from %s: %s\n", m.path.c_str(), std::strerror(code));
        return false;
    };
    auto compression = elf::compression_of(m.path);
    if (compression == elf::Compression::None) {
        // Only the sections read below (and the section tables).
        auto parts = elf::read_elf_parts(m.path, buffer,
                                         {".modinfo", ".symtab", ".strtab", "__versions", "__kcrctab",
                                          "__kcrctab_gpl", "__ksymtab_strings"},
                                         0);
        if (!parts) return failed(parts.error().code());
        bytes = *parts;
    } else {
        auto file = support::MappedFile::open(m.path);
        if (!file) return failed(file.error().code());
        auto d = elf::decompress(file->bytes(), compression);
        if (!d) return failed(d.error().code());
        unpacked = std::move(*d);
        bytes = unpacked;
    }
    auto elf = elf::ElfFile::parse(bytes, elf::Machines::Any);  // modules of every architecture
    if (!elf) return failed(ENOEXEC);
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
    // Exports and the versions of imports, as libkmod reads them.
    if (auto exports = elf::module_exports(*elf))
        for (const auto& e : *exports) m.exports.emplace_back(std::string(e.name), static_cast<std::uint32_t>(e.crc));
    // Imports: undefined symbols in order, CRCs from __versions, then the
    // __versions entries nothing matched.
    std::vector<std::pair<std::string_view, std::uint32_t>> versions;
    if (auto found = elf::module_versions(*elf))
        for (const auto& v : *found) versions.emplace_back(v.name, static_cast<std::uint32_t>(v.crc));
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
        m.exports.emplace_back(e.link_name, 0);
        if (std::string other = elf::second_name(e); !other.empty()) m.exports.emplace_back(std::move(other), 0);
    }
    for (const std::string& u : info->undefined)
        if (!u.starts_with("__umod_")) m.imports.push_back({u, 0, false});
    return true;
}

// The recursive walk kmod does: readdir order; ".", "..", build, source and
// the `exclude` names skipped; one copy of each module name, chosen by the
// configuration.
class ModuleWalk {
public:
    ModuleWalk(const DepmodConfig& config, const std::string& dirname, ModuleFormat format, const Log& log,
               std::vector<std::unique_ptr<Module>>& found)
        : config_(config), dirname_(dirname), format_(format), log_(log), found_(found) {}

    // ENOENT... if `root` cannot be opened (reported).
    Status walk(const std::string& root) {
        DIR* dir = opendir(root.c_str());
        if (dir == nullptr) {
            int code = errno;
            log_(kError, "could not open directory %s: %s\n", root.c_str(), std::strerror(code));
            return Error(code, std::strerror(code));
        }
        std::string path = root + "/";
        walk_dir(dir, path);
        closedir(dir);
        return {};
    }

private:
    bool excluded(std::string_view name) const {
        if (name == "." || name == ".." || name == "build" || name == "source") return true;
        return std::find(config_.excludes.begin(), config_.excludes.end(), name) != config_.excludes.end();
    }

    void walk_dir(DIR* dir, std::string& path) {
        std::size_t base = path.size();
        int dfd = dirfd(dir);
        while (dirent* entry = readdir(dir)) {
            std::string_view name = entry->d_name;
            if (excluded(name)) continue;
            path.resize(base);
            path += name;
            bool is_dir;
            if (entry->d_type == DT_REG) {
                is_dir = false;
            } else if (entry->d_type == DT_DIR) {
                is_dir = true;
            } else {
                struct stat st {};
                if (fstatat(dfd, entry->d_name, &st, 0) < 0) {
                    log_(kError, "fstatat(%d, %s): %s\n", dfd, entry->d_name, std::strerror(errno));
                    continue;
                }
                if (S_ISREG(st.st_mode)) {
                    is_dir = false;
                } else if (S_ISDIR(st.st_mode)) {
                    is_dir = true;
                } else {
                    log_(kError, "unsupported file type %s: %o\n", path.c_str(),
                         static_cast<unsigned>(st.st_mode & S_IFMT));
                    continue;
                }
            }
            if (is_dir) {
                int fd = openat(dfd, entry->d_name, O_RDONLY);
                if (fd < 0) {
                    log_(kError, "openat(%d, %s, O_RDONLY): %s\n", dfd, entry->d_name, std::strerror(errno));
                    continue;
                }
                DIR* sub = fdopendir(fd);
                if (sub == nullptr) {
                    log_(kError, "fdopendir(%d): %s\n", fd, std::strerror(errno));
                    close(fd);
                    continue;
                }
                path += '/';
                walk_dir(sub, path);
                closedir(sub);
            } else if (is_module_file(name, format_)) {
                add_file(path);
            }
        }
        path.resize(base);
    }

    void add_file(const std::string& path) {
        auto m = std::make_unique<Module>();
        m->path = path;
        if (path.size() > dirname_.size() && path.starts_with(dirname_) && path[dirname_.size()] == '/')
            m->relpath = path.substr(dirname_.size() + 1);
        if (format_ == ModuleFormat::Umod) {
            m->name = umod_module_name(path);
            read_umod_module(*m, log_);  // MODULE_NAME may rename it
        } else {
            m->name = module_name_of_path(path);
        }
        auto it = by_name_.find(m->name);
        if (it == by_name_.end()) {
            by_name_.emplace(m->name, found_.size());
            found_.push_back(std::move(m));
            return;
        }
        std::unique_ptr<Module>& existing = found_[it->second];
        if (keep_existing_module(config_, dirname_, existing->path, path)) return;
        existing = std::move(m);
    }

    const DepmodConfig& config_;
    const std::string& dirname_;
    ModuleFormat format_;
    const Log& log_;
    std::vector<std::unique_ptr<Module>>& found_;
    std::unordered_map<std::string, std::size_t> by_name_;
};

// Module files named on the command line, as kmod adds them: absolute paths,
// files that exist, one per name. A failure is kmod's FATAL message.
Status add_named_modules(const DepmodOptions& options, const std::string& dirname,
                         std::vector<std::unique_ptr<Module>>& found, const Log& log) {
    std::unordered_map<std::string, Module*> by_name;
    for (const std::string& path : options.module_files) {
        if (!path.starts_with('/')) return fatal(EINVAL, fmt::format("{}: not absolute path.", path));
        struct stat st {};
        if (stat(path.c_str(), &st) != 0) {
            int code = errno;
            return fatal(code, fmt::format("could not create module {}: {}", path, std::strerror(code)));
        }
        auto m = std::make_unique<Module>();
        m->path = path;
        if (path.size() > dirname.size() && path.starts_with(dirname) && path[dirname.size()] == '/')
            m->relpath = path.substr(dirname.size() + 1);
        if (options.format == ModuleFormat::Umod) {
            m->name = umod_module_name(path);
            read_umod_module(*m, log);
        } else {
            m->name = module_name_of_path(path);
        }
        if (auto it = by_name.find(m->name); it != by_name.end()) {
            if (it->second->path != path) {
                // libkmod's own message, then depmod's.
                log(kError,
                    "../libkmod/libkmod-module.c:428 kmod_module_new_from_path() kmod_module '%s' already exists "
                    "with different path: new-path='%s' old-path='%s'\n",
                    m->name.c_str(), path.c_str(), it->second->path.c_str());
                return fatal(EEXIST, fmt::format("could not create module {}: {}", path, std::strerror(EEXIST)));
            }
            log(kError, "hash_add_unique %s: %s\n", m->name.c_str(), std::strerror(EEXIST));
            return fatal(EEXIST, fmt::format("could not add module {}: {}", path, std::strerror(EEXIST)));
        }
        by_name.emplace(m->name, m.get());
        found.push_back(std::move(m));
    }
    return {};
}

// The kernel's own exports: Module.symvers's vmlinux lines (-E) or
// System.map's __ksymtab_ entries (-F), then the names the kernel loader
// provides itself. ENOENT... if the file cannot be read.
Status load_kernel_symbols(const DepmodOptions& options, const std::string& dirname,
                           std::unordered_map<std::string, SymbolOwner>& symbols, const Log& log) {
    const std::string& file = options.symvers.empty() ? options.system_map : options.symvers;
    std::FILE* in = std::fopen(file.c_str(), "r");
    if (in == nullptr) {
        int code = errno;
        return fatal(code, fmt::format("could not load {}: {}", file, std::strerror(code)));
    }
    auto add = [&](std::string_view name, bool prefix_skipped, std::uint32_t crc) {
        if (!prefix_skipped && !name.empty() && name[0] == options.symbol_prefix) name.remove_prefix(1);
        symbols[std::string(name)] = {nullptr, crc};
    };
    // kmod words a bad CRC with %m, the errno left by the last failed call:
    // libkmod's open of modules.softdep, or strtoull's own.
    int last_errno = 0;
    const std::string softdep = dirname + "/modules.softdep";
    if (int fd = open(softdep.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0)
        close(fd);
    else
        last_errno = errno;
    char buffer[10240];
    unsigned line_number = 0;
    while (std::fgets(buffer, sizeof buffer, in) != nullptr) {
        ++line_number;
        std::string_view line = buffer;
        if (!options.symvers.empty()) {
            // "0xCRC\tname\tvmlinux\t...", fields split on blanks and tabs only.
            std::string_view fields[3];
            std::size_t pos = 0;
            int n = 0;
            for (; n < 3; ++n) {
                pos = line.find_first_not_of(" \t", pos);
                if (pos == std::string_view::npos) break;
                std::size_t end = std::min(line.find_first_of(" \t", pos), line.size());
                fields[n] = line.substr(pos, end - pos);
                pos = end;
            }
            if (n < 3 || fields[2] != "vmlinux") continue;
            std::string version(fields[0]);
            char* end = nullptr;
            errno = 0;
            unsigned long long crc = std::strtoull(version.c_str(), &end, 16);
            if (errno != 0) last_errno = errno;
            if (*end != '\0') {
                log(kError, "%s:%u Invalid symbol version %s: %s\n", file.c_str(), line_number, version.c_str(),
                    std::strerror(last_errno));
                continue;
            }
            add(fields[1], false, static_cast<std::uint32_t>(crc));
        } else {
            // "ADDRESS TYPE NAME": the third field, from the second blank on.
            std::size_t first = line.find(' ');
            std::size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
            if (second == std::string_view::npos) {
                log(kError, "%s:%u: invalid line: %s\n", file.c_str(), line_number, buffer);
                continue;
            }
            std::string_view name = line.substr(second + 1);
            if (!name.empty() && name[0] == options.symbol_prefix) name.remove_prefix(1);
            if (!name.starts_with("__ksymtab_")) continue;
            name.remove_prefix(10);
            if (auto nl = name.find('\n'); nl != std::string_view::npos) name = name.substr(0, nl);
            add(name, true, 0);
        }
    }
    std::fclose(in);
    add("__this_module", true, 0);
    add("_GLOBAL_OFFSET_TABLE_", true, 0);
    if (!symbols.contains("TOC.")) add("TOC.", true, 0);
    return {};
}

// Writes `content` to `name` in the directory open as `dfd` (named `dir` in
// messages) through a temporary file there, renamed into place: readers see
// the old file or the new one, never a part, and every access is relative to
// the directory opened once, as kmod's depmod does.
Status write_file(int dfd, const std::string& dir, const std::string& name, const std::string& content) {
    std::string tmp = fmt::format("{}.{}.tmp", name, getpid());
    int fd = ::openat(dfd, tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) {
        int code = errno;
        return fatal(code, fmt::format("could not write index '{}': {}", name, std::strerror(code)));
    }
    int code = 0;
    for (std::size_t done = 0; done < content.size() && code == 0;) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) code = n < 0 ? errno : EIO;
        else done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0 && code == 0) code = errno;
    if (code != 0) {
        ::unlinkat(dfd, tmp.c_str(), 0);
        return fatal(code, fmt::format("could not write index '{}': {}", name, std::strerror(code)));
    }
    if (::renameat(dfd, tmp.c_str(), dfd, name.c_str()) != 0) {
        code = errno;
        ::unlinkat(dfd, tmp.c_str(), 0);
        return fatal(code, fmt::format("renameat({}, {}, {}, {}): {}", dir, tmp, dir, name, std::strerror(code)));
    }
    return {};
}

// Modules left unsorted are in cycles or are needed by one. As kmod 30 does:
// from each unsorted module (array order) not yet part of a reported cycle,
// walk its dependencies depth first, last dependency first, and report every
// path that comes back to it. kmod keeps its visited marks from walk to walk:
// a module it then starts from that an earlier walk went through (and that
// has dependencies) is reported as a cycle of its own name alone, counting no
// module — its quirk, kept so the output is the same. (Where kmod's walk
// never ends, on a cycle that does not pass through the module it started
// from, this one skips what is already on its path.)
DependencyCycles find_cycles(std::vector<Module*>& modules, const std::vector<int>& users) {
    DependencyCycles result;
    std::vector<char> in_cycle(modules.size(), 0), visited(modules.size(), 0);
    std::vector<Module*> path;
    std::vector<char> on_path(modules.size(), 0);
    Module* start = nullptr;
    std::function<void(Module*)> walk = [&](Module* m) {
        path.push_back(m);
        on_path[m->idx] = 1;
        visited[m->idx] = 1;
        for (auto it = m->deps.rbegin(); it != m->deps.rend(); ++it) {
            Module* d = *it;
            if (users[d->idx] == 0) continue;  // sorted: in no cycle
            if (d == start) {
                std::vector<std::string> cycle;
                for (Module* p : path) {
                    cycle.push_back(p->name);
                    in_cycle[p->idx] = 1;
                }
                cycle.push_back(d->name);
                result.cycles.push_back(std::move(cycle));
            } else if (!on_path[d->idx]) {
                walk(d);
            }
        }
        on_path[m->idx] = 0;
        path.pop_back();
    };
    for (Module* m : modules) {
        if (users[m->idx] == 0 || in_cycle[m->idx]) continue;
        if (visited[m->idx]) {
            if (!m->deps.empty()) result.cycles.push_back({m->name});
            continue;
        }
        start = m;
        walk(m);
    }
    result.modules = static_cast<std::size_t>(std::count(in_cycle.begin(), in_cycle.end(), 1));
    return result;
}

// -A's walk: false as soon as a module file is newer than `mtime`. kmod's
// messages, including its path buffer (an entry that is neither a directory
// nor a regular file is reported under the last path written to it).
bool up_to_date_dir(DIR* dir, time_t mtime, std::string& path, std::size_t base, ModuleFormat format,
                    const Log& log) {
    int dfd = dirfd(dir);
    while (dirent* entry = readdir(dir)) {
        std::string_view name = entry->d_name;
        if (name == "." || name == ".." || name == "build" || name == "source") continue;
        struct stat st {};
        if (fstatat(dfd, entry->d_name, &st, 0) < 0) {
            log(kError, "fstatat(%d, %s): %s\n", dfd, entry->d_name, std::strerror(errno));
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            path.resize(base);
            path += name;
            int fd = openat(dfd, entry->d_name, O_RDONLY);
            if (fd < 0) {
                log(kError, "openat(%d, %s, O_RDONLY): %s\n", dfd, entry->d_name, std::strerror(errno));
                continue;
            }
            DIR* sub = fdopendir(fd);
            if (sub == nullptr) {
                log(kError, "fdopendir(%d): %s\n", fd, std::strerror(errno));
                close(fd);
                continue;
            }
            path += '/';
            bool fresh = up_to_date_dir(sub, mtime, path, path.size(), format, log);
            closedir(sub);
            if (!fresh) return false;
        } else if (S_ISREG(st.st_mode)) {
            if (!is_module_file(name, format)) continue;
            path.resize(base);
            path += name;
            if (st.st_mtime > mtime) return false;
        } else {
            log(kError, "unsupported file type %s: %o\n", path.c_str(), static_cast<unsigned>(st.st_mode & S_IFMT));
        }
    }
    return true;
}

Expected<bool> up_to_date(const std::string& dirname, ModuleFormat format, const Log& log) {
    DIR* dir = opendir(dirname.c_str());
    if (dir == nullptr) {
        int code = errno;
        log(kError, "could not open directory %s: %s\n", dirname.c_str(), std::strerror(code));
        return Error(code, fmt::format("could not open directory {}: {}", dirname, std::strerror(code)));
    }
    struct stat st {};
    if (fstatat(dirfd(dir), "modules.dep", &st, 0) != 0) {
        int code = errno;
        log(kError, "could not fstatat(%s, modules.dep): %s\n", dirname.c_str(), std::strerror(code));
        closedir(dir);
        return Error(code, fmt::format("could not fstatat({}, modules.dep): {}", dirname, std::strerror(code)));
    }
    std::string path = dirname + "/";
    bool fresh = up_to_date_dir(dir, st.st_mtime, path, path.size(), format, log);
    closedir(dir);
    return fresh;
}

}  // namespace

Expected<bool> index_up_to_date(const std::string& dirname, ModuleFormat format, std::FILE* log) {
    return up_to_date(dirname, format, Log(log, kWarning));
}

Status depmod(const DepmodOptions& options, std::FILE* out, std::FILE* err) {
    const Log log(err, kWarning + options.verbose);
    const bool kernel = options.format == ModuleFormat::Kernel;
    std::string base = options.basedir.empty() ? "" : std::filesystem::absolute(options.basedir).string();
    std::string dirname = base + "/lib/modules/" + options.kernel_version;

    bool all = options.module_files.empty();
    if (options.quick) {
        if (options.dry_run) return {};
        if (auto fresh = up_to_date(dirname, options.format, log); fresh && *fresh) return {};
        all = true;
    }

    // The symbol table: the kernel's (from -E or -F), then module exports
    // (later wins).
    std::unordered_map<std::string, SymbolOwner> symbols;
    bool kernel_symbols = !options.symvers.empty() || !options.system_map.empty();
    if (kernel_symbols) {
        if (auto loaded = load_kernel_symbols(options, dirname, symbols, log); !loaded) return loaded.error();
    } else if (options.show_unknown) {
        log(kWarning, "-e needs -E or -F\n");
    }
    const bool print_unknown = options.show_unknown && kernel_symbols && kernel;
    const bool check_versions = print_unknown && !options.symvers.empty();

    std::vector<std::unique_ptr<Module>> found;
    if (all) {
        DepmodConfig config = read_depmod_config(options.config_paths, options.kernel_version, log.verbosity(), err);
        ModuleWalk walk(config, dirname, options.format, log, found);
        if (auto searched = walk.walk(dirname); !searched)
            return fatal(searched.error().code(), fmt::format("could not search modules: {}", searched.error().message()));
        for (auto ext = config.externals.rbegin(); ext != config.externals.rend(); ++ext)
            (void)walk.walk(*ext);  // a missing external directory is reported and skipped
    } else if (auto added = add_named_modules(options, dirname, found, log); !added) {
        return added.error();
    }

    // Order: kmod's hash iteration order, then modules.order (stable).
    std::vector<Module*> modules;
    modules.reserve(found.size());
    for (auto& m : found) modules.push_back(m.get());
    std::sort(modules.begin(), modules.end(),
              [](const Module* a, const Module* b) { return hash_order_less(a->name, b->name, 512); });
    {
        std::ifstream order(dirname + "/modules.order");
        if (!order) {
            if (kernel)
                log(kWarning, "could not open modules.order at %s: %s\n", dirname.c_str(), std::strerror(errno));
        } else {
            std::vector<std::string> lines;
            for (std::string line; std::getline(order, line);) lines.push_back(line);
            int total = static_cast<int>(lines.size()) + 1;
            std::unordered_map<std::string, Module*> by_relpath;
            for (Module* m : modules) {
                if (m->relpath.empty()) continue;
                std::string rel = m->relpath;
                if (auto ko = rel.find(".ko"); kernel && ko != std::string::npos) rel.resize(ko + 3);
                by_relpath[rel] = m;
            }
            for (int i = 0; i < static_cast<int>(lines.size()); ++i)
                if (auto it = by_relpath.find(lines[static_cast<std::size_t>(i)]); it != by_relpath.end())
                    it->second->sort_idx = (i + 1) - total;
        }
    }
    std::stable_sort(modules.begin(), modules.end(),
                     [](const Module* a, const Module* b) { return a->sort_idx < b->sort_idx; });
    for (std::uint32_t i = 0; i < modules.size(); ++i) modules[i]->idx = i;

    support::ReadBuffer buffer;
    for (Module* m : modules) {
        if (kernel)
            read_kernel_module(*m, buffer, log);
        else if (!m->read)
            read_umod_module(*m, log);
    }

    auto strip_prefix = [&](std::string_view name) {
        if (!name.empty() && name[0] == options.symbol_prefix) name.remove_prefix(1);
        return name;
    };
    for (Module* m : modules)
        for (const auto& [name, crc] : m->exports) symbols[std::string(strip_prefix(name))] = {m, crc};

    std::string lookup;
    for (Module* m : modules) {
        for (const Module::Import& imp : m->imports) {
            std::string_view name = imp.name;
            if (!name.empty() && name[0] == '.') name.remove_prefix(1);
            name = strip_prefix(name);
            lookup.assign(name);
            auto it = symbols.find(lookup);
            if (it == symbols.end()) {
                if (print_unknown && !imp.weak)
                    log(kWarning, "%s needs unknown symbol %s\n", m->path.c_str(), imp.name.c_str());
                continue;
            }
            if (check_versions && !imp.weak && imp.crc != it->second.crc)
                log(kWarning, "%s disagrees about version of symbol %s\n", m->path.c_str(), imp.name.c_str());
            Module* owner = it->second.owner;
            if (owner == nullptr) continue;
            if (std::find(m->deps.begin(), m->deps.end(), owner) == m->deps.end()) {
                m->deps.push_back(owner);
                ++owner->users;
                if (options.verbose > 0) {
                    std::fprintf(out, "%s needs \"%s\": %s\n", m->path.c_str(), it->first.c_str(), owner->path.c_str());
                    std::fflush(out);
                }
            }
        }
    }

    // Topological order: Kahn's algorithm with a LIFO stack.
    std::vector<Module*> stack;
    std::vector<int> users(modules.size());
    for (Module* m : modules) {
        users[m->idx] = m->users;
        if (m->users == 0) stack.push_back(m);
    }
    std::uint32_t n = 0;
    while (!stack.empty()) {
        Module* m = stack.back();
        stack.pop_back();
        m->dep_sort_idx = n++;
        for (Module* dep : m->deps)
            if (--users[dep->idx] == 0) stack.push_back(dep);
    }
    if (n < modules.size()) return Error::with(ELOOP, find_cycles(modules, users));  // nothing is written

    // The text files.
    std::string dep, alias = "# Aliases extracted from modules themselves.\n",
                     softdep = "# Soft dependencies extracted from modules themselves.\n",
                     symbols_text = "# Aliases for symbols, used by symbol_request().\n", devname;
    std::vector<std::pair<std::string, std::string>> devname_errors;  // reported last, as kmod writes devname last
    IndexBuilder dep_bin, alias_bin, symbols_bin;
    std::string normal;
    std::vector<Module*> closure;
    std::set<Module*> seen;
    std::set<std::pair<std::string, std::string>> alias_values;  // -w: (key, module) pairs indexed
    for (Module* m : modules) {
        closure.clear();
        seen.clear();
        std::function<void(Module*)> visit = [&](Module* d) {
            if (!seen.insert(d).second) return;
            closure.push_back(d);
            for (Module* dd : d->deps) visit(dd);
        };
        for (Module* d : m->deps) visit(d);
        std::sort(closure.begin(), closure.end(),
                  [](const Module* a, const Module* b) { return a->dep_sort_idx < b->dep_sort_idx; });
        std::string line = m->listed_path() + ":";
        for (Module* d : closure) line += " " + d->listed_path();
        dep += line + "\n";
        dep_bin.insert(m->name, line, m->idx);
        for (const std::string& a : m->aliases) {
            alias += "alias " + a + " " + m->name + "\n";
            if (options.dry_run) continue;  // no .bin files: kmod does not check them either
            if (alias_normalize(a, normal)) {
                alias_bin.insert(normal, m->name, m->idx);
                if (options.warn_duplicates && !alias_values.emplace(normal, m->name).second)
                    log(kWarning, "duplicate module alias:\n%s %s\n", normal.c_str(), m->name.c_str());
            } else
                log(kWarning, "Unmatched bracket in %s\n", a.c_str());
        }
        for (const std::string& s : m->softdeps) softdep += "softdep " + m->name + " " + s + "\n";
        std::string dev_name;
        char dev_type = 0;
        unsigned major = 0, minor = 0;
        for (const std::string& a : m->aliases) {
            unsigned maj = 0, min = 0;
            if (a.starts_with("devname:")) {
                dev_name = a.substr(8);
            } else if (std::sscanf(a.c_str(), "char-major-%u-%u", &maj, &min) == 2) {
                dev_type = 'c', major = maj, minor = min;
            } else if (std::sscanf(a.c_str(), "block-major-%u-%u", &maj, &min) == 2) {
                dev_type = 'b', major = maj, minor = min;
            }
            if (!dev_name.empty() && dev_type != 0) break;
        }
        if (!dev_name.empty()) {
            if (dev_type == 0) {
                devname_errors.emplace_back(m->name, dev_name);
            } else {
                if (devname.empty()) devname = "# Device nodes to trigger on-demand module loading.\n";
                devname += fmt::format("{} {} {}{}:{}\n", m->name, dev_name, dev_type, major, minor);
            }
        }
    }
    auto report_devname_errors = [&] {
        for (const auto& [module, name] : devname_errors)
            log(kError, "Module '%s' has devname (%s) but lacks major and minor information. Ignoring.\n",
                module.c_str(), name.c_str());
    };
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
        report_devname_errors();
        return {};
    }

    // modules.builtin(.alias).bin from modules.builtin and modules.builtin.modinfo.
    IndexBuilder builtin_bin, builtin_alias_bin;
    bool have_builtin = false, have_builtin_modinfo = false;
    if (std::FILE* builtin = std::fopen((dirname + "/modules.builtin").c_str(), "r")) {
        have_builtin = true;
        char line[4096];
        while (std::fgets(line, sizeof line, builtin) != nullptr) {
            if (!std::isalpha(static_cast<unsigned char>(line[0]))) {
                log(kError, "Invalid modules.builtin line: %s\n", line);
                continue;
            }
            std::string_view text = line;
            if (text.ends_with('\n')) text.remove_suffix(1);
            builtin_bin.insert(module_name_of_path(text), "", 0);
        }
        std::fclose(builtin);
    } else if (kernel) {
        log(kWarning, "could not open modules.builtin at %s: %s\n", dirname.c_str(), std::strerror(errno));
    }
    have_builtin_modinfo =
        for_each_builtin_info(dirname, [&](std::string_view module, std::string_view key, std::string_view value) {
            if (key != "alias") return;
            if (alias_normalize(value, normal))
                builtin_alias_bin.insert(normal, module, 0);
            else
                log(kWarning, "Unmatched bracket in %.*s\n", static_cast<int>(value.size()), value.data());
        });
    if (!have_builtin_modinfo && kernel)
        log(kWarning, "could not open modules.builtin.modinfo at %s: %s\n", dirname.c_str(), std::strerror(errno));
    report_devname_errors();

    const std::pair<const char*, std::string> files[] = {
        {"modules.dep", std::move(dep)},
        {"modules.dep.bin", dep_bin.serialize()},
        {"modules.alias", std::move(alias)},
        {"modules.alias.bin", alias_bin.serialize()},
        {"modules.softdep", std::move(softdep)},
        {"modules.symbols", std::move(symbols_text)},
        {"modules.symbols.bin", symbols_bin.serialize()},
        {"modules.builtin.bin", have_builtin ? builtin_bin.serialize() : ""},
        {"modules.builtin.alias.bin", have_builtin_modinfo ? builtin_alias_bin.serialize() : ""},
        {"modules.devname", std::move(devname)},
    };
    int dfd = ::open(dirname.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        int code = errno;
        return fatal(code, fmt::format("could not open directory {}: {}", dirname, std::strerror(code)));
    }
    Status written;
    for (const auto& [name, content] : files)
        if (written = write_file(dfd, dirname, name, content); !written) break;
    ::close(dfd);
    return written;
}

}  // namespace umod::index
