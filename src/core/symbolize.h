// Turns recorded return addresses into report frames: the module or object
// (dladdr), the function and offset (that object's .symtab, or .dynsym when
// stripped, read with umod's one ELF reader), and file:line where the object
// has DWARF line tables (libdw).
//
// Runs only when a report is made, while the code is still mapped. Never call
// it under the registry mutex: dladdr takes the dynamic loader's lock, which a
// thread running a module's constructors holds while it may wait for ours.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include <umod/errors.h>

#include "support/mutex.h"

namespace umod::core {

class Symbolizer {
public:
    Symbolizer();
    ~Symbolizer();
    Symbolizer(const Symbolizer&) = delete;
    Symbolizer& operator=(const Symbolizer&) = delete;

    // One frame per address, in order. Thread-safe.
    StackTrace symbolize(std::span<const std::uintptr_t> addresses);

    // Where libdw cannot be opened with its own scope first (sanitizer
    // builds), loads it now, before the registry that calls it loads any
    // module: loaded later, its libraries' own references (zlib's to its
    // crc32) would bind to module exports of that name and pin those
    // modules (support/private_library.h). Otherwise libdw waits for the first
    // report that needs source lines.
    static void preload();

    struct ObjectSymbols;  // one object's functions, sorted by address

private:
    std::shared_ptr<const ObjectSymbols> symbols_of(const std::string& path);

    support::Mutex mutex_;
    // By path; an entry is reread when the file's identity (inode, size,
    // mtime) changed, e.g. a module rebuilt and loaded again.
    std::unordered_map<std::string, std::shared_ptr<const ObjectSymbols>> objects_ UMOD_GUARDED_BY(mutex_);
};

}  // namespace umod::core
