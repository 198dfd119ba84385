#include "index/modprobe.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace umod::index {

bool alias_normalize(std::string_view alias, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < alias.size(); ++i) {
        char c = alias[i];
        if (c == '[') {
            std::size_t close = alias.find(']', i);
            if (close == std::string_view::npos) return false;
            out += alias.substr(i, close - i + 1);
            i = close;
        } else if (c == ']') {
            return false;
        } else {
            out += c == '-' ? '_' : c;
        }
    }
    return true;
}

std::string module_name_of_path(std::string_view path) {
    if (auto slash = path.rfind('/'); slash != std::string_view::npos) path.remove_prefix(slash + 1);
    std::string name(path.substr(0, path.find('.')));
    for (char& c : name)
        if (c == '-') c = '_';
    return name;
}

bool for_each_builtin_info(const std::string& dirname,
                           const std::function<void(std::string_view, std::string_view, std::string_view)>& record) {
    std::ifstream in(dirname + "/modules.builtin.modinfo", std::ios::binary);
    if (!in) return false;
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (std::size_t pos = 0; pos < all.size();) {
        std::size_t end = all.find('\0', pos);
        if (end == std::string::npos) end = all.size();
        std::string_view entry(all.data() + pos, end - pos);
        pos = end + 1;
        std::size_t dot = entry.find('.'), eq = entry.find('=');
        if (dot == std::string_view::npos || eq == std::string_view::npos || eq < dot) continue;
        record(entry.substr(0, dot), entry.substr(dot + 1, eq - dot - 1), entry.substr(eq + 1));
    }
    return true;
}

Expected<ModuleIndex> ModuleIndex::open(const std::string& dirname) {
    ModuleIndex index;
    index.dirname_ = dirname;
    std::ifstream dep(dirname + "/modules.dep");
    if (!dep) return Error(errno ? errno : ENOENT, dirname + "/modules.dep: " + std::strerror(errno ? errno : ENOENT));
    for (std::string line; std::getline(dep, line);) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        IndexedModule m;
        std::string rel = line.substr(0, colon);
        m.path = rel[0] == '/' ? rel : dirname + "/" + rel;
        m.name = module_name_of_path(rel);
        std::istringstream rest(line.substr(colon + 1));
        for (std::string d; rest >> d;) m.deps.push_back(module_name_of_path(d));
        index.priority_.emplace(m.name, static_cast<std::uint32_t>(index.priority_.size()));
        index.modules_[m.name] = std::move(m);
    }
    {
        std::ifstream in(dirname + "/modules.softdep");
        for (std::string line; std::getline(in, line);) {
            std::istringstream words(line);
            std::string kind, module, word;
            if (!(words >> kind >> module) || kind != "softdep") continue;
            // kmod uses the first softdep line of a module and ignores the others.
            if (index.softdeps_.count(module)) continue;
            auto& [pre, post] = index.softdeps_[module];
            std::vector<std::string>* into = nullptr;
            while (words >> word) {
                if (word == "pre:") into = &pre;
                else if (word == "post:") into = &post;
                else if (into != nullptr) into->push_back(word);
            }
        }
    }
    {
        std::ifstream in(dirname + "/modules.builtin");
        for (std::string line; std::getline(in, line);) {
            if (line.empty()) continue;
            IndexedModule m;
            m.name = module_name_of_path(line);
            m.builtin = true;
            index.modules_.emplace(m.name, std::move(m));
        }
    }
    for_each_builtin_info(dirname, [&](std::string_view module, std::string_view key, std::string_view value) {
        auto it = index.modules_.find(std::string(module));
        if (it != index.modules_.end() && it->second.builtin) it->second.builtin_info.emplace_back(key, value);
    });
    return index;
}

