// Events and their observers (the kernel's module notifier chain).
//
// Where callbacks run: an event is delivered on the thread that caused it,
// with no registry lock held — neither the registry mutex nor the hub's own
// (an observer may call into the registry, subscribe or unsubscribe). Code
// that finds an event while holding the registry mutex keeps what it needs
// and emits the event once the mutex is released, in order.
//
// Subscriptions: an Observer's destructor ends its subscriptions (waiting
// for a delivery to it running on another thread), and a registry's teardown
// ends every subscription to it, so either may go first.
#pragma once

#include <umod/umod.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "support/mutex.h"

namespace umod::core {

class ObserverHub : public std::enable_shared_from_this<ObserverHub> {
public:
    // Adds `observer` (again: one more subscription). Takes the hub's lock.
    void subscribe(Observer& observer, ObserveGetPut get_put) UMOD_EXCLUDES(mutex_);
    // Removes every subscription of `observer`; returns once no other thread
    // delivers to it. Callable from the observer's own callback.
    void unsubscribe(Observer& observer) UMOD_EXCLUDES(mutex_);
    // Calls each observer that wants `event`, none with a lock held.
    void deliver(const Event& event) UMOD_EXCLUDES(mutex_);
    // Ends every subscription (registry teardown).
    void close() UMOD_EXCLUDES(mutex_);

    // Lock-free counts for the hot paths' "anyone listening?".
    bool any() const { return any_.load(std::memory_order_relaxed) != 0; }
    bool any_get_put() const { return get_put_.load(std::memory_order_relaxed) != 0; }

private:
    struct Subscriber {
        Observer* observer;
        ObserveGetPut get_put;
        int delivering = 0;  // deliveries in flight; guarded by mutex_
        bool removed = false;  // guarded by mutex_
    };
    void remove_locked(Observer& observer, support::MutexLock& lock) UMOD_REQUIRES(mutex_);

    support::Mutex mutex_;  // guards subscribers_ and each Subscriber's fields; never held in a callback
    support::CondVar idle_;  // a delivery ended
    std::vector<std::shared_ptr<Subscriber>> subscribers_ UMOD_GUARDED_BY(mutex_);
    std::atomic<int> any_{0};
    std::atomic<int> get_put_{0};
};

// The Warning a positive init return gets (errors.cpp).
std::string describe_suspicious_init(std::string_view module, int value);

}  // namespace umod::core
