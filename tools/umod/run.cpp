// umod run [--control[=read|manage]] [SCRIPT|-] — the scripted host. One
// command per line (`umod run --help` and the `help` command list them):
//   the live-host requests of <umod/control.h>, the same as `umod CMD -p PID`:
//     lsmod  proc-modules  holders NAME  graph [--json|--dot]  modinfo NAME
//     insmod PATH [name=value...]  rmmod [-f] [-w|--wait=MS] NAME  track [LEVEL]  status
//   and the script's own:
//     json  dot  modinfo PATH            (the graph; a module file's .modinfo)
//     call MODULE SYMBOL [INT...]         (calls the export as int SYMBOL(long...))
//     get SYMBOL [HOLDER]  put SYMBOL [HOLDER]   (a reference for a named holder)
//     modtree DIR  modprobe NAME [name=value...]  modprobe -r NAME
//     report text|json  echo TEXT  pause [MS]  wait MS  help
// Words are split as a shell splits them ("two words", 'x', \ ); `#` starts a
// comment. A line starting with '!' expects the command to fail. Reports the
// registry raises (unmatched put, leak, unload hazards) are printed as they
// happen; at the stacks level with where each reference was taken and dropped.
// With --control the script's registry listens (manage access unless =read):
// `pause` lets another shell inspect it (umod lsmod -p PID) until SIGUSR1.
// Exit status: 0 only if every command met its expectation; 2 for bad usage.
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <charconv>
#include <thread>
#include <cstdio>
#include <cstring>
#include <ext/stdio_filebuf.h>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <umod/control.h>
#include <umod/loader.h>
#include <umod/metadata.h>
#include <umod/umod.h>
#include <umod/views.h>

#include "commands.h"
#include "script_line.h"

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

Status fail(int code, std::string message) { return Error(code, std::move(message)); }

struct ScriptCommand {
    std::string_view usage;
    std::string_view summary;
};

// The script's own commands; the live-host requests come from control::verbs().
constexpr ScriptCommand kScriptCommands[] = {
    {"json", "the whole graph as JSON (graph --json)"},
    {"dot", "the whole graph as DOT (graph --dot)"},
    {"modinfo PATH", "a module file's .modinfo (a NAME without '/' or '.so': the loaded module)"},
    {"call MODULE SYMBOL [INT...]", "call MODULE's export (C or C++ name) as int SYMBOL(long...), holding a reference"},
    {"get SYMBOL [HOLDER]", "take a reference for HOLDER (default umod-run)"},
    {"put SYMBOL [HOLDER]", "drop one"},
    {"modtree DIR", "a tree indexed by `umod depmod --umod`; it serves symbol_request"},
    {"modprobe NAME [name=value...]", "load NAME and its dependencies through the tree"},
    {"modprobe -r NAME", "unload NAME and the dependencies nothing else uses"},
    {"report text|json", "how reports, errors and holders are printed"},
    {"echo TEXT", "print TEXT"},
    {"pause [MS]", "wait for SIGUSR1 (or MS milliseconds): another shell may inspect the host"},
    {"wait MS", "sleep MS milliseconds"},
    {"help", "this list"},
};

void print_script_help(FILE* out) {
    std::fprintf(out, "script commands (one per line; '!' first: expected to fail; '#': a comment):\n");
    for (const auto& v : control::verbs()) {
        if (v.verb == control::Verb::Monitor) continue;
        std::fprintf(out, "  %-44.*s %.*s\n", static_cast<int>(v.usage.size()), v.usage.data(),
                     static_cast<int>(v.summary.size()), v.summary.data());
    }
    for (const auto& c : kScriptCommands)
        std::fprintf(out, "  %-44.*s %.*s\n", static_cast<int>(c.usage.size()), c.usage.data(),
                     static_cast<int>(c.summary.size()), c.summary.data());
}

Expected<long> parse_long(std::string_view text, std::string_view what) {
    long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
        return Error(EINVAL, std::string(what) + ": '" + std::string(text) + "' is not a number");
    return value;
}

Expected<std::chrono::milliseconds> parse_ms(std::string_view text, std::string_view what) {
    auto value = parse_long(text, what);
    if (!value) return value.error();
    if (*value < 0 || *value > control::kMaxWait.count())
        return Error(EINVAL, std::string(what) + ": " + std::string(text) + " ms is not between 0 and " +
                                 std::to_string(control::kMaxWait.count()));
    return std::chrono::milliseconds(*value);
}

// Prints an answer; rmmod's report lines are indented as the script's other reports.
void print_answer(control::Verb verb, const std::string& body) {
    if (verb != control::Verb::Rmmod) {
        std::fputs(body.c_str(), stdout);
        return;
    }
    std::string_view rest = body;
    while (!rest.empty()) {
        std::size_t nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        std::printf("%s%.*s\n", line.starts_with(' ') ? "" : "  ", static_cast<int>(line.size()), line.data());
    }
}

class Host {
public:
    explicit Host(const RegistryOptions& options) : registry_(options) { registry_.subscribe(printer_); }
    ~Host() { registry_.unsubscribe(printer_); }

