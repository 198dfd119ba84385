// The log of kmod's tools (kmod's tools/log.c), shared by umod's kmod
// commands: "PROG: PRIORITY: message" on stderr — or to syslog(3) with -s —
// when the priority is within the verbosity; libkmod's own messages through
// it carry libkmod's source position, as Debian's kmod 30 prints them.
#pragma once

#include <string>
#include <string_view>

#include "index/modprobe_config.h"

namespace umod::tool {

// syslog priorities, as kmod's tools use them for their verbosity.
inline constexpr int kLogCrit = 2, kLogErr = 3, kLogWarning = 4, kLogNotice = 5, kLogInfo = 6, kLogDebug = 7;

class KmodLog {
public:
    KmodLog(std::string_view prog, int verbose) : prog_(prog), verbose_(verbose) {}
    // -s: messages go to syslog (openlog(PROG, LOG_CONS, LOG_DAEMON)) from now on.
    void use_syslog();
    void set_verbose(int verbose) { verbose_ = verbose; }
    int verbose() const { return verbose_; }

    // The tool's own message.
    __attribute__((format(printf, 3, 4))) void log(int priority, const char* format, ...) const;
    // A libkmod message: `where` is its "../libkmod/FILE.c:LINE FUNCTION()".
    __attribute__((format(printf, 4, 5))) void lib(int priority, const char* where, const char* format, ...) const;

private:
    void emit(int priority, const std::string& text) const;
    std::string prog_;
    int verbose_;
    bool syslog_ = false;
};

// libkmod's default logger (a tool that installs none, as lsmod): "libkmod:
// PRIORITY WHERE: message" on stderr, ERROR and worse only.
__attribute__((format(printf, 3, 4))) void libkmod_default_log(int priority, const char* where, const char* format, ...);

const char* kmod_priority_name(int priority);

// What libkmod's default logger prints while kmod_new() reads the
// configuration (before a tool installs its own logger).
void print_config_diagnostic(const index::ConfigDiagnostic& d);
// /proc/cmdline's text (empty if it cannot be read), as libkmod reads it.
std::string read_kernel_cmdline();
// What kmod_new() does in every tool even without configuration files: read
// the kernel command line, and complain about its bad module options.
void parse_kernel_cmdline_as_kmod_new();

// `PROG --version`: umod's version, and that it follows kmod 30.
int print_version();

}  // namespace umod::tool
