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
int insmod_main(std::string_view prog, std::span<char* const> args);
int rmmod_main(std::string_view prog, std::span<char* const> args);
int lsmod_main(std::string_view prog, std::span<char* const> args);

std::span<const Command> commands() {
    static constexpr std::array table{
        Command{"depmod", depmod_main, "write the module index of a module tree (kmod-compatible)"},
        Command{"modprobe", modprobe_main, "show what loading a module or alias would load (-D, -R, -n)"},
        Command{"modinfo", modinfo_main, "show information about module files (kmod-compatible)"},
        Command{"insmod", insmod_main, "insert a module file into the running kernel (kmod-compatible)"},
        Command{"rmmod", rmmod_main, "remove modules from the running kernel (kmod-compatible)"},
        Command{"lsmod", lsmod_main, "list the running kernel's modules (kmod-compatible)"},
        Command{"run", run_main, "run a host script: insmod, rmmod, lsmod, holders, call..."},
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
