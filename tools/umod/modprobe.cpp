// umod modprobe — kmod 30's modprobe:
//   umod modprobe [-C CONFIG]... [-d ROOT] [-S VERSION] [-b] [-i] [-q|-v] [-s]
//                 [-f] [--first-time] [-D | -R | -n | -c] [-a] NAME [OPTION=VALUE... | NAME...]
//   umod modprobe [...] -r [-D | -n] [-f] [-w MSEC] [--remove-holders] NAME...
// (options in $MODPROBE_OPTIONS come first, as kmod's). Loads a module and
// what it needs into the running kernel (dependencies first, soft
// dependencies, install commands through /bin/sh), or removes it and what
// no longer has a user; -D and -n show what would be done instead, reading
// the running kernel's /sys/module as kmod does.
// Reads the module directory's binary indexes in place and the modprobe.d
// configuration (/etc, /run, /usr/local/lib, /lib — or -C FILE|DIR), as
// libkmod does, and prints what kmod's modprobe prints, byte for byte: the
// modules to insmod (with their options), install commands, built-ins, the
// names an alias resolves to (-R), or the configuration (-c).
#include <getopt.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"
#include "index/kernel.h"
#include "modprobe_tool.h"

namespace umod::tool {

namespace {

using namespace modprobe;

// libkmod's complaint about an index it could not map (its wording).
void print_load_error(const Options& o, const Error& e) {
    const auto* bad = e.detail<index::IndexFormatError>();
    if (bad == nullptr) return;
    if (bad->kind == index::IndexFormatError::Kind::BadMagic)
        log(o, kLogErr, "../libkmod/libkmod-index.c:790 index_mm_open() magic check fail: %x instead of %x\n", bad->found,
            index::kIndexMagic);
    else if (bad->kind == index::IndexFormatError::Kind::BadVersion)
        log(o, kLogErr, "../libkmod/libkmod-index.c:797 index_mm_open() major version check fail: %u instead of %u\n",
            bad->found, index::kIndexMajorVersion);
}

// kmod's options_from_array(): the words after the module name, a value
// with a space in it quoted.
std::optional<std::string> options_from_args(const std::vector<std::string>& args) {
    std::optional<std::string> out;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        std::string word = a;
        if (auto eq = a.find('='); eq != std::string::npos) {
            std::string_view value = std::string_view(a).substr(eq + 1);
            if (!value.starts_with('"') && !value.starts_with('\'') && value.find(' ') != std::string_view::npos)
                word = a.substr(0, eq + 1) + "\"" + std::string(value) + "\"";
        }
        if (out)
            *out += ' ' + word;
        else
            out = word;
    }
    return out;
}

// kmod's env_modprobe_options_append(): what -C, -q and -v ask for is passed
// on to the modprobe an install or remove command may run.
void env_options_append(const char* value) {
    const char* old = std::getenv("MODPROBE_OPTIONS");
    std::string env = old == nullptr ? std::string(value) : std::string(old) + " " + value;
    setenv("MODPROBE_OPTIONS", env.c_str(), 1);
}

// kmod's prepend_options_from_env(): MODPROBE_OPTIONS split at spaces (each
// space ends a word, so two in a row give an empty one); a word quoted whole
// loses its quotes, and a quoted part inside a word loses its two quote
// characters.
std::vector<std::string> options_from_env() {
    std::vector<std::string> words;
    const char* env = std::getenv("MODPROBE_OPTIONS");
    if (env == nullptr) return words;
    std::string str = env;
    std::size_t start = 0;
    std::size_t quote = std::string::npos;
    std::size_t s = 0;
    for (; s < str.size(); ++s) {
        if (quote == std::string::npos) {
            if (str[s] == ' ') {
                words.push_back(str.substr(start, s - start));
                start = s + 1;
            } else if (str[s] == '"' || str[s] == '\'') {
                quote = s;
            }
        } else if (str[s] == str[quote]) {
            if (quote == start) {
                words.push_back(str.substr(start + 1, s - start - 1));
                start = s + 1;
            } else {
                str.erase(s, 1);
                str.erase(quote, 1);
                s -= 2;
            }
            quote = std::string::npos;
        }
    }
    if (start < s) words.push_back(str.substr(start, s - start));
    return words;
}

// What the command line asks for ($MODPROBE_OPTIONS first).
struct CommandLine {
    Options o;
    bool use_all = false, do_show_config = false, do_remove = false;
    std::optional<SymbolTable> show_table;
    std::string root, version;
    bool have_root = false, have_version = false;
    std::vector<std::string> config_paths;
    std::vector<std::string> names;
};

// kmod's option parsing: nullopt to go on, or the exit status (-h, -V, a
// bad option or a missing name).
std::optional<int> parse_command_line(std::span<char* const> args, CommandLine& cl) {
    Options& o = cl.o;
    std::vector<std::string> env_words = options_from_env();
    std::vector<char*> argv{const_cast<char*>("modprobe")};
    for (std::string& w : env_words) argv.push_back(w.data());
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(nullptr);
    static const option long_options[] = {
        {"all", no_argument, nullptr, 'a'},
        {"remove", no_argument, nullptr, 'r'},
        {"remove-dependencies", no_argument, nullptr, 5},
        {"remove-holders", no_argument, nullptr, 5},
        {"wait", required_argument, nullptr, 'w'},
        {"resolve-alias", no_argument, nullptr, 'R'},
        {"first-time", no_argument, nullptr, 3},
        {"ignore-install", no_argument, nullptr, 'i'},
        {"ignore-remove", no_argument, nullptr, 'i'},
        {"use-blacklist", no_argument, nullptr, 'b'},
        {"force", no_argument, nullptr, 'f'},
        {"force-modversion", no_argument, nullptr, 2},
        {"force-vermagic", no_argument, nullptr, 1},
        {"show-depends", no_argument, nullptr, 'D'},
        {"showconfig", no_argument, nullptr, 'c'},
        {"show-config", no_argument, nullptr, 'c'},
        {"show-modversions", no_argument, nullptr, 4},
        {"dump-modversions", no_argument, nullptr, 4},
        {"show-exports", no_argument, nullptr, 6},
        {"dry-run", no_argument, nullptr, 'n'},
        {"show", no_argument, nullptr, 'n'},
        {"config", required_argument, nullptr, 'C'},
        {"dirname", required_argument, nullptr, 'd'},
        {"set-version", required_argument, nullptr, 'S'},
        {"syslog", no_argument, nullptr, 's'},
        {"quiet", no_argument, nullptr, 'q'},
        {"verbose", no_argument, nullptr, 'v'},
        {"version", no_argument, nullptr, 'V'},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    optind = 1;
    for (int c; (c = getopt_long(static_cast<int>(argv.size()) - 1, argv.data(), "arw:RibfDcnC:d:S:sqvVh",
                                 long_options, nullptr)) != -1;) {
        switch (c) {
            case 'a': cl.use_all = true; o.log_priority = kLogWarning; break;
            case 'r': cl.do_remove = true; break;
            case 5: o.remove_holders = true; break;
            case 'w': {
                char* end = nullptr;
                o.wait_msec = std::strtoul(optarg, &end, 0);
                if (*optarg == '\0' || *end != '\0') {
                    std::fprintf(stderr, "modprobe: ERROR: unexpected wait value '%s'.\n", optarg);
                    return 1;
                }
                break;
            }
            case 'f': o.force = o.force_modversion = o.force_vermagic = true; break;
            case 2: o.force_modversion = true; break;
            case 1: o.force_vermagic = true; break;
            case 's': o.syslog = true; break;
            case 3: o.first_time = true; break;
            case 'R': o.lookup_only = true; break;
            case 'i': o.ignore_commands = true; break;
            case 'b': o.use_blacklist = true; break;
            case 'D': o.ignore_loaded = o.dry_run = o.show = true; break;
            case 'c': cl.do_show_config = true; break;
            case 4: cl.show_table = SymbolTable::Versions; break;
            case 6: cl.show_table = SymbolTable::Exports; break;
            case 'n': o.dry_run = true; break;
            case 'C':
                cl.config_paths.emplace_back(optarg);
                env_options_append("-C");
                env_options_append(optarg);
                break;
            case 'd': cl.root = optarg; cl.have_root = true; break;
            case 'S': cl.version = optarg; cl.have_version = true; break;
            case 'q': env_options_append("-q"); o.verbose = 0; break;
            case 'v': env_options_append("-v"); ++o.verbose; break;
            case 'V': return print_version();
            case 'h':
                std::printf("Usage:\n\tmodprobe [options] [-i] [-b] modulename [option=value...]\n"
                            "\tmodprobe [options] -a [-i] [-b] modulename [modulename...]\n"
                            "\tmodprobe [options] -r [-i] modulename [modulename...]\n"
                            "\tmodprobe [options] -c\n"
                            "Options as kmod's modprobe: -C FILE|DIR -d DIR -S VERSION -D -R -n -q -v -s -f -w MSEC\n");
                return 0;
            default: return 1;
        }
    }
    cl.names.assign(argv.begin() + optind, argv.end() - 1);
    if (!cl.do_show_config && cl.names.empty()) {
        std::fprintf(stderr, "modprobe: ERROR: missing parameters. See -h.\n");
        return 1;
    }
    return std::nullopt;
}

// kmod_new(): ROOT/lib/modules/VERSION made absolute, or the running kernel's.
std::string module_dirname(const CommandLine& cl) {
    std::string dirname;
    if (cl.have_root || cl.have_version) {
        dirname = module_directory(cl.root, cl.version);
        if (!dirname.starts_with('/')) {
            char* cwd = get_current_dir_name();
            if (cwd != nullptr) dirname = std::string(cwd) + "/" + dirname;
            std::free(cwd);
        }
    } else {
        dirname = module_directory("", "");
    }
    return dirname;
}

}  // namespace

int modprobe_main(std::string_view, std::span<char* const> args) {
    CommandLine cl;
    if (auto status = parse_command_line(args, cl)) return *status;
    const Options& o = cl.o;
    const std::vector<std::string>& names = cl.names;
    if (o.syslog) openlog("modprobe", LOG_CONS, LOG_DAEMON);
    const std::string dirname = module_dirname(cl);
    std::vector<index::ConfigDiagnostic> diagnostics;
    auto config = index::ModprobeConfig::load(cl.config_paths.empty() ? index::default_config_paths() : cl.config_paths,
                                              dirname, read_kernel_cmdline(), diagnostics);
    for (const auto& d : diagnostics) print_config_diagnostic(d);
    auto modules = index::ModuleIndex::open(dirname);
    for (const Error& e : modules.load_errors()) print_load_error(o, e);

    if (cl.do_show_config) return show_config(config, modules, o);
    if (cl.show_table) return show_symbols(o, names[0], *cl.show_table) < 0 ? 1 : 0;
    index::ModprobeSession session(modules, config);
    session.on_softdep_lookup_failure([&](std::string_view name) {
        log(o, kLogErr,
            "../libkmod/libkmod-module.c:1567 lookup_softdep() failed to lookup soft dependency '%.*s', continuing "
            "anyway.\n",
            static_cast<int>(name.size()), name.data());
    });
    int err = 0;
    if (cl.do_remove) {
        for (const std::string& name : names)
            if (int r = remove_module(o, session, dirname, name); r < 0) err = r;
    } else if (cl.use_all) {
        for (const std::string& name : names)
            if (int r = insert_module(o, session, dirname, name, std::nullopt); r < 0) err = r;
    } else {
        err = insert_module(o, session, dirname, names[0], options_from_args(names));
    }
    return err >= 0 ? 0 : 1;
}

}  // namespace umod::tool
