#include "index/config_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace umod::index {

namespace {

// Adds a file in name order; a name already listed (from an earlier path) wins.
void insert_sorted(std::vector<ConfigFile>& files, std::string name, std::string path,
                   const std::shared_ptr<const ConfigDirectory>& dir) {
    auto at = std::lower_bound(files.begin(), files.end(), name,
                               [](const ConfigFile& f, const std::string& n) { return f.name < n; });
    if (at != files.end() && at->name == name) return;
    files.insert(at, ConfigFile{std::move(name), std::move(path), dir});
}

bool has_suffix(std::string_view name, std::span<const std::string_view> suffixes) {
    return std::any_of(suffixes.begin(), suffixes.end(), [&](std::string_view s) {
        return name.size() > s.size() && name.ends_with(s);
    });
}

void list_path(std::vector<ConfigFile>& files, const std::string& path, std::span<const std::string_view> suffixes,
               const std::function<void(const ConfigListingNote&)>& note) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return;  // libkmod: a debug message only
    if (!S_ISDIR(st.st_mode)) {
        auto slash = path.rfind('/');
        insert_sorted(files, slash == std::string::npos ? path : path.substr(slash + 1), path, nullptr);
        return;
    }
    // The directory opened once: listed through a second descriptor of it
    // (closedir closes that one), its files read relative to the first.
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int listing = fd < 0 ? -1 : ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    DIR* dir = listing < 0 ? nullptr : fdopendir(listing);
    if (dir == nullptr) {
        int code = errno;
        if (listing >= 0) ::close(listing);
        if (fd >= 0) ::close(fd);
        if (note) note({ConfigListingNote::Kind::Unreadable, path, code});
        return;
    }
    auto opened = std::make_shared<const ConfigDirectory>(fd);
    while (dirent* entry = readdir(dir)) {
        std::string_view name = entry->d_name;
        if (name.empty() || name[0] == '.') continue;
        if (!has_suffix(name, suffixes)) {
            if (note) note({ConfigListingNote::Kind::WrongSuffix, path + "/" + std::string(name), 0});
            continue;
        }
        struct stat entry_st {};
        if (fstatat(dirfd(dir), entry->d_name, &entry_st, 0) == 0 && S_ISDIR(entry_st.st_mode)) {
            if (note) note({ConfigListingNote::Kind::NestedDirectory, path + "/" + std::string(name), 0});
            continue;
        }
        insert_sorted(files, std::string(name), path + "/" + std::string(name), opened);
    }
    closedir(dir);
}

}  // namespace

void list_config_files(std::vector<ConfigFile>& files, std::span<const std::string> paths,
                       std::span<const std::string_view> suffixes,
                       const std::function<void(const ConfigListingNote&)>& note) {
    for (const std::string& path : paths) list_path(files, path, suffixes, note);
}

ConfigDirectory::~ConfigDirectory() {
    if (fd_ >= 0) ::close(fd_);
}

bool read_config_file(const ConfigFile& file, std::string& out, std::size_t max_size) {
    if (file.dir != nullptr) return read_text_at(file.dir->fd(), file.name.c_str(), out, max_size);
    return read_text_at(AT_FDCWD, file.path.c_str(), out, max_size);
}

bool read_text_at(int dirfd, const char* name, std::string& out, std::size_t max_size) {
    int fd = ::openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    out.clear();
    struct stat st {};
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        out.reserve(std::min(static_cast<std::size_t>(st.st_size), max_size));
    char chunk[65536];
    while (out.size() < max_size) {
        ssize_t n = ::read(fd, chunk, std::min(sizeof chunk, max_size - out.size()));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(chunk, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return true;
}

}  // namespace umod::index
