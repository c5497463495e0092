// thread.h - the OS thread a threaded Loop runs on, and the few calls about
// threads the core makes, behind one small interface: POSIX threads on
// Linux/macOS/BSD, Win32 threads on Windows (mingw-w64 and MSVC alike, so a
// Windows build needs no pthreads library and only the compiler differs).
// Mutexes and condition variables are the standard library's (std::mutex,
// std::condition_variable): every supported toolchain has them.
//
// Why not std::thread: its constructor reports failure by throwing, and the
// core is built without exceptions (a failure there would abort); the core
// returns errors as codes. It also cannot start a thread with signals blocked.
//
// Threads: a Thread is started and joined by one owner thread; it is not
// copyable. set_current_thread_name() and yield_thread() act on the caller.
#pragma once

#include <cstdint>

#ifndef _WIN32
#include <pthread.h>
#endif

namespace pn {

class Thread {
 public:
  using Entry = void (*)(void* arg);

  Thread() = default;
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;
  // A started thread must be joined before it is destroyed (asserted).
  ~Thread();

  // Runs entry(arg) on a new thread. On POSIX the thread starts with every
  // signal blocked: signals belong to the host runtime's own threads, and a
  // blocked set keeps the poller's wait free of EINTR. 0 or a negative errno.
  int start(Entry entry, void* arg);
  // Waits until the thread's entry has returned. Only after start() gave 0.
  void join();
  bool started() const { return started_; }

 private:
  bool started_ = false;
#ifdef _WIN32
  void* handle_ = nullptr;  // HANDLE from _beginthreadex
#else
  pthread_t thread_{};
#endif
};

// Names the calling thread (shown by top -H, gdb, Instruments, Windows'
// debuggers). Best effort: a name is only a debugging aid, failures are ignored.
void set_current_thread_name(const char* name);

// Lets another runnable thread have this core now (sched_yield).
void yield_thread();

// A monotonic clock in nanoseconds, for intervals only.
int64_t monotonic_ns();

}  // namespace pn
