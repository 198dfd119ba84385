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
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "kmod_log.h"
#include "index/kernel.h"
#include "index/modprobe.h"

namespace umod::tool {

namespace {

using index::ProbeModule;

struct Options {
    int verbose = kLogWarning;   // -q: 0; each -v: +1
    int log_priority = kLogCrit;  // "not found" is FATAL, or a WARNING with -a
    bool show = false;            // -D
    bool dry_run = false;         // -n, -D
    bool ignore_loaded = false;   // -D
    bool lookup_only = false;     // -R
    bool ignore_commands = false; // -i
    bool use_blacklist = false;   // -b
    bool first_time = false;      // --first-time
    bool remove_holders = false;  // --remove-holders
    bool force = false;           // -f: removal with O_TRUNC
    bool force_modversion = false;  // -f, --force-modversion
    bool force_vermagic = false;    // -f, --force-vermagic
    bool syslog = false;          // -s
    unsigned long long wait_msec = 0;  // -w
};

// kmod's log_printf(): "modprobe: PRIORITY: message" (or to syslog with -s),
// if verbose enough; FATAL ends the process, as kmod's does.
__attribute__((format(printf, 3, 4))) void log(const Options& o, int priority, const char* format, ...) {
    if (priority > o.verbose) return;
    va_list args;
    va_start(args, format);
    char* text = nullptr;
    if (vasprintf(&text, format, args) < 0) text = nullptr;
    va_end(args);
    if (text == nullptr) return;
    if (o.syslog)
        ::syslog(priority, "%s: %s", kmod_priority_name(priority), text);
    else
        std::fprintf(stderr, "modprobe: %s: %s", kmod_priority_name(priority), text);
    std::free(text);
    if (priority <= kLogCrit) std::exit(EXIT_FAILURE);
}

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

// kmod's SHOW(): to stdout at once (flushed), with -D or -v only.
__attribute__((format(printf, 2, 3))) void show(const Options& o, const char* format, ...) {
    if (!o.show && o.verbose <= kLogWarning) return;
    va_list args;
    va_start(args, format);
    std::vprintf(format, args);
    va_end(args);
    std::fflush(stdout);
}

// Every "$CMDLINE_OPTS" in `command` replaced by `options`.
std::string with_cmdline_opts(std::string command, std::string_view options) {
    constexpr std::string_view var = "$CMDLINE_OPTS";
    for (std::size_t at = 0; (at = command.find(var, at)) != std::string::npos; at += options.size())
        command.replace(at, var.size(), options);
    return command;
}

// system(3) with MODPROBE_MODULE=NAME, as kmod runs install and remove
// commands: the shell's status, or -1.
int run_command(const std::string& module, const std::string& command) {
    setenv("MODPROBE_MODULE", module.c_str(), 1);
    int status = std::system(command.c_str());
    unsetenv("MODPROBE_MODULE");
    return status;
}

class Modprobe {
public:
    Modprobe(const Options& o, index::ModprobeSession& session, const std::string& dirname)
        : o_(o), session_(session), dirname_(dirname) {}

    // kmod's insmod(): 0, or a negative errno. Corrupt indexes are reported here.
    int insmod(const std::string& name, const std::optional<std::string>& extra_options) {
        auto found = session_.lookup(name);
        if (!found && found.error().detail<index::UnmatchedBracket>() == nullptr) return fail(found.error());
        if (!found || found->empty()) {
            log(o_, o_.log_priority, "Module %s not found in directory %s\n", name.c_str(), dirname_.c_str());
            return -ENOENT;
        }
        int err = 0;
        for (ProbeModule* m : *found) {
            if (o_.lookup_only) {
                std::printf("%s\n", m->name.c_str());
                err = 0;
                continue;
            }
            auto probed = probe_insert(*m, extra_options);
            if (!probed) return fail(probed.error());
            err = *probed;
            if (err >= 0) {
                err = 0;  // positive: blacklisted, not an error
            } else if (err == -EEXIST) {
                log(o_, kLogErr, "could not insert '%s': Module already in kernel\n", m->name.c_str());
            } else if (err == -ENOENT) {
                log(o_, kLogErr, "could not insert '%s': Unknown symbol in module, or unknown parameter (see dmesg)\n",
                    m->name.c_str());
            } else {
                log(o_, kLogErr, "could not insert '%s': %s\n", m->name.c_str(), std::strerror(-err));
            }
        }
        return err;
    }

