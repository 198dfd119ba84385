// `umod run` hosts modules, and a C++ module needs the process's one shared
// libstdc++ and unwinder — which the other commands, one process per call as
// kmod's tools are, should not pay for at start-up. So the tool is linked
// with its own C++ runtime (tools/umod/CMakeLists.txt), and the scripted host
// is a module of its own, umod-run.so (run.cpp), linked to libumod.so and the
// shared runtime like any other host: this command opens it and hands it the
// arguments. No C++ object or exception crosses between the two: the one entry
// takes and returns C types.
#include <dlfcn.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "support/executable_path.h"

namespace umod::tool {

namespace {

// The scripted host's entry, as run.cpp exports it.
using RunEntry = int (*)(const char* prog, int argc, char* const* argv);

// UMOD_RUN_MODULE is the module's path relative to the directory of the
// umod binary: the build tree lays the two out as an installation does.
// Empty, with errno set, when the binary cannot be found: no other place is
// tried (a relative path would be the working directory's). The binary's
// path has no symbolic links left in it, so BINDIR/.. is lexically the
// directory above.
std::string run_module_path() {
    std::filesystem::path binary = support::executable_path();
    if (binary.empty()) return {};
    return (binary.parent_path() / UMOD_RUN_MODULE).lexically_normal().string();
}

}  // namespace

int run_main(std::string_view prog, std::span<char* const> args) {
    std::string name(prog);
    std::string path = run_module_path();
    if (path.empty()) {
        std::fprintf(stderr, "%s: cannot find the scripted host: /proc/self/exe: %s\n", name.c_str(),
                     std::strerror(errno));
        return 1;
    }
    // RTLD_GLOBAL: the modules the host loads bind their runtime imports
    // (__umod_symbol_get...) to libumod.so, found in the global scope.
    void* host = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (host == nullptr) {
        std::fprintf(stderr, "%s: cannot open the scripted host: %s\n", name.c_str(), dlerror());
        return 1;
    }
    auto entry = reinterpret_cast<RunEntry>(dlsym(host, "umod_run_main"));
    if (entry == nullptr) {
        std::fprintf(stderr, "%s: %s has no umod_run_main: %s\n", name.c_str(), path.c_str(), dlerror());
        return 1;
    }
    // Never closed: what the host leaves to exit (libumod's and the shared
    // runtime's static destructors, modules kept mapped) runs at exit, as it
    // did when the host was this binary.
    return entry(name.c_str(), static_cast<int>(args.size()), args.data());
}

}  // namespace umod::tool