    bool json_reports() const { return printer_.json; }

    Status run(const ScriptLine& line) {
        const std::vector<std::string>& w = line.words;
        const std::string& cmd = w[0];
        if (cmd == "echo") {
            std::printf("%s\n", line.echo.c_str());
            return {};
        }
        if (cmd == "help") {
            print_script_help(stdout);
            return {};
        }
        if (cmd == "report") {
            if (w.size() != 2 || (w[1] != "text" && w[1] != "json")) return fail(EINVAL, "usage: report text|json");
            printer_.json = w[1] == "json";
            return {};
        }
        if (cmd == "json" || cmd == "dot") {
            if (w.size() != 1) return fail(EINVAL, "usage: " + cmd);
            return shared({"graph", cmd == "json" ? "--json" : "--dot"});
        }
        if (cmd == "modinfo" && w.size() == 2 &&
            (w[1].find('/') != std::string::npos || w[1].ends_with(".so") || w[1].ends_with(".ko")))
            return modinfo(w[1]);
        if (cmd == "modtree") {
            if (w.size() != 2) return fail(EINVAL, "usage: modtree DIR");
            tree_.reset();  // stops serving requests before the next tree does
            auto tree = ModuleTree::open(registry_, w[1]);
            if (!tree) return tree.error();
            tree_ = std::move(*tree);
            tree_->serve_requests();
            return {};
        }
        if (cmd == "modprobe") return modprobe(w);
        if (cmd == "call") {
            if (w.size() < 3 || w.size() > 7) return fail(EINVAL, "usage: call MODULE SYMBOL [INT...] (at most 4)");
            return call(w);
        }
        if (cmd == "get" || cmd == "put") {
            if (w.size() < 2 || w.size() > 3) return fail(EINVAL, "usage: " + cmd + " SYMBOL [HOLDER]");
            User* who = registry_.holder(w.size() == 3 ? w[2] : "umod-run");
            if (cmd == "put") return registry_.symbol_put(w[1], who);
            auto got = registry_.symbol_get(w[1], who);
            if (!got) return got.error();
            return {};
        }
        if (cmd == "pause") {
            if (w.size() > 2) return fail(EINVAL, "usage: pause [MS]");
            std::optional<std::chrono::milliseconds> limit;
            if (w.size() == 2) {
                auto ms = parse_ms(w[1], "pause");
                if (!ms) return ms.error();
                limit = *ms;
            }
            return pause(limit);
        }
        if (cmd == "wait") {
            if (w.size() != 2) return fail(EINVAL, "usage: wait MS");
            auto ms = parse_ms(w[1], "wait");
            if (!ms) return ms.error();
            std::this_thread::sleep_for(*ms);
            return {};
        }
        if (control::find_verb(cmd) != nullptr) return shared(w);
        return fail(EINVAL, "unknown command '" + cmd + "' (help lists them)");
    }

private:
    // A live-host request, answered here as the endpoint answers it.
    Status shared(const std::vector<std::string>& words) {
        auto request = control::parse_request(words);
        if (!request) return request.error();
        if (printer_.json && request->verb == control::Verb::Holders) request->format = control::Format::Json;
        auto answer = control::execute(registry_, *request, ControlAccess::Manage, control::Reports::Elsewhere);
        if (!answer) return answer.error();
        print_answer(request->verb, *answer);
        return {};
    }

    Status pause(std::optional<std::chrono::milliseconds> limit) {
        std::printf("  paused: pid %d; kill -USR1 %d goes on\n", static_cast<int>(getpid()), static_cast<int>(getpid()));
        std::fflush(stdout);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        if (!limit) {
            int signal = 0;
            sigwait(&set, &signal);
            return {};
        }
        timespec ts{static_cast<time_t>(limit->count() / 1000), static_cast<long>(limit->count() % 1000) * 1000000};
        sigtimedwait(&set, nullptr, &ts);
        return {};
    }

