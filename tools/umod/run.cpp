// umod run [SCRIPT|-] — the scripted host. One command per line:
//   insmod PATH [name=value...]     rmmod NAME [--force] [--wait=MS]
//   lsmod    proc-modules    holders NAME    json    dot    modinfo PATH
//   call MODULE SYMBOL              (calls the module's exported int SYMBOL(void))
//   track off|counts|stacks         (the tracking level; UMOD_TRACK sets the first)
//   modtree DIR                     (a tree indexed by `umod depmod --umod`; it also
//                                    serves modules' symbol_request)
//   modprobe NAME [name=value...]   modprobe -r NAME   (through that tree)
//   report text|json                (how reports, errors and holders are printed)
//   echo TEXT    # comment
// A line starting with '!' expects the command to fail. Reports the registry
// raises (unmatched put, leak, unload hazards) are printed as they happen; at
// the stacks level with where each reference was taken and dropped.
// Exit status: 0 only if every command met its expectation.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ext/stdio_filebuf.h>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <umod/loader.h>
#include <umod/umod.h>
#include <umod/views.h>

#include "commands.h"
#include "elf/elf_file.h"
#include "support/mapped_file.h"

namespace umod::tool {

namespace {

// Prints the registry's reports as they happen, as text or JSON.
class ReportPrinter final : public Observer {
public:
    bool json = false;

    void on_event(const Event& e) override {
        if (json && e.kind == EventKind::UnmatchedPut && e.error != nullptr) {
            std::fputs(views::json(*e.error).c_str(), stdout);
            std::fflush(stdout);
            return;
        }
        if (json && e.kind == EventKind::Leak && e.leaked != nullptr) {
            Leak leak{std::string(e.user), std::string(e.provider), *e.leaked};
            std::fputs(views::json(leak).c_str(), stdout);
            std::fflush(stdout);
            return;
        }
        switch (e.kind) {
            case EventKind::UnmatchedPut:
            case EventKind::Leak:
            case EventKind::Warning:
                std::printf("[%s] %.*s\n", std::string(to_string(e.kind)).c_str(), static_cast<int>(e.text.size()),
                            e.text.data());
                break;
            case EventKind::Unloaded:
                if (e.text.find("still mapped") != std::string_view::npos)
                    std::printf("[warning] %.*s\n", static_cast<int>(e.text.size()), e.text.data());
                break;
            default:
                break;
        }
        std::fflush(stdout);
    }
};

std::vector<std::string> split(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    return words;
}

Status fail(int code, std::string message) { return Error(code, std::move(message)); }

class Host {
public:
    Host() { registry_.subscribe(printer_); }
    ~Host() { registry_.unsubscribe(printer_); }

    bool json_reports() const { return printer_.json; }

    Status run(const std::vector<std::string>& w, const std::string& rest) {
        const std::string& cmd = w[0];
        if (cmd == "echo") {
            std::printf("%s\n", rest.c_str());
            return {};
        }
        if (cmd == "insmod") {
            if (w.size() < 2) return fail(EINVAL, "usage: insmod PATH [name=value...]");
            std::vector<std::string> params(w.begin() + 2, w.end());
            auto loaded = load_module_file(registry_, w[1], params);
            if (!loaded) return loaded.error();
            return {};
        }
        if (cmd == "rmmod") {
            if (w.size() < 2) return fail(EINVAL, "usage: rmmod NAME [--force] [--wait=MS]");
            UnloadOptions options;
            for (std::size_t i = 2; i < w.size(); ++i) {
                if (w[i] == "--force" || w[i] == "-f") options.mode = UnloadMode::Force;
                else if (w[i].starts_with("--wait=")) options.wait = std::chrono::milliseconds(std::stol(w[i].substr(7)));
                else return fail(EINVAL, "rmmod: unknown option " + w[i]);
            }
            auto report = registry_.unload(w[1], options);
            if (!report) return report.error();
            if (report->unmap.unmapped) std::printf("  %s unloaded, code unmapped\n", w[1].c_str());
            for (const auto& held : report->forced)
                std::printf("  [forced] %s%s\n", describe_holder(held).c_str(),
                            describe_acquisitions(held, w[1]).c_str());
            return {};
        }
        if (cmd == "track") {
            if (w.size() != 2) return fail(EINVAL, "usage: track off|counts|stacks");
            auto level = parse_track_level(w[1]);
            if (!level) return level.error();
            registry_.set_tracking(*level);
            return {};
        }
        if (cmd == "report") {
            if (w.size() != 2 || (w[1] != "text" && w[1] != "json")) return fail(EINVAL, "usage: report text|json");
            printer_.json = w[1] == "json";
            return {};
        }
        if (cmd == "dot") {
            std::fputs(views::dot(registry_.snapshot()).c_str(), stdout);
            return {};
        }
        if (cmd == "lsmod") {
            std::fputs(views::lsmod(registry_.snapshot()).c_str(), stdout);
            return {};
        }
        if (cmd == "proc-modules") {
            std::fputs(views::proc_modules(registry_.snapshot()).c_str(), stdout);
            return {};
        }
        if (cmd == "holders") {
            if (w.size() < 2) return fail(EINVAL, "usage: holders NAME");
            auto holders = registry_.holders(w[1]);
            if (!holders) return holders.error();
            if (printer_.json) {
                std::fputs(views::json(w[1], *holders).c_str(), stdout);
                return {};
            }
            std::fputs(views::holders(registry_.snapshot(), w[1]).c_str(), stdout);
            // At the stacks level: where each reference still held was taken.
            for (const HolderCounts& h : *holders) {
                std::string where = describe_acquisitions(h, w[1]);
                if (!where.empty()) std::printf("%s\n", where.c_str() + 1);
            }
            return {};
        }
        if (cmd == "json") {
            std::fputs(views::json(registry_.snapshot()).c_str(), stdout);
            return {};
        }
        if (cmd == "modinfo") {
            if (w.size() < 2) return fail(EINVAL, "usage: modinfo PATH");
            return modinfo(w[1]);
        }
        if (cmd == "modtree") {
            if (w.size() != 2) return fail(EINVAL, "usage: modtree DIR");
            tree_.reset();  // stops serving requests before the next tree does
            auto tree = ModuleTree::open(registry_, w[1]);
            if (!tree) return tree.error();
            tree_ = std::move(*tree);
            tree_->serve_requests();
            return {};
        }
        if (cmd == "modprobe") {
            if (w.size() < 2) return fail(EINVAL, "usage: modprobe NAME [name=value...] | modprobe -r NAME");
            if (!tree_) return fail(ENOENT, "modprobe: no module tree (modtree DIR first)");
            if (w[1] == "-r") {
                if (w.size() != 3) return fail(EINVAL, "usage: modprobe -r NAME");
                auto removed = tree_->remove(w[2]);
                if (!removed) return removed.error();
                for (const auto& r : *removed)
                    if (r.report.unmap.unmapped) std::printf("  %s unloaded, code unmapped\n", r.module.c_str());
                return {};
            }
            std::vector<std::string> params(w.begin() + 2, w.end());
            auto probed = tree_->probe(w[1], params);
            if (!probed) return probed.error();
            return {};
        }
        if (cmd == "call") {
            if (w.size() < 3) return fail(EINVAL, "usage: call MODULE SYMBOL");
            return call(w[1], w[2]);
        }
        return fail(EINVAL, "unknown command: " + cmd);
    }

private:
    Status modinfo(const std::string& path) {
        auto file = support::MappedFile::open(path);
        if (!file) return file.error();
        auto elf = elf::ElfFile::parse(file->bytes());
        if (!elf) return elf.error().context(path);
        std::printf("%-15s %s\n", "filename:", path.c_str());
        if (const elf::Section* s = elf->section(".modinfo")) {
            auto data = elf->contents(*s);
            if (!data) return data.error();
            for (auto [key, value] : elf::parse_modinfo(*data))
                std::printf("%-15s %.*s\n", (std::string(key) + ":").c_str(), static_cast<int>(value.size()),
                            value.data());
        }
        return {};
    }

