// thread_test - pn::Thread (thread.h): the entry runs once on another thread
// with its argument, join() waits for it to return, POSIX signals are blocked
// there (and the starter's mask is unchanged), the name is set, and the
// monotonic clock moves forward.
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "check.h"
#include "thread.h"

#ifndef _WIN32
#include <csignal>
#include <pthread.h>
#endif

namespace {

struct Seen {
  std::atomic<int> runs{0};
  std::thread::id id;
  bool sigint_blocked = false;
  bool sigterm_blocked = false;
  char name[32] = {};
  int64_t slept_ns = 0;
};

void entry(void* arg) {
  Seen* seen = static_cast<Seen*>(arg);
  seen->id = std::this_thread::get_id();
#ifndef _WIN32
  sigset_t mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  seen->sigint_blocked = sigismember(&mask, SIGINT) == 1;
  seen->sigterm_blocked = sigismember(&mask, SIGTERM) == 1;
#endif
  pn::set_current_thread_name("pn-thread-test");
#if defined(__linux__)
  pthread_getname_np(pthread_self(), seen->name, sizeof(seen->name));
#endif
  // join() must wait for this to return.
  int64_t t0 = pn::monotonic_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  seen->slept_ns = pn::monotonic_ns() - t0;
  seen->runs++;
}

void test_start_join() {
  Seen seen;
  pn::Thread t;
  CHECK(!t.started());
  CHECK_EQ(t.start(&entry, &seen), 0);
  CHECK(t.started());
  t.join();
  CHECK(!t.started());
  CHECK_EQ(seen.runs.load(), 1);  // ran, and had returned when join() did
  CHECK(seen.id != std::this_thread::get_id());
  CHECK(seen.slept_ns >= 40 * 1000000LL);
#if defined(__linux__)
  CHECK_STREQ(seen.name, "pn-thread-test");
#endif
  // A Thread can be started again once joined.
  CHECK_EQ(t.start(&entry, &seen), 0);
  t.join();
  CHECK_EQ(seen.runs.load(), 2);
}

void test_signals_blocked_only_there() {
#ifndef _WIN32
  sigset_t before, after;
  pthread_sigmask(SIG_SETMASK, nullptr, &before);
  CHECK(sigismember(&before, SIGINT) == 0);
  Seen seen;
  pn::Thread t;
  CHECK_EQ(t.start(&entry, &seen), 0);
  t.join();
  CHECK(seen.sigint_blocked);
  CHECK(seen.sigterm_blocked);
  pthread_sigmask(SIG_SETMASK, nullptr, &after);
  CHECK(sigismember(&after, SIGINT) == 0);  // the starter's own mask is restored
#endif
}

void test_monotonic_and_yield() {
  int64_t a = pn::monotonic_ns();
  pn::yield_thread();
  int64_t b = pn::monotonic_ns();
  CHECK(a > 0);
  CHECK(b >= a);
}

}  // namespace

int main() {
  TEST(start_join);
  TEST(signals_blocked_only_there);
  TEST(monotonic_and_yield);
  return 0;
}
