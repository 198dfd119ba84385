#include "loader/private_copy.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <string_view>
#include <span>
#include <vector>

namespace umod::loader {

namespace {

// A copy whose module was unmapped, kept for a later load of the same bytes.
struct Kept {
    std::string path;
    bool subdir = false;
    PrivateCopy::Bytes bytes;
    PrivateCopy::Checked checked;
    SourceFile source;
};

constexpr std::size_t kKeptCopies = 8;
constexpr std::size_t kKeptBytes = std::size_t{64} << 20;

struct Directory {
    std::mutex mutex;  // guards names, kept and kept_bytes
    std::string path;  // empty when it could not be created
    int error = 0;
    std::set<std::string> names;  // file names in use directly under `path` (loaded or kept)
    std::deque<Kept> kept;        // oldest first
    std::size_t kept_bytes = 0;
    std::atomic<unsigned long> next{0};
};

// Removes a copy's file, and its sub-directory or its name.
void remove_copy(Directory& dir, const std::string& path, bool subdir) {
    ::unlink(path.c_str());
    std::filesystem::path p(path);
    if (subdir)
        ::rmdir(p.parent_path().c_str());
    else
        dir.names.erase(p.filename().string());
}

void forget_kept(Directory& dir, std::deque<Kept>::iterator it) {
    dir.kept_bytes -= it->bytes->bytes().size();
    remove_copy(dir, it->path, it->subdir);
    dir.kept.erase(it);
}

bool same_bytes(const PrivateCopy::Bytes& a, const PrivateCopy::Bytes& b) {
    auto x = a->bytes();
    auto y = b->bytes();
    return x.size() == y.size() && (x.empty() || std::memcmp(x.data(), y.data(), x.size()) == 0);
}

// Directories of hosts that died without their exit handlers: each live
// host holds an flock on its directory (dropped by the kernel when it dies,
// whatever the pid namespace); a directory of this user, named for a pid that
// no longer runs, that can be locked is stale.
void remove_stale_directories(const std::string& base) {
    DIR* listing = ::opendir(base.c_str());
    if (listing == nullptr) return;
    while (dirent* e = ::readdir(listing)) {
        std::string_view name = e->d_name;
        if (!name.starts_with("umod-")) continue;
        char* end = nullptr;
        long pid = std::strtol(e->d_name + 5, &end, 10);
        if (pid <= 0 || end == nullptr || *end != '-' || pid == getpid()) continue;
        if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
        std::string path = base + "/" + e->d_name;
        int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) continue;
        struct stat st {};
        if (fstat(fd, &st) == 0 && st.st_uid == geteuid() && ::flock(fd, LOCK_EX | LOCK_NB) == 0) {
            std::error_code ignored;
            std::filesystem::remove_all(path, ignored);
        }
        ::close(fd);
    }
    ::closedir(listing);
}

// Marks `path` as this live host's for remove_stale_directories (the
// descriptor stays open until exit, not inherited by exec).
void hold(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0) ::close(fd);
}

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
            remove_stale_directories(base);
            std::string pattern = base + "/umod-" + std::to_string(getpid()) + "-XXXXXX";
            if (mkdtemp(pattern.data()) == nullptr) {  // mode 0700: only this user
                d->path = pattern;
                d->error = errno;
                continue;
            }
            d->path = pattern;
            d->error = 0;
            hold(pattern);
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

// Writes `bytes` with `patches` applied into a new file `to`, for this user only.
int write_copy(const std::string& to, std::span<const std::byte> bytes, const std::vector<Patch>& patches) {
    int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
    if (out < 0) return errno;
    int error = 0;
    for (std::size_t done = 0; done < bytes.size() && error == 0;) {
        ssize_t n = ::write(out, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) error = n < 0 ? errno : EIO;
        else done += static_cast<std::size_t>(n);
    }
    for (const Patch& p : patches) {
        if (error != 0) break;
        if (::pwrite(out, &p.value, sizeof p.value, static_cast<off_t>(p.offset)) != sizeof p.value)
            error = errno ? errno : EIO;
    }
    if (::close(out) != 0 && error == 0) error = errno;
    if (error != 0) ::unlink(to.c_str());
    return error;
}

}  // namespace

