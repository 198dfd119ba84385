// The bytes of a module file, copied once into a directory only this process
// can write: the loader checks the copy and dlopens the copy, never the
// user's path again. Rebuilding, overwriting or deleting the file while the
// module is loaded changes nothing in the running module; the next load reads
// the new bytes.
//
// Why a file and not a sealed memfd: dlopen("/proc/self/fd/N") names the
// object by that path, which gdb (reading it from its own process), core
// files and a later symbolizer cannot reopen, and vm.memfd_noexec or an LSM
// can forbid executing a memfd at all. A private copy keeps a real path, and
// the copy keeps the file's own name (the directory differs), so dladdr,
// stacks and views still say "ext4.so".
#pragma once

#include <cstdint>
#include <string>

#include <umod/expected.h>

namespace umod {

class PrivateCopy {
public:
    // Copies `source` into the process's private directory (created on first
    // use, mode 0700, under $TMPDIR if set, else $XDG_RUNTIME_DIR, /dev/shm or
    // /tmp, the first that allows executing; removed at exit) under its own
    // file name. Errors: the source's (ENOENT...) with its path, or the
    // directory's, naming it.
    static Expected<PrivateCopy> make(const std::string& source);

    PrivateCopy(PrivateCopy&& other) noexcept : path_(std::move(other.path_)), subdir_(other.subdir_) {
        other.path_.clear();
    }
    PrivateCopy& operator=(PrivateCopy&&) = delete;
    PrivateCopy(const PrivateCopy&) = delete;
    ~PrivateCopy();  // removes the copy

    const std::string& path() const { return path_; }
    // Overwrites the 8 bytes at `offset` of the copy with `value`.
    Status patch(std::uint64_t offset, std::uint64_t value) const;

private:
    PrivateCopy(std::string path, bool subdir) : path_(std::move(path)), subdir_(subdir) {}
    std::string path_;
    bool subdir_ = false;  // in a directory of its own (its name was in use)
};

}  // namespace umod
