// modprobe's resolution as libkmod 30 does it, over a module directory's
// binary indexes read in place (modules.dep.bin, .alias.bin, .symbols.bin,
// .builtin.alias.bin, .builtin.bin) and the modprobe.d configuration: a name
// or alias to modules, and a module to the ordered list of what loading it
// loads (dependencies, soft dependencies, install commands, options).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <umod/expected.h>

#include "index/index_file.h"
#include "index/modprobe_config.h"

namespace umod::index {

// EINVAL — a name or alias with a '[' and no ']' after it, or a ']' alone.
struct UnmatchedBracket {
    std::string alias;
};
void describe_error(const UnmatchedBracket& e, std::string& out);

// libkmod's alias_normalize(): '-' as '_' outside [...], into `out`.
// EINVAL with UnmatchedBracket for unmatched brackets (`out` is then unspecified).
Status alias_normalize(std::string_view alias, std::string& out);

// kmod's name for a module file: the one rule (elf/module_name.h).
std::string module_name_of_path(std::string_view path);

// Calls `record(module, key, value)` for each `module.key=value` record of
// DIRNAME/modules.builtin.modinfo, in order. The open(2) error (path in the
// message) if the file cannot be read; no record is then passed.
Status read_builtin_modinfo(const std::string& dirname,
                            const std::function<void(std::string_view, std::string_view, std::string_view)>& record);
// The same over the text of such a file (records are NUL-terminated; one
// without a '.' before its '=' is skipped).
void parse_builtin_modinfo(std::string_view text,
                           const std::function<void(std::string_view, std::string_view, std::string_view)>& record);

// The indexes, in the order libkmod maps them.
enum class IndexKind : std::uint8_t { Dep, Alias, Symbols, BuiltinAlias, Builtin };
inline constexpr std::size_t kIndexKinds = 5;
// "modules.dep", "modules.alias"...: the file is this plus ".bin".
std::string_view index_base_name(IndexKind kind);

// A module directory's binary indexes, mapped read-only when opened.
//
// Thread safety: immutable once open() returns (nothing is loaded lazily), so
// any number of threads may call its const members at once with no lock.
class ModuleIndex {
public:
    ModuleIndex() = default;  // every index missing: every lookup finds nothing

    // Maps DIRNAME/modules.*.bin. Never fails, as libkmod never does: an
    // index that is missing or not a kmod index is treated as empty.
    static ModuleIndex open(const std::string& dirname);

    const std::string& dirname() const { return dirname_; }
    // The header errors libkmod 30 reports when it maps the indexes
    // (kmod_load_resources): in its order, up to the first index other than
    // modules.builtin.alias.bin that could not be mapped — missing ones stop
    // it too, silently. Each carries an IndexFormatError.
    const std::vector<Error>& load_errors() const { return load_errors_; }
    bool has(IndexKind kind) const { return indexes_[static_cast<std::size_t>(kind)].has_value(); }

    // modules.dep.bin: `module`'s line ("relpath: dep1 dep2..."), if any.
    Expected<std::optional<std::string_view>> dep_line(std::string_view module) const;
    // modules.builtin.bin: whether `module` is built into the kernel.
    Expected<bool> is_builtin(std::string_view module) const;
    // Wildcard search of an alias-like index (Alias, Symbols, BuiltinAlias):
    // the module names, in libkmod's order.
    Expected<std::vector<std::string_view>> search_wild(IndexKind kind, std::string_view key) const;
    // kmod_dump_index: every key and value of `kind` ("<prefix><key> <value>\n").
    Status dump(IndexKind kind, std::string_view prefix, const std::function<void(std::string_view)>& write) const;

private:
    std::string dirname_;
    std::array<std::optional<IndexReader>, kIndexKinds> indexes_;
    std::vector<Error> load_errors_;
};

// One module of a resolution, as libkmod's struct kmod_module: libkmod keeps
// one per (name, alias) pair, so a module found through an alias is a
// different object from the same module found by name (options and the
// blacklist treat them differently, and each has its own visited mark).
struct ProbeModule {
    std::string name;
    std::optional<std::string> alias;  // the alias (normalised query) it was found through

    // Filled on first use by ModprobeSession.
    enum class Builtin : std::uint8_t { Unknown, No, Yes };
    Builtin builtin = Builtin::Unknown;
    bool dep_loaded = false;
    std::string path;                   // absolute; empty for none
    std::vector<ProbeModule*> deps;     // load order: most basic first
    bool install_known = false;
    const std::string* install = nullptr;  // the install command, owned by the configuration
    bool remove_known = false;
    const std::string* remove = nullptr;   // the remove command, owned by the configuration
    bool options_known = false;
    std::optional<std::string> options;

