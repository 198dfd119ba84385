// The checked bytes of a module file, as a file in a directory only this
// process can write: the loader reads the user's file once, checks those
// bytes in memory, and dlopens this copy of them, never the user's path
// again. Rebuilding, overwriting or deleting the file while the module is
// loaded changes nothing in the running module; the next load reads the new
// bytes.
//
// Why a file and not a sealed memfd: dlopen("/proc/self/fd/N") names the
// object by that path, which gdb (reading it from its own process), core
// files and a later symbolizer cannot reopen, and vm.memfd_noexec or an LSM
// can forbid executing a memfd at all. A private copy keeps a real path, and
// the copy keeps the file's own name (the directory differs), so dladdr,
// stacks and views still say "ext4.so".
//
// Writing a file costs more than the dlopen of it (memory for the file's
// pages, freed again at unlink): the copy of a module the dynamic linker did
// unmap is kept, and a later load of exactly the same bytes maps it again
// instead of writing a new one (a few copies, until exit).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <umod/expected.h>

#include "support/mapped_file.h"

namespace umod {

class PrivateCopy {
public:
    // The bytes of the user's file, as read once (support::MappedFile::read).
    using Bytes = std::shared_ptr<const support::MappedFile>;
    // 8 bytes of the copy that differ from the file's.
    struct Patch {
        std::uint64_t offset = 0;
        std::uint64_t value = 0;
        bool operator==(const Patch&) const = default;
    };

    // A private file named `file_name` holding `bytes` with `patches`
    // applied (each patch inside the bytes), in the process's private
    // directory (created on first use, mode 0700, under $TMPDIR if set, else
    // $XDG_RUNTIME_DIR, /dev/shm or /tmp, the first that allows executing;
    // removed at exit); in a numbered sub-directory when the name is in use.
    // Errors: the directory's or the file's, naming it.
    static Expected<PrivateCopy> make(const std::string& file_name, Bytes bytes, std::vector<Patch> patches);

    PrivateCopy(PrivateCopy&& other) noexcept;
    PrivateCopy& operator=(PrivateCopy&&) = delete;
    PrivateCopy(const PrivateCopy&) = delete;
    // Removes the copy, or keeps it for a later load of the same bytes when
    // mark_unmapped() was called.
    ~PrivateCopy();

    const std::string& path() const { return path_; }
    // The bytes as read from the user's file (without the patches): what was
    // checked, kept for later work (signatures, reload rollback).
    std::span<const std::byte> bytes() const { return bytes_->bytes(); }
    // The dynamic linker no longer maps the copy: it may serve a later load.
    void mark_unmapped() { reusable_ = true; }

private:
    PrivateCopy(std::string path, bool subdir, Bytes bytes, std::vector<Patch> patches)
        : path_(std::move(path)), subdir_(subdir), bytes_(std::move(bytes)), patches_(std::move(patches)) {}
    std::string path_;
    bool subdir_ = false;    // in a directory of its own (its name was in use)
    bool reusable_ = false;  // see mark_unmapped
    Bytes bytes_;
    std::vector<Patch> patches_;
};

}  // namespace umod
