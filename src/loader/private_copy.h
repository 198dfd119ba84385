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
// unmap is kept (a few copies, until exit), and a later load of exactly the
// same bytes maps it again instead of writing a new one. When the user's file
// has not changed since it was read (same file, size, mtime and ctime, and
// its last change was over a second older than that read, so that a later
// write shows in its ctime however coarse the clock), it is not read again.
#pragma once

#include <sys/stat.h>

#include <ctime>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include <umod/expected.h>

#include "loader/checked_module.h"
#include "support/mapped_file.h"

namespace umod::loader {

// The user's file, as stat(2) saw it just before it was read.
struct SourceFile {
    std::string path;       // as the user named it
    std::string file_name;  // its last component: the copy's name
    bool stamped = false;   // stat succeeded: the fields below are set
    bool settled = false;   // its last change is over a second older than the stat
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{}, ctime{};

    static SourceFile stat(const std::string& path);
    // The same file, unchanged, as far as stat tells.
    bool same_stamp(const SourceFile& other) const;
};

class PrivateCopy {
public:
    // The bytes of the user's file, as read once (support::MappedFile::read).
    using Bytes = std::shared_ptr<const support::MappedFile>;
    using Checked = std::shared_ptr<const CheckedModule>;

    // A private file named `file_name` holding `bytes` with the checks'
    // patches applied, in the process's private directory (created on first
    // use, mode 0700, under $TMPDIR if set, else $XDG_RUNTIME_DIR, /dev/shm
    // or /tmp, the first that allows executing; removed at exit); in a
    // numbered sub-directory when the name is in use. Errors: the
    // directory's or the file's, naming it.
    static Expected<PrivateCopy> make(const SourceFile& source, Bytes bytes, Checked checked);
    // The kept copy of `source`'s file when it is settled and unchanged since
    // the copy's bytes were read: no need to read it again. None otherwise.
    static std::optional<PrivateCopy> reuse_unchanged(const SourceFile& source);
    // The kept copy named like `source` of exactly `bytes`, with what its
    // checks found (they depend only on the bytes); none if there is no such copy.
    static std::optional<PrivateCopy> reuse(const SourceFile& source, const Bytes& bytes);

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
    const CheckedModule& checked() const { return *checked_; }
    const Checked& shared_checked() const { return checked_; }
    const Bytes& shared_bytes() const { return bytes_; }  // bytes(), shared (a reload's copy of them)
    // The dynamic linker no longer maps the copy: it may serve a later load.
    void mark_unmapped() { reusable_ = true; }

private:
    PrivateCopy(std::string path, bool subdir, Bytes bytes, Checked checked, SourceFile source)
        : path_(std::move(path)),
          subdir_(subdir),
          bytes_(std::move(bytes)),
          checked_(std::move(checked)),
          source_(std::move(source)) {}
    std::string path_;
    bool subdir_ = false;    // in a directory of its own (its name was in use)
    bool reusable_ = false;  // see mark_unmapped
    Bytes bytes_;
    Checked checked_;
    SourceFile source_;  // where the bytes were read from
};

}  // namespace umod::loader
