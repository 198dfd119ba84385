// load_directory: a directory of module files, read first (no code runs),
// ordered so that each module comes after the modules it imports from, then
// loaded one by one with load_module_file.
#include <umod/loader.h>
#include <umod/plugin_directory.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

namespace umod {

void describe_error(const ImportCycle& e, std::string& out) {
    std::string path;
    for (const auto& m : e.cycle) path += (path.empty() ? "" : " -> ") + m;
    out += fmt::format("{}: not loaded: its imports form a cycle ({})", e.module, path);
}

void describe_error(const ProviderNotLoaded& e, std::string& out) {
    std::string symbols;
    for (const auto& s : e.symbols) symbols += (symbols.empty() ? "" : ", ") + s;
    out += fmt::format("{}: not loaded: it imports {} from {}, which did not load", e.module, symbols, e.provider);
}

namespace {

struct Candidate {
    std::string path;
    ModuleMetadata metadata;
    // The modules of the directory it imports from, with what (readable names).
    std::map<std::size_t, std::vector<std::string>> providers;
    std::vector<std::size_t> users;
    enum class State { Pending, Loaded, Failed } state = State::Pending;
};

// The candidates that cannot be ordered, in strongly connected components of
// more than one module (Tarjan's algorithm over the provider edges).
class Cycles {
public:
    explicit Cycles(const std::vector<Candidate>& c) : c_(c), index_(c.size(), -1), low_(c.size()), on_(c.size()) {}
    std::vector<std::vector<std::size_t>> among(const std::vector<std::size_t>& nodes) {
        for (std::size_t n : nodes)
            if (index_[n] < 0) visit(n, nodes);
        return components_;
    }

private:
    void visit(std::size_t v, const std::vector<std::size_t>& nodes) {
        index_[v] = low_[v] = next_++;
        stack_.push_back(v);
        on_[v] = true;
        for (const auto& [w, symbols] : c_[v].providers) {
            if (!std::binary_search(nodes.begin(), nodes.end(), w)) continue;
            if (index_[w] < 0) {
                visit(w, nodes);
                low_[v] = std::min(low_[v], low_[w]);
            } else if (on_[w]) {
                low_[v] = std::min(low_[v], index_[w]);
            }
        }
        if (low_[v] != index_[v]) return;
        std::vector<std::size_t> component;
        std::size_t w;
        do {
            w = stack_.back();
            stack_.pop_back();
            on_[w] = false;
            component.push_back(w);
        } while (w != v);
        if (component.size() > 1) {
            std::sort(component.begin(), component.end());
            components_.push_back(std::move(component));
        }
    }
    const std::vector<Candidate>& c_;
    std::vector<int> index_, low_;
    std::vector<bool> on_;
    std::vector<std::size_t> stack_;
    std::vector<std::vector<std::size_t>> components_;
    int next_ = 0;
};

// The shortest way from `start` back to itself inside `component`, as names.
std::vector<std::string> cycle_from(const std::vector<Candidate>& c, std::size_t start,
                                    const std::vector<std::size_t>& component) {
    std::map<std::size_t, std::size_t> came_from;
    std::deque<std::size_t> queue{start};
    while (!queue.empty()) {
        std::size_t v = queue.front();
        queue.pop_front();
        for (const auto& [w, symbols] : c[v].providers) {
            if (!std::binary_search(component.begin(), component.end(), w) || came_from.count(w)) continue;
            came_from[w] = v;
            if (w == start) {
                queue.clear();
                break;
            }
            queue.push_back(w);
        }
    }
    std::vector<std::string> names{c[start].metadata.name};
    for (std::size_t v = came_from.at(start); v != start; v = came_from.at(v)) names.push_back(c[v].metadata.name);
    names.push_back(c[start].metadata.name);
    // Walked back from start: reverse so that each imports from the next.
    std::reverse(names.begin(), names.end());
    return names;
}

}  // namespace

Expected<DirectoryLoad> load_directory(Registry& registry, const std::string& directory,
                                       const DirectoryOptions& options) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::directory_iterator it(directory, ec);
    if (ec) return Error(ec.value(), directory + ": " + ec.message());
    std::vector<std::string> paths;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        std::error_code type_ec;
        if (name.size() > options.suffix.size() && name.ends_with(options.suffix) && it->is_regular_file(type_ec))
            paths.push_back(it->path().string());
    }
    if (ec) return Error(ec.value(), directory + ": " + ec.message());
    std::sort(paths.begin(), paths.end());

    DirectoryLoad result;
    std::vector<Candidate> c;
    for (const std::string& path : paths) {
        auto metadata = read_module_metadata(path);
        if (!metadata)
            result.failed.push_back({path, module_name_from_path(path), metadata.error()});
        else
            c.push_back({path, std::move(*metadata), {}, {}});
    }

    // Provider edges: an import the registry does not export already, which
    // another file of the directory exports (the first by file name).
    std::unordered_map<std::string, std::size_t> exporter;
    for (std::size_t i = 0; i < c.size(); ++i)
        for (const ExportInfo& e : c[i].metadata.exports) exporter.emplace(e.link_name, i);
    for (std::size_t i = 0; i < c.size(); ++i)
        for (const ImportInfo& import : c[i].metadata.imports) {
            if (registry.exports(import.link_name)) continue;
            auto found = exporter.find(import.link_name);
            if (found == exporter.end() || found->second == i) continue;
            auto& symbols = c[i].providers[found->second];
            if (symbols.empty()) c[found->second].users.push_back(i);
            symbols.push_back(import.name);
        }

    // Providers first; among the ready ones, by file name.
    std::vector<std::size_t> order;
    std::vector<std::size_t> waiting(c.size());
    std::set<std::size_t> ready;
    for (std::size_t i = 0; i < c.size(); ++i)
        if ((waiting[i] = c[i].providers.size()) == 0) ready.insert(i);
    while (!ready.empty()) {
        std::size_t v = *ready.begin();
        ready.erase(ready.begin());
        order.push_back(v);
        for (std::size_t u : c[v].users)
            if (--waiting[u] == 0) ready.insert(u);
    }

    auto fail = [&](std::size_t i, Error error) {
        c[i].state = Candidate::State::Failed;
        result.failed.push_back({c[i].path, c[i].metadata.name, std::move(error)});
    };
    // Fails `i` if one of its providers did not load; true if it did.
    auto provider_failed = [&](std::size_t i) {
        for (const auto& [p, symbols] : c[i].providers)
            if (c[p].state == Candidate::State::Failed) {
                fail(i, Error::with(ENOENT, ProviderNotLoaded{c[i].metadata.name, c[p].metadata.name, symbols}));
                return true;
            }
        return false;
    };
    for (std::size_t i : order) {
        if (provider_failed(i)) continue;
        static const std::vector<std::string> none;
        auto params = options.params.find(c[i].metadata.name);
        auto loaded = load_module_file(registry, c[i].path, params == options.params.end() ? none : params->second);
        if (!loaded) {
            fail(i, loaded.error());
            continue;
        }
        c[i].state = Candidate::State::Loaded;
        result.loaded.push_back({c[i].path, *loaded});
    }

    // What could not be ordered: cycles, then what depends on them.
    std::vector<std::size_t> rest;
    for (std::size_t i = 0; i < c.size(); ++i)
        if (c[i].state == Candidate::State::Pending) rest.push_back(i);
    for (const auto& component : Cycles(c).among(rest))
        for (std::size_t i : component)
            fail(i, Error::with(ELOOP, ImportCycle{c[i].metadata.name, cycle_from(c, i, component)}));
    for (bool progress = true; progress;) {
        progress = false;
        for (std::size_t i : rest)
            if (c[i].state == Candidate::State::Pending && provider_failed(i)) progress = true;
    }

    std::stable_sort(result.failed.begin(), result.failed.end(),
                     [](const auto& a, const auto& b) { return a.path < b.path; });
    return result;
}

}  // namespace umod
