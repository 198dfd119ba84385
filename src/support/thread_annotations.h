// Clang thread-safety annotations; they expand to nothing on other compilers.
// Use them with support/mutex.h's Mutex, which is a capability; std::mutex is
// not one under libstdc++, so annotations naming it check nothing.
#pragma once

#if defined(__clang__)
#define UMOD_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define UMOD_THREAD_ANNOTATION(x)
#endif

#define UMOD_CAPABILITY(x) UMOD_THREAD_ANNOTATION(capability(x))
#define UMOD_SCOPED_CAPABILITY UMOD_THREAD_ANNOTATION(scoped_lockable)
#define UMOD_GUARDED_BY(x) UMOD_THREAD_ANNOTATION(guarded_by(x))
#define UMOD_PT_GUARDED_BY(x) UMOD_THREAD_ANNOTATION(pt_guarded_by(x))
#define UMOD_REQUIRES(...) UMOD_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define UMOD_ACQUIRE(...) UMOD_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define UMOD_RELEASE(...) UMOD_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define UMOD_TRY_ACQUIRE(...) UMOD_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define UMOD_EXCLUDES(...) UMOD_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define UMOD_ASSERT_CAPABILITY(x) UMOD_THREAD_ANNOTATION(assert_capability(x))
#define UMOD_RETURN_CAPABILITY(x) UMOD_THREAD_ANNOTATION(lock_returned(x))
#define UMOD_NO_THREAD_SAFETY_ANALYSIS UMOD_THREAD_ANNOTATION(no_thread_safety_analysis)
