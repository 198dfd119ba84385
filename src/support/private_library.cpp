#include "support/private_library.h"

#include <link.h>

#include <algorithm>
#include <vector>

#include "support/mutex.h"

namespace umod::support {

namespace {

Mutex private_mutex;  // guards private_objects and serializes each open
std::vector<std::string> private_objects UMOD_GUARDED_BY(private_mutex);  // paths, as dl_iterate_phdr names them

std::vector<std::string> loaded_objects() {
    std::vector<std::string> names;
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* out) {
            if (info->dlpi_name != nullptr && *info->dlpi_name != '\0')
                static_cast<std::vector<std::string>*>(out)->emplace_back(info->dlpi_name);
            return 0;
        },
        &names);
    return names;
}

}  // namespace

void* open_private_library(const std::string& soname, std::string& error) {
    MutexLock lock(private_mutex);
    std::vector<std::string> before = loaded_objects();
    void* library = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL | (kOwnScopeFirst ? RTLD_DEEPBIND : 0));
    if (library == nullptr) {
        const char* why = dlerror();
        error = why != nullptr ? why : soname + ": cannot be loaded";
        return nullptr;
    }
    for (std::string& name : loaded_objects())
        if (std::find(before.begin(), before.end(), name) == before.end()) private_objects.push_back(std::move(name));
    return library;
}

bool is_private_object(std::string_view path) {
    MutexLock lock(private_mutex);
    return std::find(private_objects.begin(), private_objects.end(), path) != private_objects.end();
}

}  // namespace umod::support