SourceFile SourceFile::stat(const std::string& path) {
    SourceFile f;
    f.path = path;
    auto slash = path.rfind('/');
    f.file_name = slash == std::string::npos ? path : path.substr(slash + 1);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return f;
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    f.stamped = true;
    f.settled = st.st_ctim.tv_sec + 1 < now.tv_sec;
    f.dev = st.st_dev;
    f.ino = st.st_ino;
    f.size = st.st_size;
    f.mtime = st.st_mtim;
    f.ctime = st.st_ctim;
    return f;
}

bool SourceFile::same_stamp(const SourceFile& o) const {
    auto same = [](const timespec& a, const timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; };
    return stamped && o.stamped && dev == o.dev && ino == o.ino && size == o.size && same(mtime, o.mtime) &&
           same(ctime, o.ctime);
}

std::optional<PrivateCopy> PrivateCopy::reuse_unchanged(const SourceFile& source) {
    if (!source.stamped) return std::nullopt;
    Directory& dir = directory();
    std::lock_guard lock(dir.mutex);
    auto it = std::find_if(dir.kept.begin(), dir.kept.end(), [&](const Kept& k) {
        return k.source.settled && k.source.path == source.path && k.source.same_stamp(source);
    });
    if (it == dir.kept.end()) return std::nullopt;
    PrivateCopy reused(std::move(it->path), it->subdir, std::move(it->bytes), std::move(it->checked),
                       std::move(it->source));
    dir.kept_bytes -= reused.bytes().size();
    dir.kept.erase(it);
    return reused;
}

std::optional<PrivateCopy> PrivateCopy::reuse(const SourceFile& source, const Bytes& bytes) {
    Directory& dir = directory();
    std::lock_guard lock(dir.mutex);
    auto it = std::find_if(dir.kept.begin(), dir.kept.end(), [&](const Kept& k) {
        return k.source.file_name == source.file_name && same_bytes(k.bytes, bytes);
    });
    if (it == dir.kept.end()) return std::nullopt;
    PrivateCopy reused(std::move(it->path), it->subdir, std::move(it->bytes), std::move(it->checked), source);
    dir.kept_bytes -= reused.bytes().size();
    dir.kept.erase(it);
    return reused;
}

Expected<PrivateCopy> PrivateCopy::make(const SourceFile& source, Bytes bytes, Checked checked) {
    const std::string& file_name = source.file_name;
    Directory& dir = directory();
    if (dir.error != 0)
        return Error(dir.error, "cannot create a private directory for module copies (" + dir.path +
                                    "): " + std::strerror(dir.error));
    bool own_directory = false;
    {
        std::lock_guard lock(dir.mutex);
        // Another version kept under the name will not serve: it gives the name back.
        auto it = std::find_if(dir.kept.begin(), dir.kept.end(),
                               [&](const Kept& k) { return k.source.file_name == file_name && !k.subdir; });
        if (it != dir.kept.end()) forget_kept(dir, it);
        own_directory = !dir.names.insert(file_name).second;
    }
    std::string path;
    if (!own_directory) {
        path = dir.path + "/" + file_name;
    } else {
        std::string sub = dir.path + "/" + std::to_string(dir.next.fetch_add(1));
        if (::mkdir(sub.c_str(), 0700) != 0) {
            int e = errno;
            return Error(e, sub + ": " + std::strerror(e));
        }
        path = sub + "/" + file_name;
    }
    if (int e = write_copy(path, bytes->bytes(), checked->patches); e != 0) {
        PrivateCopy failed(path, own_directory, bytes, checked, source);  // releases the name or the directory
        return Error(e, path + ": " + std::strerror(e));
    }
    return PrivateCopy(path, own_directory, std::move(bytes), std::move(checked), source);
}

PrivateCopy::PrivateCopy(PrivateCopy&& other) noexcept
    : path_(std::move(other.path_)),
      subdir_(other.subdir_),
      reusable_(other.reusable_),
      bytes_(std::move(other.bytes_)),
      checked_(std::move(other.checked_)),
      source_(std::move(other.source_)) {
    other.path_.clear();
}

PrivateCopy::~PrivateCopy() {
    if (path_.empty()) return;
    Directory& dir = directory();
    std::lock_guard lock(dir.mutex);
    if (!reusable_) {
        remove_copy(dir, path_, subdir_);
        return;
    }
    dir.kept_bytes += bytes_->bytes().size();
    dir.kept.push_back({std::move(path_), subdir_, std::move(bytes_), std::move(checked_), std::move(source_)});
    while (dir.kept.size() > kKeptCopies || dir.kept_bytes > kKeptBytes)
        forget_kept(dir, dir.kept.begin());
}

}  // namespace umod::loader