    // kmod's rmmod(): 0, or a negative errno.
    int rmmod(const std::string& name) {
        auto found = session_.lookup(name);
        if (!found) {
            if (found.error().detail<index::UnmatchedBracket>() == nullptr) return fail(found.error());
            return -EINVAL;  // kmod returns the lookup's error without a word
        }
        int err = 0;
        if (found->empty()) {
            log(o_, o_.log_priority, "Module %s not found.\n", name.c_str());
            err = -ENOENT;
        }
        for (ProbeModule* m : *found) {
            auto r = rmmod_module(*m, o_.remove_holders, false);
            if (!r) return fail(r.error());
            err = *r;
            if (err < 0) break;
        }
        return err;
    }

private:
    enum : int { kBuiltin = 0, kLive, kComing, kGoing };

    // kmod_module_get_initstate(): built in, or the running kernel's
    // /sys/module/NAME/initstate (a directory without it: coming); -errno.
    Expected<int> initstate(ProbeModule& m) {
        auto builtin = session_.is_builtin(m);
        if (!builtin) return builtin.error();
        if (*builtin) return int{kBuiltin};
        auto state = index::kernel::initstate(m.name);
        if (!state) return -state.error().code();
        switch (*state) {
            case index::kernel::InitState::Live: return int{kLive};
            case index::kernel::InitState::Coming: return int{kComing};
            case index::kernel::InitState::Going: return int{kGoing};
        }
        return -EINVAL;
    }

    // kmod_module_get_refcnt(): /sys/module/NAME/refcnt, or -errno.
    static long refcnt(const ProbeModule& m) {
        auto n = index::kernel::refcnt(m.name);
        return n ? *n : -static_cast<long>(n.error().code());
    }

    // kmod_module_get_holders(): /sys/module/NAME/holders, in directory order.
    std::vector<ProbeModule*> holders(ProbeModule& m) {
        std::vector<ProbeModule*> out;
        auto names = index::kernel::holders(m.name);
        if (!names) {
            log(o_, kLogErr, "../libkmod/libkmod-module.c:1998 kmod_module_get_holders() could not open '/sys/module/%s/holders': %s\n",
                m.name.c_str(), std::strerror(names.error().code()));
            return out;
        }
        for (const std::string& n : *names)
            if (auto* found = session_.lookup_name_only(n)) out.push_back(found);
        return out;
    }

    // Removes (shows) each, last first; errors stop the walk only if asked.
    Expected<int> rmmod_list(const std::vector<ProbeModule*>& list, bool stop_on_errors) {
        for (auto it = list.rbegin(); it != list.rend(); ++it) {
            auto r = rmmod_module(**it, false, true);
            if (!r) return r.error();
            if (*r < 0 && stop_on_errors) return *r;
        }
        return 0;
    }

    // kmod's rmmod_do_remove_module(): shows it, then (unless a dry run)
    // delete_module, retried with a growing interval while it is busy and -w
    // allows (a module still busy then is left without a word, as kmod).
    int remove_module(ProbeModule& m) {
        show(o_, "rmmod %s\n", m.name.c_str());
        if (o_.dry_run) return 0;
        auto force = o_.force ? index::kernel::RemoveForce::Yes : index::kernel::RemoveForce::No;
        auto start = std::chrono::steady_clock::now();
        auto end = start + std::chrono::milliseconds(o_.wait_msec);
        std::chrono::milliseconds interval(1);
        while (true) {
            Status s = index::kernel::remove(m.name, force);
            if (s) return 0;
            int code = s.error().code();
            if (code != EAGAIN || o_.wait_msec == 0) {
                if (o_.wait_msec == 0 || code != EAGAIN)
                    log(o_, kLogErr, "../libkmod/libkmod-module.c:856 kmod_module_remove_module() could not remove '%s': %s\n",
                        m.name.c_str(), std::strerror(code));
                return -code;
            }
            auto now = std::chrono::steady_clock::now();
            if (now >= end) return 0;
            std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(interval, end - now));
            interval *= 2;
        }
    }

