#include "loader/loaded_modules.h"

#include <algorithm>

namespace umod {

LoadedModules& loaded_modules() {
    static LoadedModules instance;
    return instance;
}

void LoadedModules::add(Record record) {
    std::lock_guard lock(mutex_);
    records_.push_back(std::move(record));
}

void LoadedModules::remove(std::uintptr_t base) {
    std::lock_guard lock(mutex_);
    std::erase_if(records_, [&](const Record& r) { return r.base == base; });
}

std::string LoadedModules::owner_of(std::uintptr_t address) const {
    std::lock_guard lock(mutex_);
    for (const Record& r : records_)
        if (address >= r.base && address - r.base < r.size) return r.name;
    return {};
}

std::string LoadedModules::module_defining(const std::string& symbol) const {
    std::lock_guard lock(mutex_);
    for (const Record& r : records_)
        if (std::find(r.unexported->begin(), r.unexported->end(), symbol) != r.unexported->end()) return r.name;
    return {};
}

bool LoadedModules::is_module_path(const std::string& path) const {
    std::lock_guard lock(mutex_);
    for (const Record& r : records_)
        if (r.path == path) return true;
    return false;
}

}  // namespace umod
