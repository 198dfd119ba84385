// depmod's symbol tables and dependency order: the kernel's exports (-E,
// -F), every module's exports, each import resolved to the module that
// provides it, then the topological order kmod gives modules.dep (and the
// cycles that prevent one).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <thread>

#include <fmt/format.h>

#include "index/depmod_run.h"

namespace umod::index::depmod_run {

namespace {

// "0xCRC\tname\tvmlinux\t...", fields split on blanks and tabs only: the
// three fields, or fewer when the line has fewer.
int symvers_fields(std::string_view line, std::string_view (&fields)[3]) {
    std::size_t pos = 0;
    int n = 0;
    for (; n < 3; ++n) {
        pos = line.find_first_not_of(" \t", pos);
        if (pos == std::string_view::npos) break;
        std::size_t end = std::min(line.find_first_of(" \t", pos), line.size());
        fields[n] = line.substr(pos, end - pos);
        pos = end;
    }
    return n;
}

class KernelSymbols {
public:
    KernelSymbols(Run& run, const std::string& file) : run_(run), file_(file) {
        // kmod words a bad CRC with %m, the errno left by the last failed call:
        // libkmod's open of modules.softdep, or strtoull's own.
        if (int fd = run.dir.open_file("modules.softdep"); fd >= 0)
            ::close(fd);
        else
            last_errno_ = errno;
    }

    void add(std::string_view name, bool prefix_skipped, std::uint32_t crc) {
        if (!prefix_skipped && !name.empty() && name[0] == run_.options.symbol_prefix) name.remove_prefix(1);
        auto it = run_.symbols.find(name);
        if (it == run_.symbols.end())
            run_.symbols.emplace(run_.kernel_names.emplace_back(name), SymbolOwner{nullptr, crc});
        else
            it->second = {nullptr, crc};
    }

    void symvers_line(std::string_view line, unsigned line_number) {
        std::string_view fields[3];
        if (symvers_fields(line, fields) < 3 || fields[2] != "vmlinux") return;
        std::string version(fields[0]);
        char* end = nullptr;
        errno = 0;
        unsigned long long crc = std::strtoull(version.c_str(), &end, 16);
        if (errno != 0) last_errno_ = errno;
        if (*end != '\0') {
            run_.log(kError, "%s:%u Invalid symbol version %s: %s\n", file_.c_str(), line_number, version.c_str(),
                     std::strerror(last_errno_));
            return;
        }
        add(fields[1], false, static_cast<std::uint32_t>(crc));
    }

