// thread.cc - Thread and the thread helpers of thread.h, per platform.
#include "thread.h"

#include <cassert>
#include <cerrno>
#include <new>
#include <chrono>
#include <thread>

#ifdef _WIN32
#include "platform.h"  // <windows.h> with the core's settings
#include <process.h>   // _beginthreadex: a thread the C runtime knows about
#else
#include <csignal>
#include <pthread.h>
#if defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__DragonFly__)
#include <pthread_np.h>
#endif
#endif

namespace pn {

namespace {
struct Start {
  Thread::Entry entry;
  void* arg;
};
}  // namespace

Thread::~Thread() { assert(!started_ && "a started Thread must be joined"); }

#ifdef _WIN32

namespace {
unsigned __stdcall win_entry(void* p) {
  Start s = *static_cast<Start*>(p);
  delete static_cast<Start*>(p);
  s.entry(s.arg);
  return 0;
}
}  // namespace

int Thread::start(Entry entry, void* arg) {
  assert(!started_);
  Start* s = new (std::nothrow) Start{entry, arg};
  if (s == nullptr) return -ENOMEM;
  uintptr_t h = _beginthreadex(nullptr, 0, &win_entry, s, 0, nullptr);
  if (h == 0) {
    int err = errno;  // _beginthreadex sets errno (EAGAIN, EINVAL, EACCES)
    delete s;
    return err > 0 ? -err : -EAGAIN;
  }
  handle_ = reinterpret_cast<void*>(h);
  started_ = true;
  return 0;
}

void Thread::join() {
  assert(started_);
  WaitForSingleObject(static_cast<HANDLE>(handle_), INFINITE);
  CloseHandle(static_cast<HANDLE>(handle_));
  handle_ = nullptr;
  started_ = false;
}

void set_current_thread_name(const char* name) {
  // SetThreadDescription exists from Windows 10 1607 on: looked up rather
  // than linked, so older systems (and wine versions) still load the addon.
  using SetDescription = HRESULT(WINAPI*)(HANDLE, PCWSTR);
  HMODULE kernel = GetModuleHandleW(L"kernel32.dll");
  if (kernel == nullptr) return;
  auto set = reinterpret_cast<SetDescription>(
      reinterpret_cast<void*>(GetProcAddress(kernel, "SetThreadDescription")));
  if (set == nullptr) return;
  wchar_t wide[64];
  size_t i = 0;
  for (; name[i] != '\0' && i + 1 < sizeof(wide) / sizeof(wide[0]); i++) {
    wide[i] = static_cast<wchar_t>(static_cast<unsigned char>(name[i]));  // names are ASCII
  }
  wide[i] = L'\0';
  (void)set(GetCurrentThread(), wide);
}

#else  // POSIX

namespace {
void* posix_entry(void* p) {
  Start s = *static_cast<Start*>(p);
  delete static_cast<Start*>(p);
  s.entry(s.arg);
  return nullptr;
}
}  // namespace

int Thread::start(Entry entry, void* arg) {
  assert(!started_);
  Start* s = new (std::nothrow) Start{entry, arg};
  if (s == nullptr) return -ENOMEM;
  // The new thread inherits the creating thread's signal mask: block all
  // around the create, then restore the caller's.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int err = pthread_create(&thread_, nullptr, &posix_entry, s);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (err != 0) {
    delete s;
    return -err;
  }
  started_ = true;
  return 0;
}

void Thread::join() {
  assert(started_);
  pthread_join(thread_, nullptr);
  started_ = false;
}

// pthread_setname_np is not one function: Linux takes (thread, name) and at
// most 15 characters; macOS takes (name) and names only the calling thread;
// NetBSD takes (thread, format, arg); FreeBSD before 12.2 and OpenBSD have
// only pthread_set_name_np in <pthread_np.h> (FreeBSD and DragonFly keep it,
// so it is used there on every version).
void set_current_thread_name(const char* name) {
#if defined(__APPLE__)
  (void)pthread_setname_np(name);
#elif defined(__NetBSD__)
  (void)pthread_setname_np(pthread_self(), "%s", const_cast<char*>(name));
#elif defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__DragonFly__)
  pthread_set_name_np(pthread_self(), name);
#else
  (void)pthread_setname_np(pthread_self(), name);
#endif
}

#endif

void yield_thread() { std::this_thread::yield(); }

int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace pn
