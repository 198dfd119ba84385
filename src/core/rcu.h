// Read-copy-update for the registry's read-mostly tables.
//
// Readers (the symbol_get/symbol_put hot path) take no lock and write only
// their own thread's slot: entering a read section stores the current grace
// period number there, leaving stores zero. Writers publish a new version of a
// table, call synchronize() — which returns once every read section that might
// still see the old version has ended — and only then free the old version.
//
// Ordering: with membarrier(2) (MEMBARRIER_CMD_PRIVATE_EXPEDITED) the writer
// forces a full barrier on every thread of the process, so readers need only a
// compiler barrier. Where membarrier is unavailable, and under ThreadSanitizer
// (which does not model it), readers use sequentially consistent stores.
#pragma once

#include <atomic>
#include <cstdint>

namespace umod::rcu {

namespace detail {

// One per thread that ever read; lives until the thread exits.
struct alignas(64) ReaderSlot {
    std::atomic<std::uint64_t> period{0};  // 0: not in a read section
    unsigned nesting = 0;                  // owner thread only
    ReaderSlot* next = nullptr;            // guarded by the reader-list mutex
};

ReaderSlot& register_this_thread();
// Null until the thread first reads. Initial-exec: see "Thread-local state" in
// docs/design.md.
extern constinit thread_local ReaderSlot* this_thread_slot_ptr __attribute__((tls_model("initial-exec")));
extern std::atomic<std::uint64_t> grace_period;

__attribute__((always_inline)) inline ReaderSlot& this_thread_slot() {
    ReaderSlot* slot = this_thread_slot_ptr;
    return slot ? *slot : register_this_thread();
}
extern bool readers_need_fence;  // set once, by init()

}  // namespace detail

// Enters a read section (nestable). Pointers loaded inside stay valid until
// the matching read_unlock().
__attribute__((always_inline)) inline void read_lock() {
    detail::ReaderSlot& slot = detail::this_thread_slot();
    if (slot.nesting++ != 0) return;
    std::uint64_t period = detail::grace_period.load(std::memory_order_relaxed);
    if (detail::readers_need_fence) {
        slot.period.store(period, std::memory_order_seq_cst);
    } else {
        slot.period.store(period, std::memory_order_relaxed);
        std::atomic_signal_fence(std::memory_order_seq_cst);
    }
}

__attribute__((always_inline)) inline void read_unlock() {
    detail::ReaderSlot& slot = detail::this_thread_slot();
    if (--slot.nesting != 0) return;
    if (!detail::readers_need_fence) std::atomic_signal_fence(std::memory_order_seq_cst);
    slot.period.store(0, std::memory_order_release);
}

// Chooses how readers and writers fence (membarrier when the kernel has it);
// idempotent and thread-safe. Called by every registry's constructor, so that
// processes that never make one (umod's kmod tools) skip the system calls;
// read sections happen only inside registries, after it.
void init();

// Waits until every read section that began before the call has ended. Must
// not be called inside a read section. Thread-safe; writers serialise here.
void synchronize();

// RAII read section.
class ReadGuard {
public:
    ReadGuard() { read_lock(); }
    ~ReadGuard() { read_unlock(); }
    ReadGuard(const ReadGuard&) = delete;
    ReadGuard& operator=(const ReadGuard&) = delete;
};

}  // namespace umod::rcu
