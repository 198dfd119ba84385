// modprobe -c, --show-exports and --show-modversions, and the log the
// modprobe parts share.
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "elf/elf_file.h"
#include "elf/kernel_module.h"
#include "elf/module_file.h"
#include "modprobe_tool.h"

namespace umod::tool::modprobe {

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


__attribute__((format(printf, 2, 3))) void show(const Options& o, const char* format, ...) {
    if (!o.show && o.verbose <= kLogWarning) return;
    va_list args;
    va_start(args, format);
    std::vprintf(format, args);
    va_end(args);
    std::fflush(stdout);
}


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


int show_symbols(const Options& o, const std::string& filename, SymbolTable table) {
    struct stat st {};
    if (::stat(filename.c_str(), &st) != 0) {
        log(o, o.log_priority, "Module %s not found.\n", filename.c_str());
        return -ENOENT;
    }
    const char* what = table == SymbolTable::Exports ? "symbols" : "modversions";
    auto fail = [&](int code) {
        log(o, o.log_priority, "could not get %s of %s: %s\n", what, filename.c_str(), std::strerror(code));
        return -code;
    };
    elf::ModuleFileBuffer buffer;
    auto bytes = elf::read_module_file(filename, {{}, 0, true}, buffer);
    if (!bytes) return fail(bytes.error().code());
    auto image = elf::ElfFile::parse(*bytes, elf::Machines::Any);
    if (!image) return fail(ENOEXEC);
    auto list = table == SymbolTable::Exports ? elf::module_exports(*image) : elf::module_versions(*image);
    if (!list) return fail(list.error().code());
    for (const auto& v : *list)
        std::printf("0x%08llx\t%.*s\n", static_cast<unsigned long long>(v.crc), static_cast<int>(v.name.size()),
                    v.name.data());
    return 0;
}


}  // namespace umod::tool::modprobe