void ModuleIndex::load_aliases() const {
    if (aliases_loaded_) return;
    aliases_loaded_ = true;
    const std::string& dirname = dirname_;
    std::string normal;
    auto read_aliases = [&](const std::string& file, IndexBuilder& into, bool normalize) {
        std::ifstream in(file);
        for (std::string line; std::getline(in, line);) {
            std::istringstream words(line);
            std::string kind, pattern, module;
            if (!(words >> kind >> pattern >> module) || kind != "alias") continue;
            auto priority = priority_.find(module);
            std::uint32_t p = priority == priority_.end() ? 0 : priority->second;
            if (!normalize)
                into.insert(pattern, module, p);
            else if (alias_normalize(pattern, normal))
                into.insert(normal, module, p);
        }
    };
    read_aliases(dirname + "/modules.alias", aliases_, true);
    read_aliases(dirname + "/modules.symbols", symbols_, false);
    for_each_builtin_info(dirname, [&](std::string_view module, std::string_view key, std::string_view value) {
        if (key == "alias" && alias_normalize(value, normal)) builtin_aliases_.insert(normal, module, 0);
    });
}

std::vector<const IndexedModule*> ModuleIndex::lookup_builtin(const std::string& normal) const {
    // A built-in module's own name first, then the built-in aliases.
    if (const IndexedModule* m = find(normal); m != nullptr && m->builtin) return {m};
    load_aliases();
    std::vector<const IndexedModule*> out;
    for (const std::string& module : builtin_aliases_.search_wild(normal))
        if (const IndexedModule* m = find(module)) out.push_back(m);
    return out;
}

std::vector<const IndexedModule*> ModuleIndex::lookup_name(std::string_view name) const {
    std::string normal;
    if (!alias_normalize(name, normal)) return {};
    if (const IndexedModule* m = find(normal); m != nullptr && !m->builtin) return {m};
    return lookup_builtin(normal);
}

const IndexedModule* ModuleIndex::find(std::string_view name) const {
    auto it = modules_.find(std::string(name));
    return it == modules_.end() ? nullptr : &it->second;
}

std::vector<const IndexedModule*> ModuleIndex::lookup(std::string_view name) const {
    std::vector<const IndexedModule*> out;
    std::string normal;
    if (!alias_normalize(name, normal)) return out;
    if (const IndexedModule* m = find(normal); m != nullptr && !m->builtin) return {m};
    load_aliases();
    auto modules_for = [&](const IndexBuilder& trie, const std::string& key) {
        for (const std::string& module : trie.search_wild(key))
            if (const IndexedModule* m = find(module)) out.push_back(m);
    };
    if (normal.starts_with("symbol:")) modules_for(symbols_, normal);
    if (!out.empty()) return out;
    modules_for(aliases_, normal);
    if (!out.empty()) return out;
    return lookup_builtin(normal);
}

void ModuleIndex::probe(const IndexedModule& m, std::vector<const IndexedModule*>& out,
                        std::map<std::string, bool>& visited) const {
    if (visited[m.name]) return;
    visited[m.name] = true;
    for (auto it = m.deps.rbegin(); it != m.deps.rend(); ++it)
        if (const IndexedModule* dep = find(*it)) fill_softdeps(*dep, out, visited);
    fill_softdeps(m, out, visited);
}

void ModuleIndex::fill_softdeps(const IndexedModule& m, std::vector<const IndexedModule*>& out,
                                std::map<std::string, bool>& visited) const {
    auto soft = softdeps_.find(m.name);
    if (soft != softdeps_.end())
        for (const std::string& pre : soft->second.first)
            for (const IndexedModule* p : lookup(pre)) probe(*p, out, visited);
    out.push_back(&m);
    if (soft != softdeps_.end())
        for (const std::string& post : soft->second.second)
            for (const IndexedModule* p : lookup(post)) probe(*p, out, visited);
}

std::vector<const IndexedModule*> ModuleIndex::probe_list(const IndexedModule& module) const {
    std::vector<const IndexedModule*> out;
    std::map<std::string, bool> visited;
    probe(module, out, visited);
    return out;
}

}  // namespace umod::index
