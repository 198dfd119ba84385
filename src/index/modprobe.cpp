#include "index/modprobe.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "index/config_files.h"

#include "elf/module_name.h"

namespace umod::index {

void describe_error(const UnmatchedBracket& e, std::string& out) {
    out += "unmatched bracket in '" + e.alias + "'";
}

Status alias_normalize(std::string_view alias, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < alias.size(); ++i) {
        char c = alias[i];
        if (c == '[') {
            std::size_t close = alias.find(']', i);
            if (close == std::string_view::npos) return Error::with(EINVAL, UnmatchedBracket{std::string(alias)});
            out += alias.substr(i, close - i + 1);
            i = close;
        } else if (c == ']') {
            return Error::with(EINVAL, UnmatchedBracket{std::string(alias)});
        } else {
            out += c == '-' ? '_' : c;
        }
    }
    return {};
}

std::string module_name_of_path(std::string_view path) { return elf::module_name_of_file(path); }

void parse_builtin_modinfo(std::string_view all,
                           const std::function<void(std::string_view, std::string_view, std::string_view)>& record) {
    for (std::size_t pos = 0; pos < all.size();) {
        std::size_t end = all.find('\0', pos);
        if (end == std::string_view::npos) end = all.size();
        std::string_view entry = all.substr(pos, end - pos);
        pos = end + 1;
        std::size_t dot = entry.find('.'), eq = entry.find('=');
        if (dot == std::string_view::npos || eq == std::string_view::npos || eq < dot) continue;
        record(entry.substr(0, dot), entry.substr(dot + 1, eq - dot - 1), entry.substr(eq + 1));
    }
}

Status read_builtin_modinfo(const std::string& dirname,
                            const std::function<void(std::string_view, std::string_view, std::string_view)>& record) {
    std::string path = dirname + "/modules.builtin.modinfo";
    std::string text;
    if (!read_text_at(AT_FDCWD, path.c_str(), text)) {
        int code = errno;
        return Error(code, path + ": " + std::strerror(code));
    }
    parse_builtin_modinfo(text, record);
    return {};
}

std::string_view index_base_name(IndexKind kind) {
    switch (kind) {
        case IndexKind::Dep: return "modules.dep";
        case IndexKind::Alias: return "modules.alias";
        case IndexKind::Symbols: return "modules.symbols";
        case IndexKind::BuiltinAlias: return "modules.builtin.alias";
        case IndexKind::Builtin: return "modules.builtin";
    }
    return "";
}

// ---- ModuleIndex -------------------------------------------------------------

