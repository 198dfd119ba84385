#include "core/symbolize.h"

#include <dlfcn.h>
#include <elf.h>
#include <elfutils/libdwfl.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "elf/elf_file.h"
#include "support/executable_path.h"
#include "support/mapped_file.h"
#include "support/private_library.h"
#include "elf/umod_module.h"

namespace umod::core {

struct Symbolizer::ObjectSymbols {
    struct Function {
        std::uint64_t start = 0;
        std::uint64_t size = 0;
        std::string name;
    };
    struct stat identity {};
    std::vector<Function> functions;  // sorted by start

    // The function whose range holds `vaddr`, or nullptr.
    const Function* find(std::uint64_t vaddr) const {
        auto it = std::upper_bound(functions.begin(), functions.end(), vaddr,
                                   [](std::uint64_t a, const Function& f) { return a < f.start; });
        if (it == functions.begin()) return nullptr;
        --it;
        return vaddr < it->start + it->size ? &*it : nullptr;
    }
};

namespace {

bool same_file(const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
           a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

// Function names as people read them (elf::readable_name).
std::string demangle(std::string_view name) { return elf::readable_name(name); }

// The main program's load bias and path: dladdr names it by argv[0], or not at all.
struct MainProgram {
    std::uintptr_t bias = 0;
    std::string path;
};

const MainProgram& main_program() {
    static const MainProgram program = [] {
        MainProgram p;
        dl_iterate_phdr(
            [](dl_phdr_info* info, std::size_t, void* data) {
                static_cast<MainProgram*>(data)->bias = info->dlpi_addr;
                return 1;  // the first object is the program
            },
            &p);
        p.path = support::executable_path();
        return p;
    }();
    return program;
}

std::string base_name(std::string_view path) {
    std::size_t slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// libdw, opened once (see Symbolizer::preload) in a scope of its own
// (support/private_library.h).
struct LibDw {
    decltype(&dwfl_begin) begin = nullptr;
    decltype(&dwfl_report_begin) report_begin = nullptr;
    decltype(&dwfl_linux_proc_report) proc_report = nullptr;
    decltype(&dwfl_report_end) report_end = nullptr;
    decltype(&dwfl_addrmodule) addrmodule = nullptr;
    decltype(&dwfl_module_getsrc) module_getsrc = nullptr;
    decltype(&dwfl_lineinfo) lineinfo = nullptr;
    decltype(&dwfl_end) end = nullptr;
    decltype(&dwfl_module_getdwarf) module_getdwarf = nullptr;
    decltype(&dwarf_nextcu) nextcu = nullptr;
    decltype(&dwarf_offdie) offdie = nullptr;
    decltype(&dwarf_haspc) haspc = nullptr;
    decltype(&dwarf_getsrc_die) getsrc_die = nullptr;
    decltype(&dwarf_lineno) lineno = nullptr;
    decltype(&dwarf_linesrc) linesrc = nullptr;
    Dwfl_Callbacks callbacks{};
    char* debuginfo_path = nullptr;

    // Null when libdw is not installed: reports then go without file:line.
    static const LibDw* get() {
        static const LibDw* const instance = []() -> const LibDw* {
            return support::bind_private_library<LibDw>("libdw.so.1", [](LibDw& dw, auto& bind) {
                bind(dw.begin, "dwfl_begin");
                bind(dw.report_begin, "dwfl_report_begin");
                bind(dw.proc_report, "dwfl_linux_proc_report");
                bind(dw.report_end, "dwfl_report_end");
                bind(dw.addrmodule, "dwfl_addrmodule");
                bind(dw.module_getsrc, "dwfl_module_getsrc");
                bind(dw.lineinfo, "dwfl_lineinfo");
                bind(dw.end, "dwfl_end");
                bind(dw.module_getdwarf, "dwfl_module_getdwarf");
                bind(dw.nextcu, "dwarf_nextcu");
                bind(dw.offdie, "dwarf_offdie");
                bind(dw.haspc, "dwarf_haspc");
                bind(dw.getsrc_die, "dwarf_getsrc_die");
                bind(dw.lineno, "dwarf_lineno");
                bind(dw.linesrc, "dwarf_linesrc");
                bind(dw.callbacks.find_elf, "dwfl_linux_proc_find_elf");
                bind(dw.callbacks.find_debuginfo, "dwfl_standard_find_debuginfo");
                dw.callbacks.debuginfo_path = &dw.debuginfo_path;
            }).table;
        }();
        return instance;
    }
};

// Source lines for the addresses, through libdw over the process's mappings.
class LineTables {
public:
    LineTables() : dw_(LibDw::get()) {
        if (dw_ == nullptr) return;
        dwfl_ = dw_->begin(&dw_->callbacks);
        if (dwfl_ == nullptr) return;
        dw_->report_begin(dwfl_);
        if (dw_->proc_report(dwfl_, getpid()) != 0) {
            dw_->end(dwfl_);
            dwfl_ = nullptr;
            return;
        }
        dw_->report_end(dwfl_, nullptr, nullptr);
    }
    ~LineTables() {
        if (dwfl_) dw_->end(dwfl_);
    }
    LineTables(const LineTables&) = delete;
    LineTables& operator=(const LineTables&) = delete;

    void fill(std::uintptr_t address, StackFrame& frame) {
        if (dwfl_ == nullptr) return;
        Dwfl_Module* module = dw_->addrmodule(dwfl_, address);
        if (module == nullptr) return;
        int number = 0;
        const char* file = nullptr;
        if (Dwfl_Line* line = dw_->module_getsrc(module, address))
            file = dw_->lineinfo(line, nullptr, &number, nullptr, nullptr, nullptr);
        else
            file = line_by_unit_ranges(module, address, number);
        if (file == nullptr || number <= 0) return;
        frame.file = file;
        frame.line = static_cast<unsigned>(number);
    }

private:
    // dwfl_module_getsrc finds an address's compilation unit through
    // .debug_aranges, which Clang does not write (GCC does) and libdw 0.188
    // does not make up: look through the units' own address ranges instead.
    const char* line_by_unit_ranges(Dwfl_Module* module, std::uintptr_t address, int& number) const {
        Dwarf_Addr bias = 0;
        Dwarf* dwarf = dw_->module_getdwarf(module, &bias);
        if (dwarf == nullptr) return nullptr;
        const Dwarf_Addr pc = address - bias;
        Dwarf_Off offset = 0, next = 0;
        std::size_t header = 0;
        for (; dw_->nextcu(dwarf, offset, &next, &header, nullptr, nullptr, nullptr) == 0; offset = next) {
            Dwarf_Die unit;
            if (dw_->offdie(dwarf, offset + header, &unit) == nullptr || dw_->haspc(&unit, pc) != 1) continue;
            Dwarf_Line* line = dw_->getsrc_die(&unit, pc);
            if (line == nullptr || dw_->lineno(line, &number) != 0) return nullptr;
            return dw_->linesrc(line, nullptr, nullptr);
        }
        return nullptr;
    }

    const LibDw* dw_;
    Dwfl* dwfl_ = nullptr;
};

}  // namespace

void Symbolizer::preload() {
    if (!support::kOwnScopeFirst) (void)LibDw::get();
}

Symbolizer::Symbolizer() = default;
Symbolizer::~Symbolizer() = default;

std::shared_ptr<const Symbolizer::ObjectSymbols> Symbolizer::symbols_of(const std::string& path) {
    struct stat identity {};
    if (stat(path.c_str(), &identity) != 0) return nullptr;
    {
        support::MutexLock lock(mutex_);
        auto it = objects_.find(path);
        if (it != objects_.end() && same_file(it->second->identity, identity)) return it->second;
    }
    auto symbols = std::make_shared<ObjectSymbols>();
    symbols->identity = identity;
    if (auto file = support::MappedFile::open(path)) {
        if (auto elf = elf::ElfFile::parse(file->bytes())) {
            const elf::Section* table = elf->section(".symtab");
            if (table == nullptr) table = elf->section(".dynsym");
            auto entries = table ? elf->symbols(*table) : Expected<std::vector<elf::Symbol>>(std::vector<elf::Symbol>{});
            if (entries) {
                for (const elf::Symbol& s : *entries)
                    if ((s.type == STT_FUNC || s.type == STT_GNU_IFUNC) && s.shndx != SHN_UNDEF && s.size != 0)
                        symbols->functions.push_back({s.value, s.size, demangle(s.name)});
                std::sort(symbols->functions.begin(), symbols->functions.end(),
                          [](const auto& a, const auto& b) { return a.start < b.start; });
            }
        }
    }
    support::MutexLock lock(mutex_);
    objects_[path] = symbols;
    return symbols;
}

StackTrace Symbolizer::symbolize(std::span<const std::uintptr_t> addresses) {
    StackTrace trace;
    trace.reserve(addresses.size());
    LineTables lines;
    for (std::uintptr_t address : addresses) {
        StackFrame frame;
        frame.address = address;
        // A return address may be just past a call that ends its function:
        // look up the call instruction itself.
        std::uintptr_t call = address - 1;
        Dl_info info{};
        if (dladdr(reinterpret_cast<void*>(call), &info) != 0 && info.dli_fbase != nullptr) {
            auto base = reinterpret_cast<std::uintptr_t>(info.dli_fbase);
            const MainProgram& program = main_program();
            std::string path = info.dli_fname ? info.dli_fname : "";
            if (base == program.bias || path.empty()) path = program.path;
            frame.object = base_name(path);
            frame.offset = address - base;
            if (auto symbols = symbols_of(path)) {
                if (const auto* function = symbols->find(call - base)) {
                    frame.function = function->name;
                    frame.offset = address - base - function->start;
                }
            }
            if (frame.function.empty() && info.dli_sname != nullptr && info.dli_saddr != nullptr) {
                frame.function = demangle(info.dli_sname);
                frame.offset = address - reinterpret_cast<std::uintptr_t>(info.dli_saddr);
            }
        }
        lines.fill(call, frame);
        trace.push_back(std::move(frame));
    }
    return trace;
}

}  // namespace umod::core
