// umod's debug log (the kernel's pr_debug): what a layer does inside that no
// event reports, one line at a time — e.g. each undo step of a failed load,
// in the order it runs. Off unless a sink is set, or UMOD_DEBUG is set (to
// anything but the empty string) when the process first logs: the lines then
// go to stderr as "umod: debug: LINE". Process-wide and thread-safe. The
// sink runs on the logging thread; callers log with no lock of theirs held.
#pragma once

#include <functional>
#include <string_view>

namespace umod::support {

using DebugSink = std::function<void(std::string_view line)>;

// Replaces the sink (an empty one turns the log off, UMOD_DEBUG aside).
void set_debug_sink(DebugSink sink);

// True when a line would go anywhere: callers skip building one otherwise.
bool debug_enabled();

void debug(std::string_view line);

}  // namespace umod::support
