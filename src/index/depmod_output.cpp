// depmod's output files, as kmod's depfiles table: each file with its
// writer, in kmod's order. Every file is made in memory first (on two
// threads), then -n prints the text files; otherwise each is written to a
// temporary file in the module directory and renamed into place in kmod's
// order, so a failure leaves the earlier files new and the later ones as they
// were. What a writer logs is printed when its file is written.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <iterator>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "index/config_files.h"
#include "index/depmod_run.h"
#include "index/index_file.h"
#include "index/kmod_hash.h"
#include "index/modprobe.h"

namespace umod::index::depmod_run {

namespace {

using ExportedSymbols = std::vector<std::pair<std::string_view, const Module*>>;

// What the writers share, made once for a text file and its index.
struct Outputs {
    Run& run;
    std::vector<std::string> dep_lines;  // modules.dep's, by Module::idx
    ExportedSymbols symbols;             // modules.symbols's, in order
};

// "PATH: DEP..." for each module, its dependencies' closure in
// topological order.
void make_dep_lines(Outputs& o) {
    const std::vector<Module*>& modules = o.run.modules;
    o.dep_lines.resize(modules.size());
    std::vector<std::uint32_t> seen(modules.size(), 0);  // the generation (module idx + 1) that saw it
    std::vector<Module*> closure, stack;
    for (Module* m : modules) {
        const std::uint32_t generation = m->idx + 1;
        closure.clear();
        stack.assign(m->deps.begin(), m->deps.end());
        while (!stack.empty()) {
            Module* d = stack.back();
            stack.pop_back();
            if (seen[d->idx] == generation) continue;
            seen[d->idx] = generation;
            closure.push_back(d);
            stack.insert(stack.end(), d->deps.begin(), d->deps.end());
        }
        std::sort(closure.begin(), closure.end(),
                  [](const Module* a, const Module* b) { return a->dep_sort_idx < b->dep_sort_idx; });
        std::string& line = o.dep_lines[m->idx];
        line = m->listed_path() + ":";
        for (Module* d : closure) {
            line += ' ';
            line += d->listed_path();
        }
    }
}

void output_deps(Outputs& o, const Log&, std::string& out) {
    if (o.dep_lines.empty()) make_dep_lines(o);
    for (const std::string& line : o.dep_lines) {
        out += line;
        out += '\n';
    }
}

void output_deps_bin(Outputs& o, const Log&, std::string& out) {
    if (o.dep_lines.empty()) make_dep_lines(o);
    IndexBuilder index;
    for (const Module* m : o.run.modules) index.insert(m->name, o.dep_lines[m->idx], m->idx);
    o.dep_lines = {};  // the last user
    out = index.serialize();
}

void output_aliases(Outputs& o, const Log&, std::string& out) {
    out = "# Aliases extracted from modules themselves.\n";
    for (const Module* m : o.run.modules)
        for (const std::string& a : m->aliases) out += fmt::format("alias {} {}\n", a, m->name);
}

void output_aliases_bin(Outputs& o, const Log& log, std::string& out) {
    IndexBuilder index;
    std::string normal;
    std::set<std::pair<std::string, std::string>> indexed;  // -w: (key, module) pairs
    for (const Module* m : o.run.modules) {
        for (const std::string& a : m->aliases) {
            if (!alias_normalize(a, normal)) {
                log(kWarning, "Unmatched bracket in %s\n", a.c_str());
                continue;
            }
            index.insert(normal, m->name, m->idx);
            if (o.run.options.warn_duplicates && !indexed.emplace(normal, m->name).second)
                log(kWarning, "duplicate module alias:\n%s %s\n", normal.c_str(), m->name.c_str());
        }
    }
    out = index.serialize();
}

void output_softdeps(Outputs& o, const Log&, std::string& out) {
    out = "# Soft dependencies extracted from modules themselves.\n";
    for (const Module* m : o.run.modules)
        for (const std::string& s : m->softdeps) out += fmt::format("softdep {} {}\n", m->name, s);
}

// The symbols modules export, in kmod's hash order.
const ExportedSymbols& exported_symbols(Outputs& o) {
    if (!o.symbols.empty()) return o.symbols;
    struct Keyed {
        std::uint32_t bucket;
        std::string_view name;
        const Module* owner;
    };
    std::vector<Keyed> keyed;
    for (const auto& [name, owner] : o.run.symbols)
        if (owner.owner != nullptr) keyed.push_back({superfast_hash(name) & (2048 - 1), name, owner.owner});
    // hash_order_less(…, 2048), each key hashed once.
    std::sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
        return a.bucket != b.bucket ? a.bucket < b.bucket : a.name < b.name;
    });
    o.symbols.reserve(keyed.size());
    for (const Keyed& k : keyed) o.symbols.emplace_back(k.name, k.owner);
    return o.symbols;
}

