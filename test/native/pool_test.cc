// pool_test - Pool sizing and start/stop of several loops sharing a doorbell.
#include <atomic>
#include <cstdlib>

#include "harness.h"
#include "pool.h"

using namespace pt;

static void test_default_size() {
  set_env("PROTONET_IO_THREADS", "3");
  CHECK_EQ(pn::Pool::default_size(), 3);
  set_env("PROTONET_IO_THREADS", "64");
  CHECK_EQ(pn::Pool::default_size(), 64);
  set_env("PROTONET_IO_THREADS", "0");  // no thread: a driven loop
  CHECK_EQ(pn::Pool::default_size(), 0);
  const char* bad[] = {"65", "-1", "abc", "2x", ""};
  unset_env("PROTONET_IO_THREADS");
  int fallback = pn::Pool::default_size();
  CHECK(fallback >= 1 && fallback <= 4);
  long cpus = cpu_count();
  long want = cpus / 2 < 1 ? 1 : (cpus / 2 > 4 ? 4 : cpus / 2);
  CHECK_EQ(fallback, want);
  for (const char* b : bad) {
    set_env("PROTONET_IO_THREADS", b);
    CHECK_EQ(pn::Pool::default_size(), fallback);
  }
  unset_env("PROTONET_IO_THREADS");
}

static std::atomic<int> g_bells{0};
static void count_bell(void*) { g_bells++; }

static void test_start_use_stop() {
  pn::Pool pool;
  CHECK_EQ(pool.start(0, count_bell, nullptr), -EINVAL);
  CHECK_EQ(pool.start(3, count_bell, nullptr), 0);
  CHECK_EQ(pool.size(), 3);
  CHECK_EQ(pool.start(1, count_bell, nullptr), -EALREADY);
  // Each loop answers on its own: adopt and close a listener on each.
  for (int i = 0; i < pool.size(); i++) {
    int port = 0;
    int lfd = listen_local(&port);
    pool.loop(i).post(make_cmd(pn::kCmdAdoptListener, 1, 1, lfd));
    pool.loop(i).post(make_cmd(pn::kCmdClose, 1));
    std::vector<pn::Event> evs;
    auto t0 = Clock::now();
    while (evs.empty()) {
      CHECK(ms_since(t0) < kWaitMs);
      sleep_ms(5);
      pool.loop(i).take_events(evs);
    }
    CHECK_EQ(evs.size(), 1);
    CHECK_EQ(evs[0].type, pn::kEvClosed);
  }
  CHECK(g_bells.load() >= 3);
  pool.stop();
  CHECK_EQ(pool.size(), 0);
  pool.stop();
}

int main() {
  TEST(default_size);
  TEST(start_use_stop);
  return 0;
}
