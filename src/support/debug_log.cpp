#include "support/debug_log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "support/mutex.h"

namespace umod::support {

namespace {

struct Log {
    Mutex mutex;  // guards `sink`; never held while it runs
    DebugSink sink UMOD_GUARDED_BY(mutex);
    std::atomic<bool> enabled{false};
    const bool to_stderr = [] {
        const char* value = std::getenv("UMOD_DEBUG");
        return value != nullptr && *value != '\0';
    }();
};

// Never destroyed: modules may log from static destructors at exit.
Log& the_log() {
    static Log* const instance = new Log;
    return *instance;
}

}  // namespace

void set_debug_sink(DebugSink sink) {
    Log& l = the_log();
    MutexLock lock(l.mutex);
    l.enabled.store(static_cast<bool>(sink), std::memory_order_release);
    l.sink = std::move(sink);
}

bool debug_enabled() {
    Log& l = the_log();
    return l.to_stderr || l.enabled.load(std::memory_order_acquire);
}

void debug(std::string_view line) {
    Log& l = the_log();
    if (l.to_stderr) std::fprintf(stderr, "umod: debug: %.*s\n", static_cast<int>(line.size()), line.data());
    if (!l.enabled.load(std::memory_order_acquire)) return;
    DebugSink sink;
    {
        MutexLock lock(l.mutex);
        sink = l.sink;
    }
    if (sink) sink(line);
}

}  // namespace umod::support
