// modprobe's loading and removing, as kmod 30's: dependencies first, soft
// dependencies, install and remove commands through /bin/sh, the running
// kernel's state from /sys/module.
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "index/kernel.h"
#include "modprobe_tool.h"

namespace umod::tool::modprobe {

namespace {

using index::ProbeModule;

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

class Actions {
public:
    Actions(const Options& o, index::ModprobeSession& session, const std::string& dirname)
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

}  // namespace

int insert_module(const Options& o, index::ModprobeSession& session, const std::string& dirname,
                  const std::string& name, const std::optional<std::string>& extra_options) {
    return Actions(o, session, dirname).insmod(name, extra_options);
}

int remove_module(const Options& o, index::ModprobeSession& session, const std::string& dirname,
                  const std::string& name) {
    return Actions(o, session, dirname).rmmod(name);
}

}  // namespace umod::tool::modprobe