void output_symbols(Outputs& o, const Log&, std::string& out) {
    out = "# Aliases for symbols, used by symbol_request().\n";
    for (const auto& [name, owner] : exported_symbols(o)) out += fmt::format("alias symbol:{} {}\n", name, owner->name);
}

void output_symbols_bin(Outputs& o, const Log&, std::string& out) {
    IndexBuilder index;
    std::string key = "symbol:";
    for (const auto& [name, owner] : exported_symbols(o)) {
        key.resize(7);
        key += name;
        index.insert(key, owner->name, owner->idx);
    }
    out = index.serialize();
}

// modules.builtin's lines as fgets(…, 4096) reads them.
void output_builtin_bin(Outputs& o, const Log& log, std::string& out) {
    std::string text;
    if (!o.run.dir.read_file("modules.builtin", text)) {
        if (o.run.kernel)
            log(kWarning, "could not open modules.builtin at %s: %s\n", o.run.dir.name().c_str(),
                      std::strerror(errno));
        return;  // no file
    }
    IndexBuilder index;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t newline = text.find('\n', pos);
        std::size_t end = std::min(newline == std::string::npos ? text.size() : newline + 1, pos + 4095);
        std::string_view line = std::string_view(text).substr(pos, end - pos);
        pos = end;
        if (!std::isalpha(static_cast<unsigned char>(line[0]))) {
            log(kError, "Invalid modules.builtin line: %.*s\n", static_cast<int>(line.size()), line.data());
            continue;
        }
        if (line.ends_with('\n')) line.remove_suffix(1);
        index.insert(module_name_of_path(line), "", 0);
    }
    out = index.serialize();
}

void output_builtin_alias_bin(Outputs& o, const Log& log, std::string& out) {
    std::string text;
    if (!o.run.dir.read_file("modules.builtin.modinfo", text)) {
        if (o.run.kernel)
            log(kWarning, "could not open modules.builtin.modinfo at %s: %s\n", o.run.dir.name().c_str(),
                      std::strerror(errno));
        return;  // no file
    }
    IndexBuilder index;
    std::string normal;
    parse_builtin_modinfo(text, [&](std::string_view module, std::string_view key, std::string_view value) {
        if (key != "alias") return;
        if (alias_normalize(value, normal))
            index.insert(normal, module, 0);
        else
            log(kWarning, "Unmatched bracket in %.*s\n", static_cast<int>(value.size()), value.data());
    });
    out = index.serialize();
}

// The node a module's aliases ask for: "devname:NAME" with "char-major-M-N"
// or "block-major-M-N".
void output_devname(Outputs& o, const Log& log, std::string& out) {
    for (const Module* m : o.run.modules) {
        std::string dev_name;
        char dev_type = 0;
        unsigned major = 0, minor = 0;
        for (const std::string& a : m->aliases) {
            unsigned maj = 0, min = 0;
            if (a.starts_with("devname:")) {
                dev_name = a.substr(8);
            } else if (std::sscanf(a.c_str(), "char-major-%u-%u", &maj, &min) == 2) {
                dev_type = 'c', major = maj, minor = min;
            } else if (std::sscanf(a.c_str(), "block-major-%u-%u", &maj, &min) == 2) {
                dev_type = 'b', major = maj, minor = min;
            }
            if (!dev_name.empty() && dev_type != 0) break;
        }
        if (dev_name.empty()) continue;
        if (dev_type == 0) {
            log(kError, "Module '%s' has devname (%s) but lacks major and minor information. Ignoring.\n",
                      m->name.c_str(), dev_name.c_str());
            continue;
        }
        if (out.empty()) out = "# Device nodes to trigger on-demand module loading.\n";
        out += fmt::format("{} {} {}{}:{}\n", m->name, dev_name, dev_type, major, minor);
    }
}

enum class Kind { Text, Index };  // -n prints the text files and makes no index

struct OutputFile {
    const char* name;
    Kind kind;
    void (*write)(Outputs&, const Log&, std::string&);
    int group;  // files made together (they share what they are made from)
};

