#include "core/events.h"

#include <algorithm>

namespace umod {

namespace {

// Guards every Observer's list of hubs (subscriptions_): changed only on
// subscribe, unsubscribe and destruction, never on a delivery.
support::Mutex& links_mutex() {
    static support::Mutex* mutex = new support::Mutex;  // outlives static observers
    return *mutex;
}

// The subscribers this thread is calling now, innermost last: an observer
// that unsubscribes from its own callback does not wait for itself.
thread_local std::vector<const void*> delivering_here;

}  // namespace

// Defined here, where the hub is known: ends every subscription of the observer.
Observer::~Observer() {
    std::vector<std::weak_ptr<void>> hubs;
    {
        support::MutexLock lock(links_mutex());
        hubs.swap(subscriptions_);
    }
    for (const auto& weak : hubs)
        if (auto hub = weak.lock()) static_cast<core::ObserverHub*>(hub.get())->unsubscribe(*this);
}

namespace core {

void ObserverHub::subscribe(Observer& observer, ObserveGetPut get_put) {
    {
        support::MutexLock lock(mutex_);
        subscribers_.push_back(std::make_shared<Subscriber>(Subscriber{&observer, get_put}));
        any_.fetch_add(1);
        if (get_put == ObserveGetPut::Yes) get_put_.fetch_add(1);
    }
    support::MutexLock links(links_mutex());
    auto& hubs = observer.subscriptions_;
    std::erase_if(hubs, [](const std::weak_ptr<void>& w) { return w.expired(); });
    std::shared_ptr<void> self = shared_from_this();
    bool known = std::any_of(hubs.begin(), hubs.end(),
                             [&](const std::weak_ptr<void>& w) { return w.lock() == self; });
    if (!known) hubs.push_back(self);
}

void ObserverHub::remove_locked(Observer& observer, support::MutexLock& lock) {
    std::vector<std::shared_ptr<Subscriber>> removed;
    for (auto it = subscribers_.begin(); it != subscribers_.end();) {
        if ((*it)->observer != &observer) {
            ++it;
            continue;
        }
        (*it)->removed = true;
        any_.fetch_sub(1);
        if ((*it)->get_put == ObserveGetPut::Yes) get_put_.fetch_sub(1);
        removed.push_back(*it);
        it = subscribers_.erase(it);
    }
    // Wait for the deliveries other threads are making to it.
    for (const auto& s : removed) {
        auto mine = static_cast<int>(std::count(delivering_here.begin(), delivering_here.end(), s.get()));
        idle_.wait(lock, [&] { return s->delivering <= mine; });
    }
}

void ObserverHub::unsubscribe(Observer& observer) {
    {
        support::MutexLock lock(mutex_);
        remove_locked(observer, lock);
    }
    support::MutexLock links(links_mutex());
    std::shared_ptr<void> self = shared_from_this();
    std::erase_if(observer.subscriptions_,
                  [&](const std::weak_ptr<void>& w) { return w.expired() || w.lock() == self; });
}

void ObserverHub::close() {
    std::vector<Observer*> observers;
    {
        support::MutexLock lock(mutex_);
        for (const auto& s : subscribers_) observers.push_back(s->observer);
    }
    for (Observer* observer : observers) unsubscribe(*observer);
}

void ObserverHub::deliver(const Event& event) {
    if (!any()) return;
    bool get_put_event = event.kind == EventKind::Get || event.kind == EventKind::Put;
    std::vector<std::shared_ptr<Subscriber>> targets;
    {
        support::MutexLock lock(mutex_);
        for (const auto& s : subscribers_) {
            if (get_put_event && s->get_put == ObserveGetPut::No) continue;
            ++s->delivering;
            targets.push_back(s);
        }
    }
    for (const auto& s : targets) {
        bool removed = false;
        {
            support::MutexLock lock(mutex_);
            removed = s->removed;
        }
        if (!removed) {
            delivering_here.push_back(s.get());
            s->observer->on_event(event);
            delivering_here.pop_back();
        }
        support::MutexLock lock(mutex_);
        --s->delivering;
        idle_.notify_all();
    }
}

}  // namespace core
}  // namespace umod