    // "ADDRESS TYPE NAME": the third field, from the second blank on.
    void system_map_line(const char* text, unsigned line_number) {
        std::string_view line = text;
        std::size_t first = line.find(' ');
        std::size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
        if (second == std::string_view::npos) {
            run_.log(kError, "%s:%u: invalid line: %s\n", file_.c_str(), line_number, text);
            return;
        }
        std::string_view name = line.substr(second + 1);
        if (!name.empty() && name[0] == run_.options.symbol_prefix) name.remove_prefix(1);
        if (!name.starts_with("__ksymtab_")) return;
        name.remove_prefix(10);
        if (auto nl = name.find('\n'); nl != std::string_view::npos) name = name.substr(0, nl);
        add(name, true, 0);
    }

private:
    Run& run_;
    const std::string& file_;
    int last_errno_ = 0;
};

// Modules left unsorted are in cycles or are needed by one. As kmod 30 does:
// from each unsorted module (array order) not yet part of a reported cycle,
// walk its dependencies depth first, last dependency first, and report every
// path that comes back to it. kmod keeps its visited marks from walk to walk:
// a module it then starts from that an earlier walk went through (and that
// has dependencies) is reported as a cycle of its own name alone, counting no
// module — its quirk, kept so the output is the same. (Where kmod's walk
// never ends, on a cycle that does not pass through the module it started
// from, this one skips what is already on its path.)
DependencyCycles find_cycles(const std::vector<Module*>& modules, const std::vector<int>& users) {
    DependencyCycles result;
    std::vector<char> in_cycle(modules.size(), 0), visited(modules.size(), 0);
    std::vector<Module*> path;
    std::vector<char> on_path(modules.size(), 0);
    Module* start = nullptr;
    std::function<void(Module*)> walk = [&](Module* m) {
        path.push_back(m);
        on_path[m->idx] = 1;
        visited[m->idx] = 1;
        for (auto it = m->deps.rbegin(); it != m->deps.rend(); ++it) {
            Module* d = *it;
            if (users[d->idx] == 0) continue;  // sorted: in no cycle
            if (d == start) {
                std::vector<std::string> cycle;
                for (Module* p : path) {
                    cycle.push_back(p->name);
                    in_cycle[p->idx] = 1;
                }
                cycle.push_back(d->name);
                result.cycles.push_back(std::move(cycle));
            } else if (!on_path[d->idx]) {
                walk(d);
            }
        }
        on_path[m->idx] = 0;
        path.pop_back();
    };
    for (Module* m : modules) {
        if (users[m->idx] == 0 || in_cycle[m->idx]) continue;
        if (visited[m->idx]) {
            if (!m->deps.empty()) result.cycles.push_back({m->name});
            continue;
        }
        start = m;
        walk(m);
    }
    result.modules = static_cast<std::size_t>(std::count(in_cycle.begin(), in_cycle.end(), 1));
    return result;
}

}  // namespace

// The kernel's own exports: Module.symvers's vmlinux lines (-E) or
// System.map's __ksymtab_ entries (-F), then the names the kernel loader
// provides itself.
Status load_kernel_symbols(Run& run) {
    const DepmodOptions& options = run.options;
    const std::string& file = options.symvers.empty() ? options.system_map : options.symvers;
    std::FILE* in = std::fopen(file.c_str(), "re");
    if (in == nullptr) {
        int code = errno;
        return fatal(code, fmt::format("could not load {}: {}", file, std::strerror(code)));
    }
    KernelSymbols symbols(run, file);
    char buffer[10240];
    unsigned line_number = 0;
    while (std::fgets(buffer, sizeof buffer, in) != nullptr) {
        ++line_number;
        if (!options.symvers.empty())
            symbols.symvers_line(buffer, line_number);
        else
            symbols.system_map_line(buffer, line_number);
    }
    std::fclose(in);
    symbols.add("__this_module", true, 0);
    symbols.add("_GLOBAL_OFFSET_TABLE_", true, 0);
    if (!run.symbols.contains("TOC.")) symbols.add("TOC.", true, 0);
    return {};
}

void resolve_dependencies(Run& run) {
    const DepmodOptions& options = run.options;
    const bool kernel_symbols = !options.symvers.empty() || !options.system_map.empty();
    const bool print_unknown = options.show_unknown && kernel_symbols && run.kernel;
    const bool check_versions = print_unknown && !options.symvers.empty();
    auto strip_prefix = [&](std::string_view name) {
        if (!name.empty() && name[0] == options.symbol_prefix) name.remove_prefix(1);
        return name;
    };
    for (Module* m : run.modules)
        for (const Module::Export& e : m->exports) run.symbols[strip_prefix(m->export_name(e))] = {m, e.crc};

    // Module m's dependencies in first-reference order (its users counted
    // later), with kmod's warnings and -v's lines; run.symbols is only read.
    auto resolve = [&](Module* m) {
        for (const Module::Import& imp : m->imports) {
            const std::string_view import = m->import_name(imp);
            const int size = static_cast<int>(import.size());
            std::string_view name = import;
            if (!name.empty() && name[0] == '.') name.remove_prefix(1);
            auto it = run.symbols.find(strip_prefix(name));
            if (it == run.symbols.end()) {
                if (print_unknown && !imp.weak)
                    run.log(kWarning, "%s needs unknown symbol %.*s\n", m->path.c_str(), size, import.data());
                continue;
            }
            if (check_versions && !imp.weak && imp.crc != it->second.crc)
                run.log(kWarning, "%s disagrees about version of symbol %.*s\n", m->path.c_str(), size, import.data());
            Module* owner = it->second.owner;
            if (owner == nullptr || std::find(m->deps.begin(), m->deps.end(), owner) != m->deps.end()) continue;
            m->deps.push_back(owner);
            if (options.verbose > 0) {
                std::fprintf(run.out, "%s needs \"%.*s\": %s\n", m->path.c_str(), static_cast<int>(it->first.size()),
                             it->first.data(), owner->path.c_str());
                std::fflush(run.out);
            }
        }
        m->imports = {};  // resolved: not needed again
        m->import_names = {};
    };
    // Nothing printed: a real tree's modules on two threads; else in order.
    if (options.verbose == 0 && !print_unknown && run.modules.size() >= 64) {
        std::atomic<std::size_t> next{0};
        auto work = [&] {
            for (std::size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < run.modules.size();)
                resolve(run.modules[i]);
        };
        std::jthread helper(work);
        work();
    } else {
        for (Module* m : run.modules) resolve(m);
    }
    for (Module* m : run.modules)
        for (Module* d : m->deps) ++d->users;
}

// Kahn's algorithm with a LIFO stack, as kmod's.
Status sort_dependencies(Run& run) {
    std::vector<Module*> stack;
    std::vector<int> users(run.modules.size());
    for (Module* m : run.modules) {
        users[m->idx] = m->users;
        if (m->users == 0) stack.push_back(m);
    }
    std::uint32_t n = 0;
    while (!stack.empty()) {
        Module* m = stack.back();
        stack.pop_back();
        m->dep_sort_idx = n++;
        for (Module* dep : m->deps)
            if (--users[dep->idx] == 0) stack.push_back(dep);
    }
    if (n < run.modules.size()) return Error::with(ELOOP, find_cycles(run.modules, users));
    return {};
}

}  // namespace umod::index::depmod_run