// kmod's depfiles, in its order.
constexpr OutputFile kOutputFiles[] = {
    {"modules.dep", Kind::Text, output_deps, 2},
    {"modules.dep.bin", Kind::Index, output_deps_bin, 2},
    {"modules.alias", Kind::Text, output_aliases, 3},
    {"modules.alias.bin", Kind::Index, output_aliases_bin, 0},
    {"modules.softdep", Kind::Text, output_softdeps, 4},
    {"modules.symbols", Kind::Text, output_symbols, 1},
    {"modules.symbols.bin", Kind::Index, output_symbols_bin, 1},
    {"modules.builtin.bin", Kind::Index, output_builtin_bin, 5},
    {"modules.builtin.alias.bin", Kind::Index, output_builtin_alias_bin, 6},
    {"modules.devname", Kind::Text, output_devname, 7},
};
// Groups are numbered largest first: the order the threads take them in.
constexpr int kGroups = 8;

// One file's bytes and what its writer logged, made before any is written.
struct Made {
    std::string content;
    std::string log;
};

// Makes the files of group `group` (those -n wants), in kOutputFiles order,
// each logging to its own buffer.
void make_group(Outputs& o, int group, std::vector<Made>& made) {
    for (std::size_t i = 0; i < std::size(kOutputFiles); ++i) {
        const OutputFile& file = kOutputFiles[i];
        if (file.group != group || (o.run.options.dry_run && file.kind == Kind::Index)) continue;
        char* text = nullptr;
        std::size_t size = 0;
        std::FILE* buffer = o.run.log.file() != nullptr ? open_memstream(&text, &size) : nullptr;
        file.write(o, Log(buffer, o.run.log.verbosity()), made[i].content);
        if (buffer != nullptr && std::fclose(buffer) == 0) made[i].log.assign(text, size);
        std::free(text);
    }
}

// Writes `content` to `name` in the module directory through a temporary
// file there, renamed into place: readers see the old file or the new one,
// never a part.
Status write_file(const ModuleDir& dir, const std::string& name, const std::string& content) {
    const int dfd = dir.fd();
    std::string tmp = fmt::format("{}.{}.tmp", name, getpid());
    int fd = ::openat(dfd, tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) {
        int code = errno;
        return fatal(code, fmt::format("could not write index '{}': {}", name, std::strerror(code)));
    }
    int code = 0;
    for (std::size_t done = 0; done < content.size() && code == 0;) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) code = n < 0 ? errno : EIO;
        else done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0 && code == 0) code = errno;
    if (code != 0) {
        ::unlinkat(dfd, tmp.c_str(), 0);
        return fatal(code, fmt::format("could not write index '{}': {}", name, std::strerror(code)));
    }
    if (::renameat(dfd, tmp.c_str(), dfd, name.c_str()) != 0) {
        code = errno;
        ::unlinkat(dfd, tmp.c_str(), 0);
        const std::string& d = dir.name();
        return fatal(code, fmt::format("renameat({}, {}, {}, {}): {}", d, tmp, d, name, std::strerror(code)));
    }
    return {};
}

}  // namespace

Status write_outputs(Run& run) {
    const bool dry_run = run.options.dry_run;
    if (!dry_run && run.dir.fd() < 0) {
        int code = run.dir.open_error();
        return fatal(code, fmt::format("could not open directory {}: {}", run.dir.name(), std::strerror(code)));
    }
    // Every file is made first, on two threads for a real tree (the groups
    // share nothing but the run, which they only read), then written in
    // kmod's order with what its writer logged.
    Outputs outputs{run, {}, {}};
    std::vector<Made> made(std::size(kOutputFiles));
    std::atomic<int> next{0};
    auto work = [&] {
        for (int group; (group = next.fetch_add(1, std::memory_order_relaxed)) < kGroups;)
            make_group(outputs, group, made);
    };
    {
        std::vector<std::jthread> helpers;
        if (run.modules.size() >= 64) helpers.emplace_back(work);
        work();
    }
    for (std::size_t i = 0; i < std::size(kOutputFiles); ++i) {
        const OutputFile& file = kOutputFiles[i];
        if (dry_run && file.kind == Kind::Index) continue;
        if (!made[i].log.empty()) std::fwrite(made[i].log.data(), 1, made[i].log.size(), run.log.file());
        if (dry_run)
            std::fwrite(made[i].content.data(), 1, made[i].content.size(), run.out);
        else if (Status written = write_file(run.dir, file.name, made[i].content); !written)
            return written;
        made[i] = {};
    }
    return {};
}

}  // namespace umod::index::depmod_run
