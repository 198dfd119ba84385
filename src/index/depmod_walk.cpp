// depmod's walk: the module directory (and depmod.d's external ones) read
// recursively as kmod does, one copy of each module name kept; or the module
// files named on the command line. Then kmod's order, and -A's test.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "index/config_files.h"
#include "index/depmod_config.h"
#include "index/depmod_run.h"
#include "index/kmod_hash.h"
#include "index/modprobe.h"

namespace umod::index::depmod_run {

ModuleDir::ModuleDir(std::string dirname) : name_(std::move(dirname)) {
    stream_ = opendir(name_.c_str());
    if (stream_ == nullptr)
        error_ = errno;
    else
        fd_ = dirfd(stream_);
}

ModuleDir::~ModuleDir() {
    if (stream_ != nullptr) closedir(stream_);
}

DIR* ModuleDir::rewound() const {
    if (stream_ == nullptr) {
        errno = error_;
        return nullptr;
    }
    rewinddir(stream_);
    return stream_;
}

int ModuleDir::open_file(const char* file) const {
    if (fd_ < 0) {
        errno = error_;
        return -1;
    }
    return ::openat(fd_, file, O_RDONLY | O_CLOEXEC);
}

bool ModuleDir::read_file(const char* file, std::string& out) const {
    if (fd_ < 0) {
        errno = error_;
        return false;
    }
    return read_text_at(fd_, file, out);
}

bool is_module_file(std::string_view name, ModuleFormat format) {
    if (format == ModuleFormat::Umod) return name.size() > 3 && name.ends_with(".so");
    return name.ends_with(".ko") || name.ends_with(".ko.xz") || name.ends_with(".ko.zst");
}

namespace {

// The subdirectory `name` of `dir` as a stream; nullptr (reported as kmod does).
DIR* open_subdir(DIR* dir, const char* name, const Log& log) {
    int dfd = dirfd(dir);
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        log(kError, "openat(%d, %s, O_RDONLY): %s\n", dfd, name, std::strerror(errno));
        return nullptr;
    }
    DIR* sub = fdopendir(fd);
    if (sub == nullptr) {
        log(kError, "fdopendir(%d): %s\n", fd, std::strerror(errno));
        close(fd);
    }
    return sub;
}

bool always_skipped(std::string_view name) {
    return name == "." || name == ".." || name == "build" || name == "source";
}

// The recursive walk kmod does: readdir order; ".", "..", build, source and
// the `exclude` names skipped; one copy of each module name, chosen by the
// configuration.
class ModuleWalk {
public:
    ModuleWalk(const DepmodConfig& config, Run& run) : config_(config), run_(run) {}

    // ENOENT... if the directory cannot be opened (reported). `open`: the
    // directory when already open (it stays open), else nullptr and `root` is opened.
    Status walk(const std::string& root, DIR* open = nullptr) {
        DIR* dir = open != nullptr ? open : opendir(root.c_str());
        if (dir == nullptr) {
            int code = errno;
            run_.log(kError, "could not open directory %s: %s\n", root.c_str(), std::strerror(code));
            return Error(code, std::strerror(code));
        }
        std::string path = root + "/";
        walk_dir(dir, path);
        if (open == nullptr) closedir(dir);
        return {};
    }

private:
    bool excluded(std::string_view name) const {
        return always_skipped(name) ||
               std::find(config_.excludes.begin(), config_.excludes.end(), name) != config_.excludes.end();
    }

    // Directory (1), regular file (0), or neither/unknown (-1, reported).
    int kind_of(DIR* dir, const dirent* entry, const std::string& path) const {
        if (entry->d_type == DT_REG) return 0;
        if (entry->d_type == DT_DIR) return 1;
        struct stat st {};
        if (fstatat(dirfd(dir), entry->d_name, &st, 0) < 0) {
            run_.log(kError, "fstatat(%d, %s): %s\n", dirfd(dir), entry->d_name, std::strerror(errno));
            return -1;
        }
        if (S_ISREG(st.st_mode)) return 0;
        if (S_ISDIR(st.st_mode)) return 1;
        run_.log(kError, "unsupported file type %s: %o\n", path.c_str(), static_cast<unsigned>(st.st_mode & S_IFMT));
        return -1;
    }

