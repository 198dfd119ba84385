// The umod multicall binary's command table. Each command lives in its own
// file (tools/umod/<name>.cpp) and is reached as `umod <name> ...` or through a
// symlink named after it (argv[0]). A command owns its wording and exit codes.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace umod::tool {

// A command gets its arguments without the command name: for `umod depmod -a`
// or `depmod -a`, args is {"-a"}. `prog` is the name to print in messages
// ("depmod"). Returns the process exit status.
using CommandMain = int (*)(std::string_view prog, std::span<char* const> args);

struct Command {
    std::string_view name;
    CommandMain main;
    std::string_view summary;
};

// getopt_long's argv for a command: `name`, then `args`, then a null
// (argc is size() - 1). `name` must outlive the result.
inline std::vector<char*> getopt_argv(std::string& name, std::span<char* const> args) {
    std::vector<char*> argv{name.data()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(nullptr);
    return argv;
}

// The table, defined in main.cpp.
std::span<const Command> commands();

// ROOT/lib/modules/VERSION, VERSION defaulting to the running kernel's release
// (uname -r), as kmod's tools find a module directory.
std::string module_directory(const std::string& root, const std::string& version);

}  // namespace umod::tool
