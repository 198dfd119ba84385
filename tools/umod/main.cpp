// umod — one binary, many tools (as kmod does): `umod COMMAND ARGS...` or a
// symlink named after the command.
#include <sys/utsname.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "commands.h"

namespace umod::tool {

// Declared here, defined one per file.
int version_main(std::string_view prog, std::span<char* const> args);
int run_main(std::string_view prog, std::span<char* const> args);
int modinfo_main(std::string_view prog, std::span<char* const> args);
int depmod_main(std::string_view prog, std::span<char* const> args);
int modprobe_main(std::string_view prog, std::span<char* const> args);
// Live hosts (tools/umod/live.h): -p PID or --host SOCKET.
int live_lsmod_main(std::string_view prog, std::span<char* const> args);
int live_insmod_main(std::string_view prog, std::span<char* const> args);
int live_rmmod_main(std::string_view prog, std::span<char* const> args);
int holders_main(std::string_view prog, std::span<char* const> args);
int graph_main(std::string_view prog, std::span<char* const> args);
int monitor_main(std::string_view prog, std::span<char* const> args);
int track_main(std::string_view prog, std::span<char* const> args);
int reload_main(std::string_view prog, std::span<char* const> args);
int ps_main(std::string_view prog, std::span<char* const> args);
// Module signatures (src/sign).
int sign_main(std::string_view prog, std::span<char* const> args);
int verify_main(std::string_view prog, std::span<char* const> args);

std::span<const Command> commands() {
    static constexpr std::array table{
        Command{"depmod", depmod_main, "write the module index of a module tree (kmod-compatible)"},
        Command{"modprobe", modprobe_main, "show what loading a module or alias would load (-D, -R, -n)"},
        Command{"modinfo", modinfo_main, "show information about module files (kmod-compatible); --pid PID NAME: a loaded one"},
        Command{"lsmod", live_lsmod_main, "list the modules of a live host (-p PID) or of the kernel"},
        Command{"insmod", live_insmod_main, "load a module file into a live host (-p PID) or the kernel"},
        Command{"rmmod", live_rmmod_main, "unload a module from a live host (-p PID) or the kernel"},
        Command{"holders", holders_main, "who holds a module in a live host, with counts per symbol"},
        Command{"graph", graph_main, "a live host's module graph as DOT or JSON"},
        Command{"monitor", monitor_main, "a live host's events: load, unload, get, put, leak"},
        Command{"reload", reload_main, "replace a module of a live host and its dependents by a new file (-p PID)"},
        Command{"track", track_main, "show or set a live host's tracking level (off, counts, stacks)"},
        Command{"ps", ps_main, "list the live hosts: pid, program, modules, access"},
        Command{"run", run_main, "run a host script: insmod, rmmod, lsmod, holders, call... (umod run --help)"},
        Command{"sign", sign_main, "append a kernel-format module signature, as scripts/sign-file does"},
        Command{"verify", verify_main, "verify module signatures (.ko, .so) against a keyring or a kernel image's keys"},
        Command{"version", version_main, "print umod's version"},
    };
    return table;
}

std::string module_directory(const std::string& root, const std::string& version) {
    if (!version.empty()) return root + "/lib/modules/" + version;
    utsname u{};
    uname(&u);
    return root + "/lib/modules/" + u.release;
}

int version_main(std::string_view, std::span<char* const>) {
    std::printf("umod version %s\n", UMOD_VERSION);
    return 0;
}

}  // namespace umod::tool

namespace {

const umod::tool::Command* find_command(std::string_view name) {
    for (const auto& command : umod::tool::commands())
        if (command.name == name) return &command;
    return nullptr;
}

int usage(FILE* out) {
    std::fprintf(out, "usage: umod COMMAND [ARGS...]\n\ncommands:\n");
    for (const auto& command : umod::tool::commands())
        std::fprintf(out, "  %-10.*s %.*s\n", static_cast<int>(command.name.size()),
                     command.name.data(), static_cast<int>(command.summary.size()),
                     command.summary.data());
    return out == stdout ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::string_view self = argv[0];
    if (auto slash = self.rfind('/'); slash != std::string_view::npos) self.remove_prefix(slash + 1);

    // Called through a symlink named after a command: `depmod -a`.
    if (const auto* command = find_command(self))
        return command->main(self, std::span<char* const>(argv + 1, argv + argc));

    if (argc < 2) return usage(stderr);
    std::string_view name = argv[1];
    if (name == "-h" || name == "--help" || name == "help") return usage(stdout);
    if (const auto* command = find_command(name))
        return command->main(name, std::span<char* const>(argv + 2, argv + argc));
    std::fprintf(stderr, "umod: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
