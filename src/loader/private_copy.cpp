#include "loader/private_copy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <span>
#include <vector>

namespace umod {

namespace {

// A copy whose module was unmapped, kept for a later load of the same bytes.
struct Kept {
    std::string file_name;
    std::string path;
    bool subdir = false;
    PrivateCopy::Bytes bytes;
    std::vector<PrivateCopy::Patch> patches;
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

// Writes `bytes` with `patches` applied into a new file `to`, for this user only.
int write_copy(const std::string& to, std::span<const std::byte> bytes,
               const std::vector<PrivateCopy::Patch>& patches) {
    int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
    if (out < 0) return errno;
    int error = 0;
    for (std::size_t done = 0; done < bytes.size() && error == 0;) {
        ssize_t n = ::write(out, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) error = n < 0 ? errno : EIO;
        else done += static_cast<std::size_t>(n);
    }
    for (const PrivateCopy::Patch& p : patches) {
        if (error != 0) break;
        if (::pwrite(out, &p.value, sizeof p.value, static_cast<off_t>(p.offset)) != sizeof p.value)
            error = errno ? errno : EIO;
    }
    if (::close(out) != 0 && error == 0) error = errno;
    if (error != 0) ::unlink(to.c_str());
    return error;
}

}  // namespace

Expected<PrivateCopy> PrivateCopy::make(const std::string& file_name, Bytes bytes, std::vector<Patch> patches) {
    Directory& dir = directory();
    if (dir.error != 0)
        return Error(dir.error, "cannot create a private directory for module copies (" + dir.path +
                                    "): " + std::strerror(dir.error));
    bool own_directory = false;
    {
        std::lock_guard lock(dir.mutex);
        for (auto it = dir.kept.begin(); it != dir.kept.end(); ++it) {
            if (it->file_name != file_name) continue;
            if (it->patches == patches && same_bytes(it->bytes, bytes)) {
                PrivateCopy reused(std::move(it->path), it->subdir, std::move(bytes), std::move(patches));
                dir.kept_bytes -= it->bytes->bytes().size();
                dir.kept.erase(it);
                return reused;
            }
            if (!it->subdir) {  // another version holds the name: it will not serve
                forget_kept(dir, it);
                break;
            }
        }
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
    if (int e = write_copy(path, bytes->bytes(), patches); e != 0) {
        PrivateCopy failed(path, own_directory, bytes, {});  // releases the name or the directory
        return Error(e, path + ": " + std::strerror(e));
    }
    return PrivateCopy(path, own_directory, std::move(bytes), std::move(patches));
}

PrivateCopy::PrivateCopy(PrivateCopy&& other) noexcept
    : path_(std::move(other.path_)),
      subdir_(other.subdir_),
      reusable_(other.reusable_),
      bytes_(std::move(other.bytes_)),
      patches_(std::move(other.patches_)) {
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
    std::string file_name = std::filesystem::path(path_).filename().string();
    dir.kept_bytes += bytes_->bytes().size();
    dir.kept.push_back({std::move(file_name), std::move(path_), subdir_, std::move(bytes_), std::move(patches_)});
    while (dir.kept.size() > kKeptCopies || dir.kept_bytes > kKeptBytes)
        forget_kept(dir, dir.kept.begin());
}

}  // namespace umod