    // modprobe's command_do(): a remove command, $CMDLINE_OPTS empty.
    int remove_command(ProbeModule& m, const std::string& command) {
        std::string cmd = with_cmdline_opts(command, "");
        show(o_, "remove %s\n", cmd.c_str());
        if (o_.dry_run) return 0;
        int status = run_command(m.name, cmd);
        if (status == -1 || WEXITSTATUS(status) != 0) {
            log(o_, o_.log_priority, "Error running remove command for %s\n", m.name.c_str());
            return status == -1 ? -1 : -WEXITSTATUS(status);
        }
        return 0;
    }

    // kmod's rmmod_do_module().
    Expected<int> rmmod_module(ProbeModule& mod, bool with_holders, bool ignore_builtin) {
        std::vector<ProbeModule*> pre, post;
        const std::string* command = nullptr;
        if (!o_.ignore_commands) {
            if (Status s = session_.softdeps(mod, pre, post); !s) return s.error();
            command = session_.remove_command(mod);
        }
        if (command == nullptr && !o_.ignore_loaded) {
            auto state = initstate(mod);
            if (!state) return state.error();
            if (*state < 0) {
                if (!o_.first_time) return 0;
                log(o_, o_.log_priority, "Module %s is not in kernel.\n", mod.name.c_str());
                return -ENOENT;
            }
            if (*state == kBuiltin) {
                if (ignore_builtin) return 0;
                log(o_, o_.log_priority, "Module %s is builtin.\n", mod.name.c_str());
                return -ENOENT;
            }
        }
        if (auto r = rmmod_list(post, false); !r) return r.error();
        if (with_holders) {
            auto r = rmmod_list(holders(mod), true);
            if (!r) return r.error();
            if (*r < 0) return *r;
        }
        if (command == nullptr && !o_.ignore_loaded && o_.wait_msec == 0 && refcnt(mod) > 0) {
            log(o_, o_.log_priority, "Module %s is in use.\n", mod.name.c_str());
            return -EBUSY;
        }
        if (command == nullptr) {
            if (int err = remove_module(mod); err < 0) return err;
            auto deps = session_.dependencies(mod);
            if (!deps) return deps.error();
            for (ProbeModule* dep : *deps)
                if (refcnt(*dep) == 0) (void)remove_module(*dep);  // errors here are not fatal
        } else if (int err = remove_command(mod, *command); err < 0) {
            return err;
        }
        if (auto r = rmmod_list(pre, false); !r) return r.error();
        return 0;
    }

    int fail(const Error& e) {
        log(o_, kLogErr, "%s\n", e.message().c_str());
        return -(e.code() != 0 ? e.code() : EINVAL);
    }

    // module_is_inkernel(): built in, or live in the running kernel.
    Expected<bool> in_kernel(ProbeModule& m) {
        auto state = initstate(m);
        if (!state) return state.error();
        return *state == kBuiltin || *state == kLive;
    }

    Status print_action(ProbeModule& m, bool install, const std::string& options) {
        if (install) {
            std::printf("install %s %s\n", session_.install_command(m)->c_str(), options.c_str());
            return {};
        }
        auto path = session_.path(m);
        if (!path) return path.error();
        if (!path->empty()) {
            std::printf("insmod %.*s %s\n", static_cast<int>(path->size()), path->data(), options.c_str());
            return {};
        }
        auto builtin = session_.is_builtin(m);
        if (!builtin) return builtin.error();
        if (*builtin) std::printf("builtin %s\n", m.name.c_str());
        return {};
    }

