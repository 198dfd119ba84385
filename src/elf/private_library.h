// Shared libraries umod opens for itself (libcrypto, liblzma, libzstd, libdw)
// on first use rather than linking them: each is opened RTLD_NOW | RTLD_LOCAL,
// in a symbol scope of its own, and never closed.
//
// Local scope keeps the libraries' symbols from reaching modules, and RTLD_NOW
// makes every binding of theirs at once. But a library opened after modules
// are loaded still looks the global scope up first, where modules' exports
// are: zlib's own references to crc32 would bind to a module exporting crc32.
// So what must never bind to a module is opened before any module (a
// registry preloads libdw); the rest is used by tools that load no modules.
#pragma once

#include <dlfcn.h>

#include <string>
#include <string_view>

namespace umod::elf {

// The library's handle, or null with dlerror()'s text in `error`. The objects
// it brings in are remembered (see is_private_object). Thread-safe.
void* open_private_library(const std::string& soname, std::string& error);

// True for an object open_private_library brought into the process: not in
// the global scope, so not something modules can bind to.
bool is_private_object(std::string_view path);

// Sets `fn` to the library's function `name`; false if it has none.
template <class Function>
bool bind_function(void* library, Function& fn, const char* name) {
    fn = reinterpret_cast<Function>(dlsym(library, name));
    return fn != nullptr;
}

}  // namespace umod::elf
