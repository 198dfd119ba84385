// umod rmmod — kmod 30's rmmod: remove modules from the running kernel.
//   umod rmmod [-f] [-s] [-v] NAME|FILE...
// Without -f a module is first checked as kmod checks it: built in, not
// loaded, held by other modules (named), or in use — each refused with
// kmod's message. delete_module gets O_NONBLOCK (and O_TRUNC with -f).
#include <getopt.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"
#include "index/kernel.h"
#include "index/modprobe.h"
#include "kmod_log.h"

namespace umod::tool {

namespace {

// kmod's modname_normalize(): up to the first '.', '-' as '_'.
std::string normalize_name(std::string_view name) { return index::module_name_of_path(name); }

// rmmod's check_module_inuse(): 0, or a negative errno (reported).
int check_in_use(const KmodLog& log, const index::ModuleIndex& running, const std::string& name) {
    auto builtin = running.is_builtin(name);
    if (builtin && *builtin) {
        log.log(kLogErr, "Module %s is builtin.\n", name.c_str());
        return -ENOENT;
    }
    if (auto state = index::kernel::initstate(name); !state) {
        log.log(kLogErr, "Module %s is not currently loaded\n", name.c_str());
        return -ENOENT;
    }
    auto holders = index::kernel::holders(name);
    if (!holders) {
        log.lib(kLogErr, "../libkmod/libkmod-module.c:1998 kmod_module_get_holders()",
                "could not open '/sys/module/%s/holders': %s\n", name.c_str(), std::strerror(holders.error().code()));
    } else if (!holders->empty()) {
        std::string list;
        for (const std::string& h : *holders) list += " " + h;
        log.log(kLogErr, "Module %s is in use by:%s\n", name.c_str(), list.c_str());
        return -EBUSY;
    }
    auto refcnt = index::kernel::refcnt(name);
    if (refcnt && *refcnt > 0) {
        log.log(kLogErr, "Module %s is in use\n", name.c_str());
        return -EBUSY;
    }
    if (!refcnt) {
        if (refcnt.error().code() == ENOENT) log.log(kLogErr, "Module unloading is not supported\n");
        return -refcnt.error().code();
    }
    return 0;
}

}  // namespace

int rmmod_main(std::string_view prog, std::span<char* const> args) {
    KmodLog log(prog, kLogErr);
    std::string name(prog);
    std::vector<char*> argv = getopt_argv(name, args);
    static const option long_options[] = {
        {"force", no_argument, nullptr, 'f'},
        {"syslog", no_argument, nullptr, 's'},
        {"verbose", no_argument, nullptr, 'v'},
        {"version", no_argument, nullptr, 'V'},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    auto force = index::kernel::RemoveForce::No;
    bool use_syslog = false;
    int verbose = kLogErr;
    optind = 1;
    for (int c; (c = getopt_long(static_cast<int>(argv.size()) - 1, argv.data(), "fsvVh", long_options, nullptr)) != -1;) {
        switch (c) {
            case 'f': force = index::kernel::RemoveForce::Yes; break;
            case 's': use_syslog = true; break;
            case 'v': ++verbose; break;
            case 'V': return print_version();
            case 'h':
                std::printf("Usage:\n\t%s [options] modulename ...\nOptions:\n"
                            "\t-f, --force       forces a module unload and may crash your\n"
                            "\t                  machine. This requires Forced Module Removal\n"
                            "\t                  option in your kernel. DANGEROUS\n"
                            "\t-s, --syslog      print to syslog, not stderr\n"
                            "\t-v, --verbose     enables more messages\n"
                            "\t-V, --version     show version\n"
                            "\t-h, --help        show this help\n",
                            name.c_str());
                return 0;
            default: return 1;
        }
    }
    log.set_verbose(verbose);
    if (use_syslog) log.use_syslog();
    int argc = static_cast<int>(argv.size()) - 1;
    if (optind >= argc) {
        log.log(kLogErr, "missing module name.\n");
        return 1;
    }
    parse_kernel_cmdline_as_kmod_new();
    index::ModuleIndex running = index::ModuleIndex::open(module_directory("", ""));
    int failures = 0;
    for (int i = optind; i < argc; ++i) {
        std::string arg = argv[i];
        struct stat st {};
        std::string module = ::stat(arg.c_str(), &st) == 0 ? index::module_name_of_path(arg) : normalize_name(arg);
        if (force == index::kernel::RemoveForce::No && check_in_use(log, running, module) < 0) {
            ++failures;
            continue;
        }
        if (Status s = index::kernel::remove(module, force); !s) {
            const char* why = std::strerror(s.error().code());
            log.lib(kLogErr, "../libkmod/libkmod-module.c:856 kmod_module_remove_module()", "could not remove '%s': %s\n",
                    module.c_str(), why);
            log.log(kLogErr, "could not remove module %s: %s\n", arg.c_str(), why);
            ++failures;
        }
    }
    return failures == 0 ? 0 : 1;
}

}  // namespace umod::tool
