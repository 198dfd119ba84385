#include "kmod_log.h"

#include <string>
#include <vector>

#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>

#include <cstdarg>
#include <cstdio>

namespace umod::tool {

namespace {

__attribute__((format(printf, 1, 0))) std::string vformat(const char* format, va_list args) {
    va_list copy;
    va_copy(copy, args);
    int n = std::vsnprintf(nullptr, 0, format, copy);
    va_end(copy);
    if (n <= 0) return {};
    std::string out(static_cast<std::size_t>(n), '\0');
    std::vsnprintf(out.data(), out.size() + 1, format, args);
    return out;
}

}  // namespace

const char* kmod_priority_name(int priority) {
    switch (priority) {
        case 0: return "EMERGENCY";
        case 1: return "ALERT";
        case 2: return "FATAL";
        case 3: return "ERROR";
        case 4: return "WARNING";
        case 5: return "NOTICE";
        case 6: return "INFO";
        default: return "DEBUG";
    }
}

void KmodLog::use_syslog() {
    openlog(prog_.c_str(), LOG_CONS, LOG_DAEMON);
    syslog_ = true;
}

void KmodLog::emit(int priority, const std::string& text) const {
    if (syslog_)
        syslog(priority, "%s: %s", kmod_priority_name(priority), text.c_str());
    else
        std::fprintf(stderr, "%s: %s: %s", prog_.c_str(), kmod_priority_name(priority), text.c_str());
}

void KmodLog::log(int priority, const char* format, ...) const {
    if (priority > verbose_) return;
    va_list args;
    va_start(args, format);
    std::string text = vformat(format, args);
    va_end(args);
    emit(priority, text);
}

void KmodLog::lib(int priority, const char* where, const char* format, ...) const {
    if (priority > verbose_) return;
    va_list args;
    va_start(args, format);
    std::string text = vformat(format, args);
    va_end(args);
    emit(priority, std::string(where) + " " + text);
}

void libkmod_default_log(int priority, const char* where, const char* format, ...) {
    if (priority > kLogErr) return;
    va_list args;
    va_start(args, format);
    std::string text = vformat(format, args);
    va_end(args);
    std::fprintf(stderr, "libkmod: %s %s: %s", kmod_priority_name(priority), where, text.c_str());
}

// What libkmod's default logger prints while kmod_new() reads the
// configuration, before modprobe installs its own: libkmod's source
// positions included, as Debian's kmod 30 prints them.
void print_config_diagnostic(const index::ConfigDiagnostic& d) {
    using Kind = index::ConfigDiagnostic::Kind;
    switch (d.kind) {
        case Kind::BadLine:
            std::fprintf(stderr,
                         "libkmod: ERROR ../libkmod/libkmod-config.c:712 kmod_config_parse: %s line %u: ignoring bad "
                         "line starting with '%s'\n",
                         d.file.c_str(), d.line, d.word.c_str());
            break;
        case Kind::Deprecated:
            std::fprintf(stderr,
                         "libkmod: ERROR ../libkmod/libkmod-config.c:708 kmod_config_parse: %s: command %s is "
                         "deprecated and not parsed anymore\n",
                         d.file.c_str(), d.word.c_str());
            break;
        case Kind::NestedDirectory:
            std::fprintf(stderr,
                         "libkmod: ERROR ../libkmod/libkmod-config.c:772 conf_files_filter_out: Directories inside "
                         "directories are not supported: %s\n",
                         d.file.c_str());
            break;
        case Kind::BadKernelOption:
            std::fprintf(stderr,
                         "libkmod: ERROR ../libkmod/libkmod-config.c:489 kcmdline_parse_result: Ignoring bad option "
                         "on kernel command line while parsing module name: '%s'\n",
                         d.word.c_str());
            break;
    }
}

std::string read_kernel_cmdline() {
    int fd = ::open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    char buf[4096];
    ssize_t n;
    do n = ::read(fd, buf, sizeof buf - 1);
    while (n < 0 && errno == EINTR);
    ::close(fd);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

void parse_kernel_cmdline_as_kmod_new() {
    index::ModprobeConfig config;
    std::vector<index::ConfigDiagnostic> diagnostics;
    config.parse_kernel_cmdline(read_kernel_cmdline(), diagnostics);
    for (const auto& d : diagnostics) print_config_diagnostic(d);
}

int print_version() {
    std::printf("umod version %s (kmod 30 compatible)\n", UMOD_VERSION);
    return 0;
}

}  // namespace umod::tool