    void walk_dir(DIR* dir, std::string& path) {
        std::size_t base = path.size();
        while (dirent* entry = readdir(dir)) {
            std::string_view name = entry->d_name;
            if (excluded(name)) continue;
            path.resize(base);
            path += name;
            int kind = kind_of(dir, entry, path);
            if (kind == 1) {
                DIR* sub = open_subdir(dir, entry->d_name, run_.log);
                if (sub == nullptr) continue;
                path += '/';
                walk_dir(sub, path);
                closedir(sub);
            } else if (kind == 0 && is_module_file(name, run_.options.format)) {
                add_file(path);
            }
        }
        path.resize(base);
    }

    void add_file(const std::string& path) {
        const std::string& dirname = run_.dir.name();
        auto m = std::make_unique<Module>();
        m->path = path;
        if (path.size() > dirname.size() && path.starts_with(dirname) && path[dirname.size()] == '/')
            m->relpath = path.substr(dirname.size() + 1);
        if (run_.options.format == ModuleFormat::Umod) {
            m->name = umod_module_name(path);
            read_umod_module(*m, run_.log);  // MODULE_NAME may rename it
        } else {
            m->name = module_name_of_path(path);
        }
        auto it = by_name_.find(m->name);
        if (it == by_name_.end()) {
            by_name_.emplace(m->name, run_.found.size());
            run_.found.push_back(std::move(m));
            return;
        }
        std::unique_ptr<Module>& existing = run_.found[it->second];
        if (keep_existing_module(config_, dirname, existing->path, path)) return;
        existing = std::move(m);
    }