    // The probe list's marks (reset by every probe_list()).
    bool visited = false;
    bool ignore_command = false;  // listed for its soft dependencies: its install command is not run
    bool required = false;        // the module asked for or one of its dependencies (not a soft dependency)
};

enum class CommandUse : std::uint8_t { Run, Ignore };  // modprobe -i: Ignore

// One resolution session: modprobe's kmod_ctx. Holds the modules it has met
// (ProbeModule pointers stay valid for the session's lifetime) and their
// per-run marks, so it is used by one thread at a time; the index and the
// configuration it reads are shared and immutable, so sessions on other
// threads may use them at once.
class ModprobeSession {
public:
    // `index` and `config` must outlive the session (modules point into both).
    ModprobeSession(const ModuleIndex& index, const ModprobeConfig& config) : index_(index), config_(config) {}
    ModprobeSession(const ModprobeSession&) = delete;
    ModprobeSession& operator=(const ModprobeSession&) = delete;

    // Called with the name of a soft dependency that cannot be looked up
    // (libkmod logs it and carries on).
    void on_softdep_lookup_failure(std::function<void(std::string_view)> f) { softdep_failure_ = std::move(f); }

    // kmod_module_new_from_lookup: the modules `name` stands for, trying in
    // turn the configuration's aliases, modules.dep.bin, modules.symbols.bin
    // (symbol:NAME), install/remove commands, modules.alias.bin,
    // modules.builtin.bin and modules.builtin.alias.bin. Empty if none.
    // EINVAL (UnmatchedBracket) for a name with unmatched brackets; EINVAL
    // (IndexFormatError) for a corrupt index.
    Expected<std::vector<ProbeModule*>> lookup(std::string_view name);
    // The same without the configuration (modinfo's lookup in umod).
    Expected<std::vector<ProbeModule*>> lookup_indexes(std::string_view name);
    // kmod_module_new_from_name: the module of that name (normalised), found or not.
    ProbeModule* lookup_name_only(std::string_view name);
    // modinfo -m: by module name only, then the built-in indexes.
    Expected<std::vector<ProbeModule*>> lookup_name(std::string_view name);

    // kmod_module_get_probe_list: what loading `module` loads, in order: for
    // each dependency (most basic first) its pre: soft dependencies' lists,
    // itself, its post: ones; then the same for `module` (unless `commands`
    // is Ignore). Marks ignore_command and required on the listed modules.
    Expected<std::vector<ProbeModule*>> probe_list(ProbeModule& module, CommandUse commands);

    // The module's file (absolute), or empty: built-in, or not in modules.dep.
    Expected<std::string_view> path(ProbeModule& m);
    Expected<bool> is_builtin(ProbeModule& m);
    // The first install command whose pattern matches the name, or nullptr.
    const std::string* install_command(ProbeModule& m);
    // The first remove command whose pattern matches the name, or nullptr.
    const std::string* remove_command(ProbeModule& m);
    // The modules of the first softdep line whose pattern matches the name:
    // its pre: and post: names looked up (names that cannot be are reported
    // to on_softdep_lookup_failure and skipped).
    Status softdeps(ProbeModule& m, std::vector<ProbeModule*>& pre, std::vector<ProbeModule*>& post) {
        return softdep_lists(m, pre, post);
    }
    // The modules of its modules.dep line, most basic first.
    Expected<std::vector<ProbeModule*>> dependencies(ProbeModule& m) {
        if (Status s = load_dependencies(m); !s) return s.error();
        return m.deps;
    }
    // Every `options` line for its name or its alias, joined by spaces;
    // nullopt when none has any.
    const std::optional<std::string>& options(ProbeModule& m);
    // On a `blacklist` line (by name).
    bool blacklisted(const ProbeModule& m) const;

private:
    ProbeModule* module(std::string_view name, const std::optional<std::string_view>& alias);
    Status load_dependencies(ProbeModule& m);
    Status lookup_chain(const std::string& normal, bool with_config, std::vector<ProbeModule*>& out);
    Status lookup_aliases(IndexKind kind, const std::string& normal, std::vector<ProbeModule*>& out);
    Status lookup_builtin(const std::string& normal, std::vector<ProbeModule*>& out);
    Status softdep_lists(ProbeModule& m, std::vector<ProbeModule*>& pre, std::vector<ProbeModule*>& post);
    Status fill_softdep(ProbeModule& m, std::vector<ProbeModule*>& out);
    Status probe(ProbeModule& m, bool required, bool ignore_commands, std::vector<ProbeModule*>& out);

    const ModuleIndex& index_;
    const ModprobeConfig& config_;
    std::function<void(std::string_view)> softdep_failure_;
    // Every module met, keyed as libkmod keys them: "name" or "name\alias".
    std::unordered_map<std::string, std::unique_ptr<ProbeModule>> pool_;
};

}  // namespace umod::index
