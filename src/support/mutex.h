// A mutex the compiler can check: Mutex is a Clang thread-safety capability,
// so members declared UMOD_GUARDED_BY(m) and functions declared
// UMOD_REQUIRES(m) are checked at every use when built with clang
// -Wthread-safety (the clang-threadsafety preset). Same cost as std::mutex.
#pragma once

#include <condition_variable>
#include <mutex>

#include "support/thread_annotations.h"

namespace umod::support {

class UMOD_CAPABILITY("mutex") Mutex {
public:
    void lock() UMOD_ACQUIRE() { m_.lock(); }
    void unlock() UMOD_RELEASE() { m_.unlock(); }
    bool try_lock() UMOD_TRY_ACQUIRE(true) { return m_.try_lock(); }
    // Tells the analysis the caller holds it (where the proof is out of its
    // reach, e.g. a callback the lock holder invokes); checks nothing at run time.
    void assert_held() const UMOD_ASSERT_CAPABILITY(this) {}

    std::mutex& native() { return m_; }

private:
    std::mutex m_;
};

// Holds a Mutex for its scope; can be released and taken again inside it
// (unlock()/lock()), and waited on through CondVar.
class UMOD_SCOPED_CAPABILITY MutexLock {
public:
    explicit MutexLock(Mutex& m) UMOD_ACQUIRE(m) : lock_(m.native()) {}
    ~MutexLock() UMOD_RELEASE() {}
    MutexLock(const MutexLock&) = delete;
    MutexLock& operator=(const MutexLock&) = delete;

    void unlock() UMOD_RELEASE() { lock_.unlock(); }
    void lock() UMOD_ACQUIRE() { lock_.lock(); }

    std::unique_lock<std::mutex>& native() { return lock_; }

private:
    std::unique_lock<std::mutex> lock_;
};

// A condition variable waited on with a MutexLock held; the wait releases and
// retakes it, which the analysis treats as held throughout.
class CondVar {
public:
    template <class Predicate>
    void wait(MutexLock& lock, Predicate ready) {
        cv_.wait(lock.native(), ready);
    }
    void wait(MutexLock& lock) { cv_.wait(lock.native()); }
    template <class TimePoint>
    std::cv_status wait_until(MutexLock& lock, const TimePoint& deadline) {
        return cv_.wait_until(lock.native(), deadline);
    }
    template <class Duration>
    std::cv_status wait_for(MutexLock& lock, const Duration& timeout) {
        return cv_.wait_for(lock.native(), timeout);
    }
    void notify_all() { cv_.notify_all(); }
    void notify_one() { cv_.notify_one(); }

private:
    std::condition_variable cv_;
};

}  // namespace umod::support
