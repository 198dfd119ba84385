// Shared libraries umod opens for itself (libcrypto, liblzma, libzstd, libdw)
// on first use rather than linking them: each is opened RTLD_NOW | RTLD_LOCAL,
// in a symbol scope of its own, and never closed.
//
// Local scope keeps the libraries' symbols from reaching modules, and RTLD_NOW
// makes every binding of theirs at once. A library opened after modules are
// loaded would still look the global scope up first, where modules' exports
// are (zlib's own references to crc32 would bind to a module exporting
// crc32), so each is also opened RTLD_DEEPBIND: its own scope first. The
// sanitizers' runtimes refuse RTLD_DEEPBIND; built with them, what must not
// bind to a module is opened before any module instead (a registry preloads
// libdw, see core/symbolize.h).
#pragma once

#include <dlfcn.h>

#include <string>
#include <string_view>

namespace umod::support {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kOwnScopeFirst = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kOwnScopeFirst = false;
#else
inline constexpr bool kOwnScopeFirst = true;
#endif
#else
inline constexpr bool kOwnScopeFirst = true;  // RTLD_DEEPBIND is used
#endif

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

}  // namespace umod::support
