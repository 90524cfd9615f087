// Clang's thread-safety annotations (-Wthread-safety), as LevelDB's
// port/thread_annotations.h has them: the contract of who holds which lock
// is written where the state is declared, and clang checks every access.
// Under g++ they expand to nothing; `make test` runs the clang check
// (tests/thread_safety/), so the contract is checked on every change.
//
// They only bite on a capability type: base::Mutex (base/mutex.h), never a
// bare std::mutex, which libstdc++ does not annotate.
#pragma once

#if defined(__clang__)
#define ERGON_TSA(x) __attribute__((x))
#else
#define ERGON_TSA(x)
#endif

#define CAPABILITY(x) ERGON_TSA(capability(x))
#define SCOPED_CAPABILITY ERGON_TSA(scoped_lockable)
#define GUARDED_BY(x) ERGON_TSA(guarded_by(x))
#define PT_GUARDED_BY(x) ERGON_TSA(pt_guarded_by(x))
#define REQUIRES(...) ERGON_TSA(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) ERGON_TSA(acquire_capability(__VA_ARGS__))
#define RELEASE(...) ERGON_TSA(release_capability(__VA_ARGS__))
#define EXCLUDES(...) ERGON_TSA(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) ERGON_TSA(assert_capability(x))
#define RETURN_CAPABILITY(x) ERGON_TSA(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS ERGON_TSA(no_thread_safety_analysis)