    // Calls MODULE's export SYMBOL as int(void), holding a reference meanwhile.
    Status call(const std::string& module, const std::string& symbol) {
        ModuleHandle handle = registry_.find(module);
        if (!handle) return Error::with(ENOENT, NoSuchModule{module});
        auto holders = registry_.snapshot();
        bool owns = false;
        for (const auto& m : holders.modules)
            if (m.name == module)
                for (const auto& e : m.exports) owns |= e.name == symbol;
        if (!owns) return fail(ENOENT, module + " does not export " + symbol);
        User* self = registry_.holder("umod-run");
        auto address = registry_.symbol_get(symbol, self);
        if (!address) return address.error();
        int result = reinterpret_cast<int (*)()>(*address)();
        (void)registry_.symbol_put(symbol, self);
        std::printf("%s.%s() = %d\n", module.c_str(), symbol.c_str(), result);
        return {};
    }

    Registry registry_;
    ReportPrinter printer_;
    std::unique_ptr<ModuleTree> tree_;  // declared after the registry: destroyed first
};

}  // namespace

int run_main(std::string_view prog, std::span<char* const> args) {
    std::string source = args.empty() ? "-" : args[0];
    std::ifstream file;
    // Standard input through its own buffer rather than std::cin: <iostream>
    // would construct the standard streams at the start of every umod command.
    __gnu_cxx::stdio_filebuf<char> stdin_buffer(STDIN_FILENO, std::ios::in);
    std::istream stdin_stream(&stdin_buffer);
    std::istream* in = &stdin_stream;
    if (source != "-") {
        file.open(source);
        if (!file) {
            std::fprintf(stderr, "%.*s: cannot open %s: %s\n", static_cast<int>(prog.size()), prog.data(),
                         source.c_str(), std::strerror(errno));
            return 2;
        }
        in = &file;
    }
    int failures = 0;
    {
        Host host;
        std::string line;
        for (int lineno = 1; std::getline(*in, line); ++lineno) {
            std::size_t start = line.find_first_not_of(" \t");
            if (start == std::string::npos || line[start] == '#') continue;
            line = line.substr(start);
            bool expect_failure = line[0] == '!';
            if (expect_failure) line = line.substr(line.find_first_not_of(" \t", 1));
            std::vector<std::string> words = split(line);
            std::string rest = line.size() > words[0].size() ? line.substr(words[0].size() + 1) : "";
            if (words[0] != "echo") std::printf("%s %s\n", expect_failure ? "!>" : ">", line.c_str());
            std::fflush(stdout);
            Status status = host.run(words, rest);
            if (!status && host.json_reports()) {
                std::fputs(views::json(status.error()).c_str(), stdout);
            } else if (!status) {
                std::printf("  error %s: %s\n", strerrorname_np(status.error().code()), status.error().message().c_str());
            }
            if (!status) {
                if (!expect_failure) {
                    std::printf("  (line %d: unexpected failure)\n", lineno);
                    ++failures;
                }
            } else if (expect_failure) {
                std::printf("  (line %d: expected a failure, but it succeeded)\n", lineno);
                ++failures;
            }
            std::fflush(stdout);
        }
        // The host's teardown unloads what is left, reporting leaks.
    }
    if (failures != 0) std::printf("%d command(s) did not meet their expectation\n", failures);
    return failures == 0 ? 0 : 1;
}

}  // namespace umod::tool