ModuleIndex ModuleIndex::open(const std::string& dirname) {
    ModuleIndex index;
    index.dirname_ = dirname;
    bool reporting = true;  // libkmod stops mapping (and reporting) at the first failure
    // The directory opened once, each index relative to it (by path when it
    // cannot be opened: each index then fails as its own open would).
    int dfd = ::open(dirname.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    std::string file;
    for (std::size_t i = 0; i < kIndexKinds; ++i) {
        auto kind = static_cast<IndexKind>(i);
        file.assign(index_base_name(kind)).append(".bin");
        std::string path = dirname + "/" + file;
        auto reader = dfd >= 0 ? IndexReader::open_at(dfd, file.c_str(), path) : IndexReader::open(path);
        if (reader) {
            index.indexes_[i].emplace(std::move(*reader));
            continue;
        }
        if (!reporting) continue;
        if (const auto* bad = reader.error().detail<IndexFormatError>();
            bad != nullptr && bad->kind != IndexFormatError::Kind::TooShort)
            index.load_errors_.push_back(reader.error());
        // modules.builtin.alias.bin is optional to libkmod: it carries on without it.
        if (kind != IndexKind::BuiltinAlias) reporting = false;
    }
    if (dfd >= 0) ::close(dfd);
    return index;
}

Expected<std::optional<std::string_view>> ModuleIndex::dep_line(std::string_view module) const {
    const auto& dep = indexes_[static_cast<std::size_t>(IndexKind::Dep)];
    if (!dep) return std::optional<std::string_view>();
    return dep->search(module);
}

Expected<bool> ModuleIndex::is_builtin(std::string_view module) const {
    const auto& builtin = indexes_[static_cast<std::size_t>(IndexKind::Builtin)];
    if (!builtin) return false;
    auto found = builtin->search(module);
    if (!found) return found.error();
    return found->has_value();
}

Expected<std::vector<std::string_view>> ModuleIndex::search_wild(IndexKind kind, std::string_view key) const {
    std::vector<std::string_view> names;
    const auto& index = indexes_[static_cast<std::size_t>(kind)];
    if (!index) return names;
    auto values = index->search_wild(key);
    if (!values) return values.error();
    names.reserve(values->size());
    for (const IndexValue& v : *values) names.push_back(v.value);
    return names;
}

Status ModuleIndex::dump(IndexKind kind, std::string_view prefix,
                         const std::function<void(std::string_view)>& write) const {
    const auto& index = indexes_[static_cast<std::size_t>(kind)];
    if (!index) return {};
    return index->dump(prefix, write);
}

// ---- ModprobeSession -----------------------------------------------------------

ProbeModule* ModprobeSession::module(std::string_view name, const std::optional<std::string_view>& alias) {
    std::string key(name);
    if (alias) {
        key += '\\';
        key += *alias;
    }
    auto& slot = pool_[key];
    if (!slot) {
        slot = std::make_unique<ProbeModule>();
        slot->name = std::string(name);
        if (alias) slot->alias = std::string(*alias);
    }
    return slot.get();
}

Status ModprobeSession::load_dependencies(ProbeModule& m) {
    if (m.dep_loaded) return {};
    auto line = index_.dep_line(m.name);
    if (!line) return line.error();
    m.dep_loaded = true;
    if (!*line) return {};
    std::string_view l = **line;
    std::size_t colon = l.find(':');
    if (colon == std::string_view::npos) return {};
    auto join = [&](std::string_view rel) {
        return rel.starts_with('/') ? std::string(rel) : index_.dirname() + "/" + std::string(rel);
    };
    if (m.path.empty()) m.path = join(l.substr(0, colon));
    // libkmod prepends each dependency: the list comes out most basic first.
    std::vector<ProbeModule*> deps;
    for (std::size_t i = colon + 1; i < l.size();) {
        while (i < l.size() && (l[i] == ' ' || l[i] == '\t')) ++i;
        std::size_t start = i;
        while (i < l.size() && l[i] != ' ' && l[i] != '\t') ++i;
        if (i == start) break;
        std::string path = join(l.substr(start, i - start));
        ProbeModule* dep = module(module_name_of_path(path), std::nullopt);
        if (dep->path.empty()) dep->path = path;
        dep->builtin = ProbeModule::Builtin::No;
        deps.push_back(dep);
    }
    m.deps.assign(deps.rbegin(), deps.rend());
    return {};
}

Status ModprobeSession::lookup_aliases(IndexKind kind, const std::string& normal, std::vector<ProbeModule*>& out) {
    auto names = index_.search_wild(kind, normal);
    if (!names) return names.error();
    for (std::string_view name : *names) out.push_back(module(name, std::string_view(normal)));
    return {};
}

Status ModprobeSession::lookup_builtin(const std::string& normal, std::vector<ProbeModule*>& out) {
    auto builtin = index_.is_builtin(normal);
    if (!builtin) return builtin.error();
    if (*builtin) {
        ProbeModule* m = module(normal, std::nullopt);
        m->builtin = ProbeModule::Builtin::Yes;
        out.push_back(m);
        return {};
    }
    return lookup_aliases(IndexKind::BuiltinAlias, normal, out);
}

Status ModprobeSession::lookup_chain(const std::string& normal, bool with_config, std::vector<ProbeModule*>& out) {
    if (with_config) {
        for (const ConfigAlias& a : config_.aliases)
            if (fnmatch(a.name.c_str(), normal.c_str(), 0) == 0)
                out.push_back(module(a.modname, std::string_view(a.name)));
        if (!out.empty()) return {};
    }
    if (normal.find(':') == std::string::npos) {  // module names have no ':'
        auto line = index_.dep_line(normal);
        if (!line) return line.error();
        if (*line) {
            ProbeModule* m = module(normal, std::nullopt);
            if (Status s = load_dependencies(*m); !s) return s;
            out.push_back(m);
            return {};
        }
    }
    if (normal.starts_with("symbol:")) {
        if (Status s = lookup_aliases(IndexKind::Symbols, normal, out); !s || !out.empty()) return s;
    }
    if (with_config) {
        for (const ConfigCommand& c : config_.install_commands) {
            if (c.modname != normal) continue;
            ProbeModule* m = module(normal, std::nullopt);
            m->install_known = true;
            m->install = &c.command;
            out.push_back(m);
            return {};
        }
        for (const ConfigCommand& c : config_.remove_commands) {
            if (c.modname != normal) continue;
            ProbeModule* m = module(normal, std::nullopt);
            m->remove_known = true;
            m->remove = &c.command;
            out.push_back(m);
            return {};
        }
    }
    if (Status s = lookup_aliases(IndexKind::Alias, normal, out); !s || !out.empty()) return s;
    return lookup_builtin(normal, out);
}

Expected<std::vector<ProbeModule*>> ModprobeSession::lookup(std::string_view name) {
    std::string normal;
    if (Status s = alias_normalize(name, normal); !s) return s.error();
    std::vector<ProbeModule*> out;
    if (Status s = lookup_chain(normal, true, out); !s) return s.error();
    return out;
}

Expected<std::vector<ProbeModule*>> ModprobeSession::lookup_indexes(std::string_view name) {
    std::string normal;
    if (Status s = alias_normalize(name, normal); !s) return s.error();
    std::vector<ProbeModule*> out;
    if (Status s = lookup_chain(normal, false, out); !s) return s.error();
    return out;
}

ProbeModule* ModprobeSession::lookup_name_only(std::string_view name) {
    std::string normal = module_name_of_path(name);  // modname_normalize: '-' as '_', up to a '.'
    return module(normal, std::nullopt);
}

Expected<std::vector<ProbeModule*>> ModprobeSession::lookup_name(std::string_view name) {
    std::string normal;
    if (Status s = alias_normalize(name, normal); !s) return s.error();
    std::vector<ProbeModule*> out;
    auto line = index_.dep_line(normal);
    if (!line) return line.error();
    if (*line) {
        ProbeModule* m = module(normal, std::nullopt);
        if (Status s = load_dependencies(*m); !s) return s.error();
        out.push_back(m);
        return out;
    }
    if (Status s = lookup_builtin(normal, out); !s) return s.error();
    return out;
}

Expected<std::string_view> ModprobeSession::path(ProbeModule& m) {
    if (m.path.empty() && !m.dep_loaded)
        if (Status s = load_dependencies(m); !s) return s.error();
    return std::string_view(m.path);
}

Expected<bool> ModprobeSession::is_builtin(ProbeModule& m) {
    if (m.builtin == ProbeModule::Builtin::Unknown) {
        auto builtin = index_.is_builtin(m.name);
        if (!builtin) return builtin.error();
        m.builtin = *builtin ? ProbeModule::Builtin::Yes : ProbeModule::Builtin::No;
    }
    return m.builtin == ProbeModule::Builtin::Yes;
}

const std::string* ModprobeSession::install_command(ProbeModule& m) {
    if (!m.install_known) {
        m.install_known = true;
        for (const ConfigCommand& c : config_.install_commands) {
            if (fnmatch(c.modname.c_str(), m.name.c_str(), 0) == 0) {
                m.install = &c.command;
                break;
            }
        }
    }
    return m.install;
}

const std::string* ModprobeSession::remove_command(ProbeModule& m) {
    if (!m.remove_known) {
        m.remove_known = true;
        for (const ConfigCommand& c : config_.remove_commands) {
            if (fnmatch(c.modname.c_str(), m.name.c_str(), 0) == 0) {
                m.remove = &c.command;
                break;
            }
        }
    }
    return m.remove;
}

const std::optional<std::string>& ModprobeSession::options(ProbeModule& m) {
    if (!m.options_known) {
        m.options_known = true;
        for (const ConfigOptions& o : config_.options) {
            if (o.modname != m.name && !(m.alias && o.modname == *m.alias)) continue;
            if (o.options.empty()) continue;
            if (m.options)
                *m.options += ' ';
            else
                m.options.emplace();
            *m.options += o.options;
        }
    }
    return m.options;
}

bool ModprobeSession::blacklisted(const ProbeModule& m) const {
    for (const std::string& b : config_.blacklists)
        if (b == m.name) return true;
    return false;
}

Status ModprobeSession::softdep_lists(ProbeModule& m, std::vector<ProbeModule*>& pre, std::vector<ProbeModule*>& post) {
    for (const ConfigSoftdep& d : config_.softdeps) {
        if (fnmatch(d.modname.c_str(), m.name.c_str(), 0) != 0) continue;
        // Only the first matching line counts, as in module-init-tools.
        for (auto [names, into] : {std::pair{&d.pre, &pre}, std::pair{&d.post, &post}}) {
            for (const std::string& name : *names) {
                auto found = lookup(name);
                if (!found) {
                    if (found.error().detail<UnmatchedBracket>() == nullptr) return found.error();
                    if (softdep_failure_) softdep_failure_(name);
                    continue;
                }
                into->insert(into->end(), found->begin(), found->end());
            }
        }
        break;
    }
    return {};
}

Status ModprobeSession::fill_softdep(ProbeModule& m, std::vector<ProbeModule*>& out) {
    std::vector<ProbeModule*> pre, post;
    if (Status s = softdep_lists(m, pre, post); !s) return s;
    for (ProbeModule* p : pre)
        if (Status s = probe(*p, false, false, out); !s) return s;
    out.push_back(&m);  // no visited check: a dependency can be listed twice
    m.ignore_command = !pre.empty() || !post.empty();
    for (ProbeModule* p : post)
        if (Status s = probe(*p, false, false, out); !s) return s;
    return {};
}

Status ModprobeSession::probe(ProbeModule& m, bool required, bool ignore_commands, std::vector<ProbeModule*>& out) {
    if (m.visited) return {};
    m.visited = true;
    if (Status s = load_dependencies(m); !s) return s;
    std::vector<ProbeModule*> deps = m.deps;
    if (required) {
        m.required = true;
        for (ProbeModule* d : deps) d->required = true;
    }
    for (ProbeModule* d : deps)
        if (Status s = fill_softdep(*d, out); !s) return s;
    if (ignore_commands) {
        out.push_back(&m);
        m.ignore_command = true;
        return {};
    }
    return fill_softdep(m, out);
}

Expected<std::vector<ProbeModule*>> ModprobeSession::probe_list(ProbeModule& module, CommandUse commands) {
    for (auto& [key, m] : pool_) {
        m->visited = false;
        m->required = false;
    }
    std::vector<ProbeModule*> out;
    if (Status s = probe(module, true, commands == CommandUse::Ignore, out); !s) return s.error();
    return out;
}

}  // namespace umod::index
