#include "loader/private_copy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <vector>

namespace umod {

namespace {

struct Directory {
    std::mutex mutex;  // guards names
    std::string path;  // empty when it could not be created
    int error = 0;
    std::set<std::string> names;  // file names in use directly under `path`
    std::atomic<unsigned long> next{0};
};

Directory& directory() {
    static Directory* dir = [] {
        auto* d = new Directory;  // outlives every copy, including those destroyed at exit
        // $TMPDIR when the user set it; else a memory file system (creating
        // and removing a file there costs a fraction of a disk's), the
        // per-user one first; else /tmp. One that forbids executing is skipped.
        std::vector<std::string> candidates;
        for (const char* variable : {"TMPDIR", "XDG_RUNTIME_DIR"})
            if (const char* v = std::getenv(variable); v != nullptr && *v != '\0') candidates.emplace_back(v);
        candidates.emplace_back("/dev/shm");
        candidates.emplace_back("/tmp");
        for (const std::string& base : candidates) {
            struct statvfs fs {};
            if (statvfs(base.c_str(), &fs) != 0 || (fs.f_flag & ST_NOEXEC)) continue;
            std::string pattern = base + "/umod-" + std::to_string(getpid()) + "-XXXXXX";
            if (mkdtemp(pattern.data()) == nullptr) {  // mode 0700: only this user
                d->path = pattern;
                d->error = errno;
                continue;
            }
            d->path = pattern;
            d->error = 0;
            std::atexit([] {
                std::error_code ignored;
                std::filesystem::remove_all(directory().path, ignored);
            });
            return d;
        }
        if (d->error == 0) {
            d->path = "/tmp";
            d->error = EACCES;  // every candidate forbids executing
        }
        return d;
    }();
    return *dir;
}

// Copies the bytes of `from` into a new file `to`, for this user only.
int copy_file(const std::string& from, const std::string& to) {
    int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) return errno;
    int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
    if (out < 0) {
        int e = errno;
        ::close(in);
        return e;
    }
    int error = 0;
    for (;;) {
        ssize_t n = copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
        if (n > 0) continue;
        if (n == 0) break;
        if (errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP && errno != EINVAL) {
            error = errno;
            break;
        }
        char buffer[1 << 16];  // across file systems: plain reads and writes
        for (ssize_t r; (r = ::read(in, buffer, sizeof buffer)) != 0;) {
            if (r < 0 || ::write(out, buffer, static_cast<std::size_t>(r)) != r) {
                error = errno ? errno : EIO;
                break;
            }
        }
        break;
    }
    ::close(in);
    if (::close(out) != 0 && error == 0) error = errno;
    if (error != 0) ::unlink(to.c_str());
    return error;
}

}  // namespace

Expected<PrivateCopy> PrivateCopy::make(const std::string& source) {
    Directory& dir = directory();
    if (dir.error != 0)
        return Error(dir.error, "cannot create a private directory for module copies (" + dir.path +
                                    "): " + std::strerror(dir.error));
    std::string name = std::filesystem::path(source).filename().string();
    bool own_directory = false;
    {
        std::lock_guard lock(dir.mutex);
        own_directory = !dir.names.insert(name).second;
    }
    std::string path;
    if (!own_directory) {
        path = dir.path + "/" + name;
    } else {
        std::string sub = dir.path + "/" + std::to_string(dir.next.fetch_add(1));
        if (::mkdir(sub.c_str(), 0700) != 0) {
            int e = errno;
            return Error(e, sub + ": " + std::strerror(e));
        }
        path = sub + "/" + name;
    }
    if (int e = copy_file(source, path); e != 0) {
        PrivateCopy failed(path, own_directory);  // releases the name or the directory
        return Error(e, source + ": " + std::strerror(e));
    }
    return PrivateCopy(path, own_directory);
}

Status PrivateCopy::patch(std::uint64_t offset, std::uint64_t value) const {
    int fd = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return Error(errno, path_ + ": " + std::strerror(errno));
    ssize_t n = ::pwrite(fd, &value, sizeof value, static_cast<off_t>(offset));
    int e = n == static_cast<ssize_t>(sizeof value) ? 0 : (errno ? errno : EIO);
    ::close(fd);
    if (e != 0) return Error(e, path_ + ": " + std::strerror(e));
    return {};
}

PrivateCopy::~PrivateCopy() {
    if (path_.empty()) return;
    ::unlink(path_.c_str());
    std::filesystem::path p(path_);
    if (subdir_) {
        ::rmdir(p.parent_path().c_str());
    } else {
        Directory& dir = directory();
        std::lock_guard lock(dir.mutex);
        dir.names.erase(p.filename().string());
    }
}

}  // namespace umod