    const DepmodConfig& config_;
    Run& run_;
    std::unordered_map<std::string, std::size_t> by_name_;
};

// Module files named on the command line, as kmod adds them: absolute paths,
// files that exist, one per name. A failure is kmod's FATAL message.
Status add_named_modules(Run& run) {
    const std::string& dirname = run.dir.name();
    std::unordered_map<std::string, Module*> by_name;
    for (const std::string& path : run.options.module_files) {
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
        if (run.options.format == ModuleFormat::Umod) {
            m->name = umod_module_name(path);
            read_umod_module(*m, run.log);
        } else {
            m->name = module_name_of_path(path);
        }
        if (auto it = by_name.find(m->name); it != by_name.end()) {
            if (it->second->path != path) {
                // libkmod's own message, then depmod's.
                run.log(kError,
                        "../libkmod/libkmod-module.c:428 kmod_module_new_from_path() kmod_module '%s' already exists "
                        "with different path: new-path='%s' old-path='%s'\n",
                        m->name.c_str(), path.c_str(), it->second->path.c_str());
                return fatal(EEXIST, fmt::format("could not create module {}: {}", path, std::strerror(EEXIST)));
            }
            run.log(kError, "hash_add_unique %s: %s\n", m->name.c_str(), std::strerror(EEXIST));
            return fatal(EEXIST, fmt::format("could not add module {}: {}", path, std::strerror(EEXIST)));
        }
        by_name.emplace(m->name, m.get());
        run.found.push_back(std::move(m));
    }
    return {};
}

// -A's walk: false as soon as a module file is newer than `mtime`. kmod's
// messages, including its path buffer (an entry that is neither a directory
// nor a regular file is reported under the last path written to it).
bool up_to_date_dir(DIR* dir, time_t mtime, std::string& path, std::size_t base, ModuleFormat format,
                    const Log& log) {
    int dfd = dirfd(dir);
    while (dirent* entry = readdir(dir)) {
        std::string_view name = entry->d_name;
        if (always_skipped(name)) continue;
        struct stat st {};
        if (fstatat(dfd, entry->d_name, &st, 0) < 0) {
            log(kError, "fstatat(%d, %s): %s\n", dfd, entry->d_name, std::strerror(errno));
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            path.resize(base);
            path += name;
            DIR* sub = open_subdir(dir, entry->d_name, log);
            if (sub == nullptr) continue;
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

}  // namespace

Status find_modules(Run& run) {
    const DepmodOptions& options = run.options;
    if (!options.module_files.empty() && !options.quick) return add_named_modules(run);
    DepmodConfig config = read_depmod_config(options.config_paths, options.kernel_version, run.log.verbosity(),
                                             run.log.file());
    ModuleWalk walk(config, run);
    DIR* top = run.dir.rewound();
    if (top == nullptr) {
        int code = errno;
        run.log(kError, "could not open directory %s: %s\n", run.dir.name().c_str(), std::strerror(code));
        return fatal(code, fmt::format("could not search modules: {}", std::strerror(code)));
    }
    if (auto searched = walk.walk(run.dir.name(), top); !searched)
        return fatal(searched.error().code(), fmt::format("could not search modules: {}", searched.error().message()));
    for (auto ext = config.externals.rbegin(); ext != config.externals.rend(); ++ext)
        (void)walk.walk(*ext);  // a missing external directory is reported and skipped
    return {};
}

void order_modules(Run& run) {
    std::vector<Module*>& modules = run.modules;
    modules.reserve(run.found.size());
    for (auto& m : run.found) modules.push_back(m.get());
    std::sort(modules.begin(), modules.end(),
              [](const Module* a, const Module* b) { return hash_order_less(a->name, b->name, 512); });
    std::string order;
    if (!run.dir.read_file("modules.order", order)) {
        if (run.kernel)
            run.log(kWarning, "could not open modules.order at %s: %s\n", run.dir.name().c_str(), std::strerror(errno));
    } else {
        std::vector<std::string_view> lines;
        for (std::size_t pos = 0; pos < order.size();) {
            std::size_t end = std::min(order.find('\n', pos), order.size());
            lines.push_back(std::string_view(order).substr(pos, end - pos));
            pos = end + 1;
        }
        int total = static_cast<int>(lines.size()) + 1;
        std::unordered_map<std::string, Module*> by_relpath;
        for (Module* m : modules) {
            if (m->relpath.empty()) continue;
            std::string rel = m->relpath;
            if (auto ko = rel.find(".ko"); run.kernel && ko != std::string::npos) rel.resize(ko + 3);
            by_relpath[rel] = m;
        }
        std::string key;
        for (int i = 0; i < static_cast<int>(lines.size()); ++i) {
            key.assign(lines[static_cast<std::size_t>(i)]);
            if (auto it = by_relpath.find(key); it != by_relpath.end()) it->second->sort_idx = (i + 1) - total;
        }
    }
    std::stable_sort(modules.begin(), modules.end(),
                     [](const Module* a, const Module* b) { return a->sort_idx < b->sort_idx; });
    for (std::uint32_t i = 0; i < modules.size(); ++i) modules[i]->idx = i;
}

Expected<bool> up_to_date(const ModuleDir& module_dir, ModuleFormat format, const Log& log) {
    const std::string& dirname = module_dir.name();
    DIR* dir = module_dir.rewound();
    if (dir == nullptr) {
        int code = errno;
        log(kError, "could not open directory %s: %s\n", dirname.c_str(), std::strerror(code));
        return Error(code, fmt::format("could not open directory {}: {}", dirname, std::strerror(code)));
    }
    struct stat st {};
    if (fstatat(::dirfd(dir), "modules.dep", &st, 0) != 0) {
        int code = errno;
        log(kError, "could not fstatat(%s, modules.dep): %s\n", dirname.c_str(), std::strerror(code));
        return Error(code, fmt::format("could not fstatat({}, modules.dep): {}", dirname, std::strerror(code)));
    }
    std::string path = dirname + "/";
    return up_to_date_dir(dir, st.st_mtime, path, path.size(), format, log);
}

}  // namespace umod::index::depmod_run
