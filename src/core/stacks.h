// Call stacks for the `stacks` tracking level: captured cheaply as raw return
// addresses, stored once per distinct stack, symbolized only for reports.
//
// Capture walks the frame-pointer chain (umod and its modules are built with
// -fno-omit-frame-pointer). A frame of code built without frame pointers is
// skipped, or ends the walk: every step is checked against the thread's stack
// bounds, so a chain that runs into garbage stops instead of faulting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "support/mutex.h"

namespace umod::core {

inline constexpr std::size_t kMaxStackFrames = 32;

// Fills `out` with the return addresses above `frame`, innermost first:
// `frame` is a __builtin_frame_address(0), and the first address recorded is
// where that function returns to. Returns how many were written.
std::size_t capture_stack(const void* frame, std::span<std::uintptr_t> out);

// One distinct stack. Immutable and alive as long as its depot: reports and
// ledgers hold plain pointers to it.
struct StackRecord {
    std::uint64_t hash;
    std::vector<std::uintptr_t> frames;
};

// Stores each distinct stack once. Thread-safe; lookups of a stack already
// stored take one shard lock.
class StackDepot {
public:
    const StackRecord* intern(std::span<const std::uintptr_t> frames);

    // Captures the stack above `frame` and stores it.
    const StackRecord* capture(const void* frame) {
        std::uintptr_t frames[kMaxStackFrames];
        std::size_t n = capture_stack(frame, frames);
        return intern({frames, n});
    }

private:
    static constexpr std::size_t kShards = 16;
    struct Shard {
        support::Mutex mutex;
        // By hash; collisions chain through the vector.
        std::unordered_map<std::uint64_t, std::vector<const StackRecord*>> by_hash UMOD_GUARDED_BY(mutex);
        std::vector<std::unique_ptr<StackRecord>> records UMOD_GUARDED_BY(mutex);
    };
    Shard shards_[kShards];
};

}  // namespace umod::core
