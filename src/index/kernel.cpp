#include "index/kernel.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "elf/decompress.h"
#include "elf/module_file.h"
#include "elf/kernel_module.h"
#include "support/mapped_file.h"

// Not every libc declares these (flags of finit_module(2)).
#ifndef MODULE_INIT_IGNORE_MODVERSIONS
#define MODULE_INIT_IGNORE_MODVERSIONS 1
#endif
#ifndef MODULE_INIT_IGNORE_VERMAGIC
#define MODULE_INIT_IGNORE_VERMAGIC 2
#endif

namespace umod::index::kernel {

namespace {

Error errno_error(int code, const std::string& what) {
    return Error(code, what + ": " + std::strerror(code));
}

// A small /sys file's text (libkmod reads them with one read).
Expected<std::string> read_small(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_error(errno, path);
    char buf[256];
    ssize_t n;
    do n = ::read(fd, buf, sizeof buf - 1);
    while (n < 0 && errno == EINTR);
    int code = errno;
    ::close(fd);
    if (n < 0) return errno_error(code, path);
    return std::string(buf, static_cast<std::size_t>(n));
}

// read_str_long(): a decimal number, whitespace after it allowed.
Expected<long> read_long(const std::string& path) {
    auto text = read_small(path);
    if (!text) return text.error();
    char* end = nullptr;
    errno = 0;
    long value = std::strtol(text->c_str(), &end, 10);
    if (end == text->c_str() || errno != 0 || (*end != '\0' && *end != '\n' && *end != ' '))
        return Error(EINVAL, path + ": not a number");
    return value;
}

std::string sys_module(std::string_view name) { return "/sys/module/" + std::string(name); }

}  // namespace

Expected<InitState> initstate(std::string_view name) {
    std::string path = sys_module(name) + "/initstate";
    auto text = read_small(path);
    if (!text) {
        struct stat st {};
        if (::stat(sys_module(name).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return InitState::Coming;
        return text.error();
    }
    if (*text == "live\n") return InitState::Live;
    if (*text == "coming\n") return InitState::Coming;
    if (*text == "going\n") return InitState::Going;
    return Error(EINVAL, path + ": unknown state '" + *text + "'");
}

Expected<long> refcnt(std::string_view name) { return read_long(sys_module(name) + "/refcnt"); }

Expected<long> size(std::string_view name) {
    struct stat st {};
    if (::stat(sys_module(name).c_str(), &st) != 0) return errno_error(errno, sys_module(name));
    if (auto core = read_long(sys_module(name) + "/coresize"); core || core.error().code() != ENOENT) return core;
    FILE* f = std::fopen("/proc/modules", "re");
    if (f == nullptr) return errno_error(errno, "/proc/modules");
    char line[4096];
    long found = -1;
    while (found < 0 && std::fgets(line, sizeof line, f) != nullptr) {
        char* save = nullptr;
        const char* tok = strtok_r(line, " \t", &save);
        if (tok == nullptr || name != tok) continue;
        const char* sz = strtok_r(nullptr, " \t", &save);
        if (sz != nullptr) found = std::atol(sz);
    }
    std::fclose(f);
    if (found < 0) return Error(ENOENT, "/proc/modules: no " + std::string(name));
    return found;
}

Expected<std::vector<std::string>> holders(std::string_view name) {
    std::string dir = sys_module(name) + "/holders";
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return errno_error(errno, dir);
    std::vector<std::string> out;
    while (dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n == "." || n == "..") continue;
        out.emplace_back(n);
    }
    ::closedir(d);
    return out;
}

Expected<std::vector<std::string>> loaded() {
    FILE* f = std::fopen("/proc/modules", "re");
    if (f == nullptr) return errno_error(errno, "/proc/modules");
    std::vector<std::string> out;
    char line[4096];
    while (std::fgets(line, sizeof line, f) != nullptr) {
        char* save = nullptr;
        if (const char* tok = strtok_r(line, " \t", &save)) out.emplace_back(tok);
    }
    std::fclose(f);
    return out;
}

Status insert(const std::string& path, const std::string& options, unsigned flags) {
    elf::Compression compression = elf::compression_of(path);
    if (compression == elf::Compression::None) {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return errno_error(errno, path);
        int kernel_flags = 0;
        if (flags & kForceVermagic) kernel_flags |= MODULE_INIT_IGNORE_VERMAGIC;
        if (flags & kForceModversion) kernel_flags |= MODULE_INIT_IGNORE_MODVERSIONS;
        long r = ::syscall(SYS_finit_module, fd, options.c_str(), kernel_flags);
        int code = errno;
        ::close(fd);
        if (r == 0) return {};
        if (code != ENOSYS) return Error(code, std::strerror(code));
    }
    elf::ModuleFileBuffer buffer;
    if (auto read = elf::read_module_file(path, {{}, 0, true}, buffer); !read) return read.error();
    std::vector<std::byte>& image = buffer.image;
    if (flags & kForceModversion) (void)elf::strip_section_alloc(image, "__versions");
    if (flags & kForceVermagic) (void)elf::strip_vermagic(image);
    long r = ::syscall(SYS_init_module, image.data(), static_cast<unsigned long>(image.size()), options.c_str());
    if (r != 0) return Error(errno, std::strerror(errno));
    return {};
}

Status remove(std::string_view name, RemoveForce force) {
    std::string n(name);
    unsigned flags = O_NONBLOCK | (force == RemoveForce::Yes ? O_TRUNC : 0);
    if (::syscall(SYS_delete_module, n.c_str(), flags) != 0) return Error(errno, std::strerror(errno));
    return {};
}

}  // namespace umod::index::kernel
