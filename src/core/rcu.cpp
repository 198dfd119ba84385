#include "core/rcu.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cassert>
#include "support/mutex.h"
#include <thread>

namespace umod::rcu::detail {

namespace {

bool register_membarrier() {
#if defined(__SANITIZE_THREAD__)
    return false;  // TSan does not model membarrier: use fenced readers
#else
    long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) return false;
    return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#endif
}

bool have_membarrier = false;  // set once, by init()

// Guards the list of reader slots (slot_list) and serialises synchronize().
support::Mutex reader_list_mutex;
ReaderSlot* slot_list UMOD_GUARDED_BY(reader_list_mutex) = nullptr;

void full_barrier_on_all_threads() {
    if (have_membarrier) {
        syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
        return;
    }
#if !defined(__SANITIZE_THREAD__)
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
    // Under TSan, readers' seq_cst stores and our seq_cst loads and
    // increments order themselves; TSan supports no fences.
}

// Registers the thread's slot on first use and unregisters it at thread exit.
struct SlotOwner {
    ReaderSlot slot;
    SlotOwner() {
        support::MutexLock lock(reader_list_mutex);
        slot.next = slot_list;
        slot_list = &slot;
    }
    ~SlotOwner() {
        this_thread_slot_ptr = nullptr;
        support::MutexLock lock(reader_list_mutex);
        for (ReaderSlot** p = &slot_list; *p; p = &(*p)->next) {
            if (*p == &slot) {
                *p = slot.next;
                break;
            }
        }
    }
};

}  // namespace

std::atomic<std::uint64_t> grace_period{1};
bool readers_need_fence = true;

constinit thread_local ReaderSlot* this_thread_slot_ptr = nullptr;

ReaderSlot& register_this_thread() {
    thread_local SlotOwner owner;
    this_thread_slot_ptr = &owner.slot;
    return owner.slot;
}

}  // namespace umod::rcu::detail

namespace umod::rcu {

void init() {
    static std::once_flag once;
    std::call_once(once, [] {
        detail::have_membarrier = detail::register_membarrier();
        detail::readers_need_fence = !detail::have_membarrier;
    });
}

void synchronize() {
    using namespace detail;
    assert(this_thread_slot().nesting == 0 && "synchronize() inside a read section");
    support::MutexLock lock(reader_list_mutex);
    // Make the writer's unpublish visible to, and order it before, every
    // reader's later loads; and make readers' slot stores visible to us.
    full_barrier_on_all_threads();
    std::uint64_t now = grace_period.fetch_add(1, std::memory_order_seq_cst) + 1;
    for (ReaderSlot* slot = slot_list; slot; slot = slot->next) {
        for (unsigned spins = 0;; ++spins) {
            std::uint64_t period = slot->period.load(std::memory_order_seq_cst);
            if (period == 0 || period >= now) break;  // idle, or began after the unpublish
            if (spins > 64) std::this_thread::yield();
        }
    }
    // Order the readers' finished sections before the caller's frees.
    full_barrier_on_all_threads();
}

}  // namespace umod::rcu