    // libkmod's module_do_install_commands(): the command, $CMDLINE_OPTS
    // replaced by the options, through the shell. 0 or -EINVAL (reported).
    int install_command(ProbeModule& m, const std::string& command, const std::string& options) {
        std::string cmd = with_cmdline_opts(command, options);
        int status = run_command(m.name, cmd);
        if (status == -1) {
            log(o_, kLogErr, "../libkmod/libkmod-module.c:1041 command_do() Could not run install command '%s' for module %s: %s\n",
                cmd.c_str(), m.name.c_str(), std::strerror(errno));
            return -EINVAL;
        }
        if (WEXITSTATUS(status) != 0) {
            log(o_, kLogErr, "../libkmod/libkmod-module.c:1047 command_do() Error running install command '%s' for module %s: retcode %d\n",
                cmd.c_str(), m.name.c_str(), WEXITSTATUS(status));
            return -EINVAL;
        }
        return 0;
    }

    // kmod_module_insert_module(): the module's file into the kernel.
    Expected<int> insert(ProbeModule& m, const std::string& options) {
        auto path = session_.path(m);
        if (!path) return path.error();
        if (path->empty()) {
            log(o_, kLogErr, "../libkmod/libkmod-module.c:924 kmod_module_insert_module() could not find module by name='%s'\n",
                m.name.c_str());
            return -ENOENT;
        }
        unsigned flags = (o_.force_modversion ? index::kernel::kForceModversion : 0u) |
                         (o_.force_vermagic ? index::kernel::kForceVermagic : 0u);
        if (Status s = index::kernel::insert(std::string(*path), options, flags); !s) return -s.error().code();
        return 0;
    }

    // kmod_module_probe_insert_module(): < 0 an errno, > 0 skipped
    // (blacklisted), 0 done. Soft dependencies' failures are ignored.
    Expected<int> probe_insert(ProbeModule& mod, const std::optional<std::string>& extra_options) {
        if (!o_.ignore_loaded) {
            auto in = in_kernel(mod);
            if (!in) return in.error();
            if (*in) return o_.first_time ? -EEXIST : 0;
        }
        if (session_.blacklisted(mod) && (mod.alias || o_.use_blacklist)) return 1;
        auto list = session_.probe_list(mod, o_.ignore_commands ? index::CommandUse::Ignore : index::CommandUse::Run);
        if (!list) return list.error();
        bool show = o_.show || o_.verbose > kLogWarning;
        int err = 0;
        for (ProbeModule* m : *list) {
            bool loaded = false;
            if (!o_.ignore_loaded) {
                auto in = in_kernel(*m);
                if (!in) return in.error();
                loaded = *in;
            }
            if (loaded) {
                err = -EEXIST;
            } else {
                // module_options_concat(): the configured options, a space, the
                // command line's (a trailing space when there are none).
                const auto& configured = session_.options(*m);
                std::string options;
                if (configured && !configured->empty()) options = *configured + " ";
                if (m == &mod && extra_options) options += *extra_options;
                const std::string* command = session_.install_command(*m);
                bool install = command != nullptr && !m->ignore_command;
                if (show)
                    if (Status s = print_action(*m, install, options); !s) return s.error();
                if (!o_.dry_run) {
                    if (install) {
                        err = install_command(*m, *command, options);
                    } else {
                        auto r = insert(*m, options);
                        if (!r) return r.error();
                        err = *r;
                    }
                }
            }
            if (err == -EEXIST && m == &mod && o_.first_time) break;
            if (err == -EEXIST || !m->required)
                err = 0;
            else if (err < 0)
                break;
        }
        return err;
    }

