// The file access src/index shares: the configuration directories' listing
// (depmod.d, modprobe.d: each directory opened once, its entries found with
// fdopendir/fstatat and read relative to its descriptor) and a file's text
// read relative to a directory descriptor, as libkmod reads both.
#pragma once

#include <fcntl.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace umod::index {

// A configuration directory opened once: its files are read relative to it.
class ConfigDirectory {
public:
    explicit ConfigDirectory(int fd) : fd_(fd) {}
    ~ConfigDirectory();
    ConfigDirectory(const ConfigDirectory&) = delete;
    ConfigDirectory& operator=(const ConfigDirectory&) = delete;
    int fd() const { return fd_; }

private:
    int fd_;
};

struct ConfigFile {
    std::string name;  // its base name: the sort key, one file per name
    std::string path;
    // The directory it was listed from (read as `name` relative to it), or
    // null: a path named as itself, read by `path`.
    std::shared_ptr<const ConfigDirectory> dir = nullptr;
};

// Why an entry of a configuration directory was skipped (libkmod's
// conf_files_list reasons), with the entry's path ("DIR/NAME") or, for
// Unreadable, the directory and the errno.
struct ConfigListingNote {
    enum class Kind { Unreadable, WrongSuffix, NestedDirectory };
    Kind kind;
    std::string path;
    int error = 0;
};

// libkmod's conf_files_list() over `paths`, in order, into `files` (sorted
// by name; entries already there stay first for their name): a path that is a file
// is listed as itself; a directory gives its entries ending in one of
// `suffixes` (hidden ones and subdirectories skipped), longer than the suffix
// by at least one byte. Files are sorted by base name (strcmp), and a name
// listed earlier wins. Paths that do not exist are skipped
// silently; each other skip is passed to `note` (may be empty).
void list_config_files(std::vector<ConfigFile>& files, std::span<const std::string> paths,
                       std::span<const std::string_view> suffixes,
                       const std::function<void(const ConfigListingNote&)>& note);

// The text of `name` opened relative to `dirfd` (AT_FDCWD, or a directory
// descriptor; an absolute `name` ignores it), up to `max_size` bytes or a read
// error (as stdio would give it: a directory reads as empty). False with errno
// set when it cannot be opened.
bool read_text_at(int dirfd, const char* name, std::string& out, std::size_t max_size = SIZE_MAX);
// read_text_at() of a listed file: relative to its directory's descriptor
// when it came from one.
bool read_config_file(const ConfigFile& file, std::string& out, std::size_t max_size = SIZE_MAX);

}  // namespace umod::index
