// modprobe's resolution over a module directory's index, as kmod 30 resolves:
// a name or alias to modules, and a module to the ordered list of what must
// be loaded for it (dependencies and soft dependencies).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <umod/expected.h>

#include "index/index_file.h"

namespace umod::index {

struct IndexedModule {
    std::string name;
    std::string path;              // absolute
    std::vector<std::string> deps; // modules.dep order: most dependent first
    bool builtin = false;
    // Built-in modules: their modules.builtin.modinfo records, in order.
    std::vector<std::pair<std::string, std::string>> builtin_info;
};

class ModuleIndex {
public:
    ModuleIndex() = default;  // empty: every lookup finds nothing
    // Reads modules.dep, .alias, .symbols, .softdep, modules.builtin and
    // modules.builtin.modinfo under `dirname`. ENOENT without modules.dep.
    static Expected<ModuleIndex> open(const std::string& dirname);

    // Modules `name` stands for: a module name, a symbol:NAME, an alias
    // (wildcards in the stored aliases), a built-in module or alias. Empty if
    // none. In kmod's order.
    std::vector<const IndexedModule*> lookup(std::string_view name) const;
    // By module name only, then the built-in indexes (modinfo -m).
    std::vector<const IndexedModule*> lookup_name(std::string_view name) const;

    // What loading `module` loads, in order: for each dependency (most basic
    // first) and then the module itself, its `pre:` soft dependencies, itself,
    // its `post:` ones.
    std::vector<const IndexedModule*> probe_list(const IndexedModule& module) const;

private:
    const IndexedModule* find(std::string_view name) const;
    std::vector<const IndexedModule*> lookup_builtin(const std::string& normal) const;
    void fill_softdeps(const IndexedModule& m, std::vector<const IndexedModule*>& out,
                       std::map<std::string, bool>& visited) const;
    void probe(const IndexedModule& m, std::vector<const IndexedModule*>& out,
               std::map<std::string, bool>& visited) const;

    void load_aliases() const;

    std::string dirname_;
    std::unordered_map<std::string, IndexedModule> modules_;
    // Read on the first lookup that needs them (most lookups are module names).
    mutable bool aliases_loaded_ = false;
    // The same tries depmod writes (modules.alias.bin, modules.symbols.bin,
    // modules.builtin.alias.bin), rebuilt from the text files.
    mutable IndexBuilder aliases_;
    mutable IndexBuilder symbols_;
    mutable IndexBuilder builtin_aliases_;
    std::unordered_map<std::string, std::uint32_t> priority_;  // module -> its depmod order
    std::unordered_map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> softdeps_;
};

// '-' as '_' outside [...]; false for unmatched brackets.
bool alias_normalize(std::string_view alias, std::string& out);

// kmod's name for a module file: the base name up to its first '.', '-' as '_'.
std::string module_name_of_path(std::string_view path);

// Calls `record(module, key, value)` for each `module.key=value` record of
// modules.builtin.modinfo, in order. False if the file cannot be read.
bool for_each_builtin_info(const std::string& dirname,
                           const std::function<void(std::string_view, std::string_view, std::string_view)>& record);

}  // namespace umod::index
