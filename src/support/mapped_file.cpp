#include "support/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

namespace umod::support {

Expected<MappedFile> MappedFile::open(const std::string& path) {
    return open(AT_FDCWD, path.c_str(), path, std::size_t{1} << 20);
}

Expected<MappedFile> MappedFile::map(const std::string& path) { return open(AT_FDCWD, path.c_str(), path, 0); }

Expected<MappedFile> MappedFile::map_at(int dirfd, const char* name, const std::string& path) {
    return open(dirfd, name, path, 0);
}

Expected<MappedFile> MappedFile::read(const std::string& path) {
    return open(AT_FDCWD, path.c_str(), path, std::numeric_limits<std::size_t>::max());
}

Expected<MappedFile> MappedFile::open(int dirfd, const char* name, const std::string& path, std::size_t read_below) {
    int fd = ::openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error(errno, path + ": " + std::strerror(errno));
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        int code = errno;
        ::close(fd);
        return Error(code, path + ": " + std::strerror(code));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return Error(EINVAL, path + ": not a regular file");
    }
    std::size_t size = static_cast<std::size_t>(st.st_size);
    if (size == 0) {
        ::close(fd);
        return MappedFile(nullptr, 0, false);
    }
    if (size < read_below) {
        auto* buffer = new std::byte[size];
        std::size_t done = 0;
        while (done < size) {
            ssize_t n = ::read(fd, buffer + done, size - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                int code = n < 0 ? errno : EIO;
                delete[] buffer;
                ::close(fd);
                return Error(code, path + ": " + std::strerror(code));
            }
            done += static_cast<std::size_t>(n);
        }
        ::close(fd);
        return MappedFile(buffer, size, false);
    }
    void* data = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int code = errno;
    ::close(fd);
    if (data == MAP_FAILED) return Error(code, path + ": " + std::strerror(code));
    return MappedFile(static_cast<const std::byte*>(data), size, true);
}

void MappedFile::release() {
    if (data_ == nullptr) return;
    if (mapped_)
        munmap(const_cast<std::byte*>(data_), size_);
    else
        delete[] data_;
    data_ = nullptr;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)), mapped_(other.mapped_) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        release();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        mapped_ = other.mapped_;
    }
    return *this;
}

MappedFile::~MappedFile() { release(); }

}  // namespace umod::support
