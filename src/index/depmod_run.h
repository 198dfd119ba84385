// The parts of depmod (depmod.cpp runs them in order): the walk that finds
// the modules (depmod_walk.cpp), the module reader (depmod_read.cpp), the
// symbol tables and the dependency order (depmod_symbols.cpp), and the output
// files, each with its writer (depmod_output.cpp). Internal to src/index.
#pragma once

#include <dirent.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <umod/expected.h>

#include "index/depmod.h"

namespace umod::index::depmod_run {

// kmod's log priorities (syslog's) and its tool log, "depmod: WARNING: ...".
enum Priority { kFatal = 2, kError = 3, kWarning = 4, kNotice = 5, kInfo = 6 };

class Log {
public:
    Log(std::FILE* file, int verbosity) : file_(file), verbosity_(verbosity) {}
    int verbosity() const { return verbosity_; }
    std::FILE* file() const { return file_; }
    [[gnu::format(printf, 3, 4)]] void operator()(Priority priority, const char* format, ...) const {
        if (priority > verbosity_ || file_ == nullptr) return;
        static constexpr const char* kNames[] = {"", "", "FATAL", "ERROR", "WARNING", "NOTICE", "INFO"};
        std::fprintf(file_, "depmod: %s: ", kNames[priority]);
        va_list args;
        va_start(args, format);
        std::vfprintf(file_, format, args);
        va_end(args);
    }

private:
    std::FILE* file_;
    int verbosity_;
};

inline Error fatal(int code, std::string message) { return Error(code, std::move(message)); }

struct Module {
    std::string name;
    std::string path;     // absolute
    std::string relpath;  // relative to the module directory; empty outside it
    int sort_idx = 1;
    std::uint32_t idx = 0;
    // Exports, compact as the imports: the names end to end in
    // `export_names`, which is not changed once the module is read (the
    // symbol table's keys point into it).
    struct Export {
        std::uint32_t offset;
        std::uint32_t size;
        std::uint32_t crc;
    };
    std::vector<Export> exports;
    std::string export_names;
    void add_export(std::string_view symbol, std::uint32_t crc) {
        exports.push_back({static_cast<std::uint32_t>(export_names.size()), static_cast<std::uint32_t>(symbol.size()), crc});
        export_names += symbol;
    }
    std::string_view export_name(const Export& e) const {
        return std::string_view(export_names).substr(e.offset, e.size);
    }
    // Imports, compact (a tree has some 250,000): the names end to end in
    // `import_names`, each import its place there.
    struct Import {
        std::uint32_t offset;
        std::uint32_t size : 31;
        std::uint32_t weak : 1;
        std::uint32_t crc;
    };
    std::vector<Import> imports;
    std::string import_names;
    void add_import(std::string_view symbol, std::uint32_t crc, bool weak) {
        imports.push_back({static_cast<std::uint32_t>(import_names.size()), static_cast<std::uint32_t>(symbol.size()),
                           weak ? 1u : 0u, crc});
        import_names += symbol;
    }
    std::string_view import_name(const Import& i) const {
        return std::string_view(import_names).substr(i.offset, i.size);
    }
    std::vector<std::string> aliases;
    std::vector<std::string> softdeps;
    std::vector<Module*> deps;  // first-reference order
    int users = 0;
    std::uint32_t dep_sort_idx = 0;
    bool read = false;   // exports, imports and modinfo are filled in
    int read_error = 0;  // a kernel module that could not be read: the errno (reported in index order)

    // The name modules.dep gives it: relative inside the module directory.
    const std::string& listed_path() const { return relpath.empty() ? path : relpath; }
};

struct SymbolOwner {
    Module* owner;  // nullptr: the kernel itself
    std::uint32_t crc;
};

// The module directory BASEDIR/lib/modules/VERSION, opened once: every file
// depmod reads or writes there is reached relative to this descriptor, and
// the walks read it through its one stream (so the descriptor numbers in
// kmod's messages are kmod's).
class ModuleDir {
public:
    explicit ModuleDir(std::string dirname);
    ~ModuleDir();
    ModuleDir(const ModuleDir&) = delete;
    ModuleDir& operator=(const ModuleDir&) = delete;

    const std::string& name() const { return name_; }
    // The descriptor, or -1 with open_error() the errno.
    int fd() const { return fd_; }
    // The directory stream, rewound; nullptr with errno = open_error().
    DIR* rewound() const;
    int open_error() const { return error_; }
    // openat(fd(), file, O_RDONLY | O_CLOEXEC): a descriptor, or -1 with errno.
    int open_file(const char* file) const;
    // The text of `file` (up to a read error, as stdio would give it): false
    // with errno set when it cannot be opened.
    bool read_file(const char* file, std::string& out) const;

private:
    std::string name_;
    DIR* stream_ = nullptr;
    int fd_ = -1;
    int error_ = 0;
};

// One run of depmod: its options, where it logs, and what it has found.
struct Run {
    Run(const DepmodOptions& o, std::FILE* out_file, std::FILE* log_file, std::string dirname)
        : options(o), out(out_file), log(log_file, kWarning + o.verbose),
          kernel(o.format == ModuleFormat::Kernel), dir(std::move(dirname)) {}

    const DepmodOptions& options;
    std::FILE* out;  // -n's text and -v's lines
    const Log log;
    const bool kernel;  // Linux modules (not umod's)
    ModuleDir dir;
    std::vector<std::unique_ptr<Module>> found;           // every module kept, in walk order
    std::vector<Module*> modules;                         // the index's order (Module::idx)
    // The kernel's exports, then every module's (later wins); the keys point
    // into `kernel_names` and the modules' export_names.
    std::unordered_map<std::string_view, SymbolOwner> symbols;
    std::deque<std::string> kernel_names;  // -E's or -F's names
};

// depmod_walk.cpp
bool is_module_file(std::string_view name, ModuleFormat format);
// The modules of the tree (depmod.d's rules) or those named by -options;
// kmod's FATAL message when the module directory cannot be searched.
Status find_modules(Run& run);
// kmod's order: its hash table's, then modules.order's (stable).
void order_modules(Run& run);
// -A's test: true when modules.dep is newer than every module file.
Expected<bool> up_to_date(const ModuleDir& dir, ModuleFormat format, const Log& log);

// depmod.cpp: the name a umod module file gives its module (the loader's rule).
std::string umod_module_name(std::string_view path);

// depmod_read.cpp
// A umod module's exports, imports and modinfo (MODULE_NAME renames it);
// false when it cannot be read (reported).
bool read_umod_module(Module& m, const Log& log);
// Every module's exports, imports and modinfo (kernel modules on every core);
// files that cannot be read are reported in the index's order.
void read_modules(Run& run);

// depmod_symbols.cpp
// -E's or -F's kernel exports into run.symbols; kmod's FATAL message when
// the file cannot be read.
Status load_kernel_symbols(Run& run);
// Module exports into run.symbols, then each module's dependencies.
void resolve_dependencies(Run& run);
// Topological order (Module::dep_sort_idx); ELOOP with DependencyCycles.
Status sort_dependencies(Run& run);

// depmod_output.cpp
// Every output file, in kmod's order: -n's text files on run.out, or each
// file written through a temporary name and renamed into place.
Status write_outputs(Run& run);

}  // namespace umod::index::depmod_run
