// Shared libraries umod opens for itself (libcrypto, liblzma, libzstd, libdw)
// on first use rather than linking them: each is opened RTLD_NOW | RTLD_LOCAL,
// in a symbol scope of its own, and never closed; bind_private_library binds
// the functions a caller uses into a table, once.
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

// A library's functions, bound once into a table of function pointers (one
// member per function, each `decltype(&::the_function)`). Null `table` when
// the library cannot be opened or lacks a function, with `error` saying why.
template <class Table>
struct PrivateFunctions {
    const Table* table = nullptr;
    std::string error;
};

// Binds one member of a table: bind(table.fn, "fn"). Remembers a miss.
class FunctionBinder {
public:
    explicit FunctionBinder(void* library) : library_(library) {}
    template <class Function>
    void operator()(Function& fn, const char* name) {
        fn = reinterpret_cast<Function>(dlsym(library_, name));
        if (fn == nullptr && missing_.empty()) missing_ = name;
    }
    const std::string& missing() const { return missing_; }

private:
    void* library_;
    std::string missing_;  // the first function not found
};

// Opens `soname` privately (open_private_library) and fills a table with
// `bind_all(table, binder)`, binder being a FunctionBinder: the one way umod
// binds a library it opens for itself. The table is never freed (the library
// is never closed), so members may point into it. Call it once, from a
// function-local static: that makes the first use thread-safe.
template <class Table, class BindAll>
PrivateFunctions<Table> bind_private_library(const std::string& soname, BindAll bind_all) {
    PrivateFunctions<Table> out;
    void* library = open_private_library(soname, out.error);
    if (library == nullptr) return out;
    auto* table = new Table{};
    FunctionBinder binder(library);
    bind_all(*table, binder);
    if (!binder.missing().empty()) {
        out.error = soname + ": " + binder.missing() + " is missing";
        delete table;
        return out;
    }
    out.table = table;
    return out;
}

}  // namespace umod::support
