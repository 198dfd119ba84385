// modprobe's configuration as libkmod 30 reads it: the modprobe.d files, the
// module directory's modules.softdep, and module options on the kernel
// command line. Mechanism only: parsing never prints; what libkmod would
// complain about is returned as diagnostics for the tool to word.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace umod::index {

// The directories libkmod reads when no -C is given, in priority order (a
// file name found in an earlier one hides the same name in later ones).
const std::vector<std::string>& default_config_paths();

// A line or file libkmod 30 complains about while reading its configuration.
struct ConfigDiagnostic {
    enum class Kind {
        BadLine,          // "<file> line <n>: ignoring bad line starting with '<word>'"
        Deprecated,       // "<file>: command <word> is deprecated and not parsed anymore"
        NestedDirectory,  // "Directories inside directories are not supported: <file>"
        BadKernelOption,  // a kernel command-line option whose module name <word> has unmatched brackets
    };
    Kind kind;
    std::string file;
    unsigned line = 0;
    std::string word;
};

struct ConfigAlias {
    std::string name;     // a pattern (fnmatch), '-' as '_' outside [...]
    std::string modname;
};
struct ConfigOptions {
    std::string modname;  // a module name, or the name of an alias
    std::string options;  // tabs as spaces
};
struct ConfigCommand {
    std::string modname;  // a pattern (fnmatch)
    std::string command;
};
struct ConfigSoftdep {
    std::string modname;  // a pattern (fnmatch)
    std::vector<std::string> pre, post;
    std::string plain;    // what `modprobe -c` prints after the name (kmod 30's rendering, quirks included)
};

// Everything in file order: libkmod keeps lists, and the first match wins.
struct ModprobeConfig {
    std::vector<std::string> blacklists;
    std::vector<ConfigCommand> install_commands;
    std::vector<ConfigCommand> remove_commands;
    std::vector<ConfigAlias> aliases;
    std::vector<ConfigOptions> options;
    std::vector<ConfigSoftdep> softdeps;

    // kmod_config_new: the *.conf (and *.alias) files of each directory in
    // `paths` (a path that is not a directory is read as one file), with
    // DIRNAME/modules.softdep, all sorted by file name, a name seen first
    // hiding later ones; then the options and modprobe.blacklist= of
    // `kernel_cmdline` (the text of /proc/cmdline; empty for none). Files that
    // cannot be read are skipped, as libkmod skips them.
    static ModprobeConfig load(const std::vector<std::string>& paths, const std::string& dirname,
                               std::string_view kernel_cmdline, std::vector<ConfigDiagnostic>& diagnostics);

    // Parses one file's text into this configuration (`file` names it in
    // diagnostics).
    void parse(std::string_view text, const std::string& file, std::vector<ConfigDiagnostic>& diagnostics);
    // Adds the module options and blacklist of a kernel command line. An
    // option whose module name has an unmatched bracket is dropped, with a
    // BadKernelOption diagnostic naming it as libkmod 30 prints it (dashes
    // before the bad bracket already turned into underscores).
    void parse_kernel_cmdline(std::string_view cmdline, std::vector<ConfigDiagnostic>& diagnostics);
};

// libkmod's underscores(): '-' as '_' except inside [...].
std::string underscores(std::string_view s);

}  // namespace umod::index
