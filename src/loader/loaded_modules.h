// The modules this process has mapped: where they are, and what they define
// without exporting. Process-wide, because the dynamic linker's global scope
// is process-wide too.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace umod {

class LoadedModules {
public:
    struct Record {
        std::string name;
        std::string path;  // real path
        std::uintptr_t base = 0;
        std::uint64_t size = 0;
        std::shared_ptr<const std::vector<std::string>> unexported;  // defined, not exported (never null)
    };

    void add(Record record);
    void remove(std::uintptr_t base);
    // The name of the module whose mapping holds `address`; empty if none.
    std::string owner_of(std::uintptr_t address) const;
    // The name of a module that defines `symbol` without exporting it.
    std::string module_defining(const std::string& symbol) const;
    bool is_module_path(const std::string& path) const;

private:
    mutable std::mutex mutex_;  // guards records_
    std::vector<Record> records_;
};

LoadedModules& loaded_modules();

}  // namespace umod