    const Options& o_;
    index::ModprobeSession& session_;
    const std::string& dirname_;
};

// kmod's show_config(): the configuration, then the alias and symbol indexes.
// 1 if an index is corrupt (reported), else 0.
int show_config(const index::ModprobeConfig& config, const index::ModuleIndex& modules, const Options& o) {
    for (const auto& b : config.blacklists) std::printf("blacklist %s\n", b.c_str());
    for (const auto& c : config.install_commands) std::printf("install %s %s\n", c.modname.c_str(), c.command.c_str());
    for (const auto& c : config.remove_commands) std::printf("remove %s %s\n", c.modname.c_str(), c.command.c_str());
    for (const auto& a : config.aliases) std::printf("alias %s %s\n", a.name.c_str(), a.modname.c_str());
    for (const auto& op : config.options) std::printf("options %s %s\n", op.modname.c_str(), op.options.c_str());
    for (const auto& s : config.softdeps) std::printf("softdep %s %s\n", s.modname.c_str(), s.plain.c_str());
    std::puts("\n# End of configuration files. Dumping indexes now:\n");
    std::fflush(stdout);
    // kmod writes the dumps straight to the file descriptor.
    std::string out;
    auto flush = [&] {
        for (std::size_t done = 0; done < out.size();) {
            ssize_t n = ::write(STDOUT_FILENO, out.data() + done, out.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
        out.clear();
    };
    auto write = [&](std::string_view line) {
        out += line;
        if (out.size() >= 65536) flush();
    };
    int status = 0;
    for (index::IndexKind kind : {index::IndexKind::Alias, index::IndexKind::Symbols}) {
        if (Status s = modules.dump(kind, "alias ", write); !s) {
            flush();
            log(o, kLogErr, "%s\n", s.error().message().c_str());
            status = 1;
        }
    }
    flush();
    return status;
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

}  // namespace

int modprobe_main(std::string_view, std::span<char* const> args) {
    Options o;
    bool use_all = false, do_show_config = false, do_remove = false, unsupported_query = false;
    std::string root, version;
    bool have_root = false, have_version = false;
    std::vector<std::string> config_paths;
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
            case 'a': use_all = true; o.log_priority = kLogWarning; break;
            case 'r': do_remove = true; break;
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
            case 'c': do_show_config = true; break;
            case 4: case 6: unsupported_query = true; break;
            case 'n': o.dry_run = true; break;
            case 'C':
                config_paths.emplace_back(optarg);
                env_options_append("-C");
                env_options_append(optarg);
                break;
            case 'd': root = optarg; have_root = true; break;
            case 'S': version = optarg; have_version = true; break;
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
    std::vector<std::string> names(argv.begin() + optind, argv.end() - 1);
    if (!do_show_config && names.empty()) {
        std::fprintf(stderr, "modprobe: ERROR: missing parameters. See -h.\n");
        return 1;
    }
    if (unsupported_query) {
        std::fprintf(stderr, "modprobe: ERROR: showing symbol versions is not supported by umod modprobe\n");
        return 1;
    }
    if (o.syslog) openlog("modprobe", LOG_CONS, LOG_DAEMON);

    // kmod_new(): ROOT/lib/modules/VERSION made absolute, or the running kernel's.
    std::string dirname;
    if (have_root || have_version) {
        dirname = module_directory(root, version);
        if (!dirname.starts_with('/')) {
            char* cwd = get_current_dir_name();
            if (cwd != nullptr) dirname = std::string(cwd) + "/" + dirname;
            std::free(cwd);
        }
    } else {
        dirname = module_directory("", "");
    }
    std::vector<index::ConfigDiagnostic> diagnostics;
    auto config = index::ModprobeConfig::load(config_paths.empty() ? index::default_config_paths() : config_paths,
                                              dirname, read_kernel_cmdline(), diagnostics);
    for (const auto& d : diagnostics) print_config_diagnostic(d);
    auto modules = index::ModuleIndex::open(dirname);
    for (const Error& e : modules.load_errors()) print_load_error(o, e);

    if (do_show_config) return show_config(config, modules, o);
    index::ModprobeSession session(modules, config);
    session.on_softdep_lookup_failure([&](std::string_view name) {
        log(o, kLogErr,
            "../libkmod/libkmod-module.c:1567 lookup_softdep() failed to lookup soft dependency '%.*s', continuing "
            "anyway.\n",
            static_cast<int>(name.size()), name.data());
    });
    Modprobe modprobe(o, session, dirname);
    int err = 0;
    if (do_remove) {
        for (const std::string& name : names)
            if (int r = modprobe.rmmod(name); r < 0) err = r;
    } else if (use_all) {
        for (const std::string& name : names)
            if (int r = modprobe.insmod(name, std::nullopt); r < 0) err = r;
    } else {
        err = modprobe.insmod(names[0], options_from_args(names));
    }
    return err >= 0 ? 0 : 1;
}

}  // namespace umod::tool
