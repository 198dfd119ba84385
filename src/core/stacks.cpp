#include "core/stacks.h"

#include <pthread.h>

#include <algorithm>

namespace umod::core {

namespace {

// The calling thread's stack, as [low, high); empty if unknown.
struct StackBounds {
    std::uintptr_t low = 0;
    std::uintptr_t high = 0;
};

StackBounds query_stack_bounds() {
    StackBounds bounds;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return bounds;
    void* base = nullptr;
    std::size_t size = 0;
    if (pthread_attr_getstack(&attr, &base, &size) == 0) {
        bounds.low = reinterpret_cast<std::uintptr_t>(base);
        bounds.high = bounds.low + size;
    }
    pthread_attr_destroy(&attr);
    return bounds;
}

const StackBounds& stack_bounds() {
    thread_local const StackBounds bounds = query_stack_bounds();
    return bounds;
}

std::uint64_t hash_frames(std::span<const std::uintptr_t> frames) {
    std::uint64_t h = 0x9e3779b97f4a7c15ull ^ frames.size();
    for (std::uintptr_t f : frames) {
        h ^= f;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return h;
}

}  // namespace

// A frame record is two words at the frame pointer: the caller's frame
// pointer, then the return address (x86-64 and AArch64 alike). Reads stay
// within the thread's stack; the chain must grow towards its base.
__attribute__((no_sanitize("address"))) std::size_t capture_stack(const void* frame,
                                                                  std::span<std::uintptr_t> out) {
    const StackBounds& bounds = stack_bounds();
    auto fp = reinterpret_cast<std::uintptr_t>(frame);
    std::size_t n = 0;
    while (n < out.size()) {
        if (fp < bounds.low || fp > bounds.high - 2 * sizeof(std::uintptr_t) || fp % sizeof(std::uintptr_t) != 0)
            break;
        const auto* record = reinterpret_cast<const std::uintptr_t*>(fp);
        std::uintptr_t return_address = record[1];
        if (return_address == 0) break;
        out[n++] = return_address;
        std::uintptr_t next = record[0];
        if (next <= fp) break;
        fp = next;
    }
    return n;
}

const StackRecord* StackDepot::intern(std::span<const std::uintptr_t> frames) {
    std::uint64_t hash = hash_frames(frames);
    Shard& shard = shards_[hash % kShards];
    support::MutexLock lock(shard.mutex);
    std::vector<const StackRecord*>& chain = shard.by_hash[hash];
    for (const StackRecord* record : chain)
        if (std::equal(record->frames.begin(), record->frames.end(), frames.begin(), frames.end())) return record;
    auto record = std::make_unique<StackRecord>(StackRecord{hash, {frames.begin(), frames.end()}});
    chain.push_back(record.get());
    shard.records.push_back(std::move(record));
    return chain.back();
}

}  // namespace umod::core
