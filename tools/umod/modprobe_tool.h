// umod modprobe's parts (kmod 30's tools/modprobe.c): the options and log
// they share (this header), loading and removing (modprobe_actions.cpp),
// -c and --show-exports/--show-modversions (modprobe_show.cpp), and the
// command line (modprobe.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <umod/expected.h>

#include "index/modprobe.h"
#include "index/modprobe_config.h"
#include "kmod_log.h"

namespace umod::tool::modprobe {

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
__attribute__((format(printf, 3, 4))) void log(const Options& o, int priority, const char* format, ...);

// kmod's SHOW(): to stdout at once (flushed), with -D or -v only.
__attribute__((format(printf, 2, 3))) void show(const Options& o, const char* format, ...);

// kmod's insmod() and rmmod() for one name (an alias may stand for several
// modules): 0, or a negative errno (reported as kmod reports it).
int insert_module(const Options& o, index::ModprobeSession& session, const std::string& dirname,
                  const std::string& name, const std::optional<std::string>& extra_options);
int remove_module(const Options& o, index::ModprobeSession& session, const std::string& dirname,
                  const std::string& name);

// kmod's show_config(): the configuration, then the alias and symbol indexes.
// 1 if an index is corrupt (reported), else 0.
int show_config(const index::ModprobeConfig& config, const index::ModuleIndex& modules, const Options& o);

// kmod's show_exports() and show_modversions(): "0x%08lx\tNAME" for each
// export (--show-exports) or each __versions entry (--show-modversions) of
// the module file. 0, or -errno (reported).
enum class SymbolTable { Exports, Versions };
int show_symbols(const Options& o, const std::string& filename, SymbolTable table);

}  // namespace umod::tool::modprobe
