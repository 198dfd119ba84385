// What the live-host commands share (lsmod, insmod, rmmod, holders, modinfo,
// monitor, graph, track): --help from the one request table
// (<umod/control.h>), the target (-p PID, --pid PID, --host SOCKET), and the
// exchange with the host.
#pragma once

#include <span>
#include <string_view>

#include "commands.h"

namespace umod::tool {

enum class PidOption : std::uint8_t { Short, LongOnly };  // modinfo's -p is kmod's --parameters

// True when `args` name a live host.
bool names_host(std::span<char* const> args, PidOption pid_option = PidOption::Short);

// Runs the command `verb` against the host `args` name; without one, runs
// `kernel` (the kernel's side of the command), or, when it is null, says
// that a host must be given. Prints the answer; exit status 0, 1 on error.
int live_main(std::string_view verb, std::span<char* const> args, CommandMain kernel,
              PidOption pid_option = PidOption::Short);

// The usage line and summary of a request verb ("umod rmmod [-f] ...").
void print_usage(FILE* out, std::string_view verb);

}  // namespace umod::tool