    Status modprobe(const std::vector<std::string>& w) {
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

    Status modinfo(const std::string& path) {
        auto metadata = read_module_metadata(path);
        if (!metadata) return metadata.error();
        std::printf("%-15s %s\n", "filename:", path.c_str());
        for (const auto& [key, value] : metadata->modinfo)
            std::printf("%-15s %s\n", (key + ":").c_str(), value.c_str());
        return {};
    }

    // Calls MODULE's export SYMBOL as int(long...), holding a reference meanwhile.
    Status call(const std::vector<std::string>& w) {
        const std::string& module = w[1];
        const std::string& symbol = w[2];
        std::vector<long> args;
        for (std::size_t i = 3; i < w.size(); ++i) {
            auto value = parse_long(w[i], "call");
            if (!value) return value.error();
            args.push_back(*value);
        }
        ModuleHandle handle = registry_.find(module);
        if (!handle) return Error::with(ENOENT, NoSuchModule{module});
        // SYMBOL as written: a C name, a link name or a C++ qualified name
        // ("thrower::add"); it must be MODULE's, which the get shows: the
        // references umod-run holds on MODULE go up by one.
        User* self = registry_.holder("umod-run");
        auto held = [&] {
            std::uint64_t n = 0;
            if (auto holders = registry_.holders(module))
                for (const auto& h : *holders)
                    if (h.user == "umod-run") n = h.dynamic;
            return n;
        };
        std::uint64_t before = held();
        auto address = registry_.symbol_get(symbol, self);
        if (!address) {
            if (address.error().code() == ENOENT) return fail(ENOENT, module + " does not export " + symbol);
            return address.error();
        }
        if (held() != before + 1) {
            (void)registry_.symbol_put(symbol, self);
            return fail(ENOENT, module + " does not export " + symbol);
        }
        int result = 0;
        switch (args.size()) {
            case 0: result = reinterpret_cast<int (*)()>(*address)(); break;
            case 1: result = reinterpret_cast<int (*)(long)>(*address)(args[0]); break;
            case 2: result = reinterpret_cast<int (*)(long, long)>(*address)(args[0], args[1]); break;
            case 3: result = reinterpret_cast<int (*)(long, long, long)>(*address)(args[0], args[1], args[2]); break;
            default:
                result = reinterpret_cast<int (*)(long, long, long, long)>(*address)(args[0], args[1], args[2], args[3]);
                break;
        }
        (void)registry_.symbol_put(symbol, self);
        std::string shown;
        for (std::size_t i = 3; i < w.size(); ++i) shown += (i == 3 ? "" : ", ") + w[i];
        std::printf("%s.%s(%s) = %d\n", module.c_str(), symbol.c_str(), shown.c_str(), result);
        return {};
    }

    Registry registry_;
    ReportPrinter printer_;
    std::unique_ptr<ModuleTree> tree_;  // declared after the registry: destroyed first
};

void run_usage(FILE* out) {
    std::fprintf(out, "usage: umod run [--control[=read|manage]] [SCRIPT|-]\n"
                      "       runs a host script (standard input for '-' or none), one command per line\n"
                      "  --control[=ACCESS]  listen for `umod CMD -p PID` while the script runs (default manage)\n"
                      "  -h, --help          this text\n\n");
    print_script_help(out);
}

}  // namespace

int run_main(std::string_view prog, std::span<char* const> args) {
    std::string source = "-";
    RegistryOptions options;
    bool have_source = false;
    for (std::string_view a : args) {
        if (a == "-h" || a == "--help") {
            run_usage(stdout);
            return 0;
        }
        if (a == "--control" || a == "--control=manage") {
            options.control.access = ControlAccess::Manage;
        } else if (a == "--control=read") {
            options.control.access = ControlAccess::Read;
        } else if ((a.starts_with("-") && a != "-") || have_source) {
            std::fprintf(stderr, "%.*s: unexpected argument '%.*s'\n", static_cast<int>(prog.size()), prog.data(),
                         static_cast<int>(a.size()), a.data());
            run_usage(stderr);
            return 2;
        } else {
            source = a;
            have_source = true;
        }
    }
    // The script through a buffer on its descriptor (standard input or the
    // file): no <fstream>, and <iostream> would construct the standard streams
    // at the start of every umod command.
    int script_fd = STDIN_FILENO;
    if (source != "-") {
        script_fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
        if (script_fd < 0) {
            std::fprintf(stderr, "%.*s: cannot open %s: %s\n", static_cast<int>(prog.size()), prog.data(),
                         source.c_str(), std::strerror(errno));
            return 2;
        }
    }
    // The buffer closes script_fd when the run ends.
    __gnu_cxx::stdio_filebuf<char> script_buffer(script_fd, std::ios::in);
    std::istream script(&script_buffer);
    // `pause` waits for SIGUSR1: blocked in every thread, the endpoint's too.
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, nullptr);
    int failures = 0;
    {
        Host host(options);
        std::string text;
        for (int lineno = 1; std::getline(script, text); ++lineno) {
            auto line = parse_script_line(text);
            Status status;
            if (!line) {
                std::printf("> %s\n", text.c_str());
                status = Error(line.error().code(), "line " + std::to_string(lineno) + ": " + line.error().message());
            } else if (line->words.empty()) {
                continue;
            } else {
                if (line->words[0] != "echo")
                    std::printf("%s %s\n", line->expect_failure ? "!>" : ">", line->text.c_str());
                std::fflush(stdout);
                status = host.run(*line);
            }
            bool expect_failure = line && line->expect_failure;
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

// The module's one entry, opened by the umod binary (run_launcher.cpp): run
// with C's types at the boundary, and nothing thrown crosses it.
extern "C" __attribute__((visibility("default"))) int umod_run_main(const char* prog, int argc, char* const* argv) {
    try {
        return umod::tool::run_main(prog, std::span<char* const>(argv, static_cast<std::size_t>(argc)));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", prog, e.what());
        return 1;
    } catch (...) {
        std::fprintf(stderr, "%s: an exception that is not a std::exception\n", prog);
        return 1;
    }
}
