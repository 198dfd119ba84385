// Clang thread-safety annotations; they expand to nothing on other compilers.
#pragma once

#if defined(__clang__)
#define UMOD_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define UMOD_THREAD_ANNOTATION(x)
#endif

#define UMOD_GUARDED_BY(x) UMOD_THREAD_ANNOTATION(guarded_by(x))
#define UMOD_REQUIRES(...) UMOD_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define UMOD_EXCLUDES(...) UMOD_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
