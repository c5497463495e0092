// loop_driven_test - a Loop started with start_driven() has no thread: the
// test thread plays the host's event loop, polling poll_fd() and calling
// run_once() when it is readable, as napi/driven_loop.cc does from libuv.
// It must report work through poll_fd() alone (commands posted, sockets
// ready, throttled sockets released by a take), never block in run_once(),
// lose or reorder nothing, and close every fd on stop().
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

using namespace pt;

#ifndef _WIN32

namespace {

struct Driven {
  // `waker`: the loop's waker (Loop::start_driven); none = the poller's own.
  explicit Driven(pn::Loop::Doorbell waker = nullptr) {
    CHECK_EQ(loop.start_driven(&Driven::ring, this, nullptr, waker), 0);
  }
  ~Driven() {
    loop.stop();
    for (pn::Event& ev : log) pn::discard_event(ev);
  }
  static void ring(void* p) { static_cast<Driven*>(p)->bells++; }

  // Waits up to `ms` for poll_fd() and runs the loop if it became
  // readable, taking nothing. True if it did.
  bool run_if_ready(int ms) {
    pollfd p{};
    p.fd = loop.poll_fd();
    p.events = POLLIN;
    if (poll(&p, 1, ms) <= 0) return false;
    loop.run_once();
    return true;
  }

  // One turn of a host event loop: run_if_ready(), then take the events.
  bool turn(int ms) {
    if (!run_if_ready(ms)) return false;
    loop.take_events(log);
    return true;
  }

  // Turns until an event of `type` for `slot` is in the log (bounded).
  pn::Event& expect(uint32_t slot, int type) {
    auto t0 = Clock::now();
    for (;;) {
      for (pn::Event& ev : log)
        if (ev.slot == slot && ev.type == type) return ev;
      CHECK(ms_since(t0) < kWaitMs);
      turn(50);
    }
  }

  std::string data_of(uint32_t slot) const {
    std::string s;
    for (const pn::Event& ev : log)
      if (ev.slot == slot && ev.type == pn::kEvData) s.append(ev.data, ev.len);
    return s;
  }

  // As TestLoop::cmd (so harness helpers such as raw_pair take a Driven too).
  void cmd(int type, uint32_t slot, uint32_t gen = 1, int fd = -1, bool flag = false) {
    loop.post(make_cmd(type, slot, gen, fd, flag));
  }

  pn::Loop loop;
  std::vector<pn::Event> log;
  int bells = 0;
};

}  // namespace

static void test_idle_loop_is_not_readable() {
  Driven d;
  CHECK(d.loop.driven());
  CHECK(d.loop.poll_fd() >= 0);
  CHECK_EQ(d.loop.driven_timeout_ms(), -1);
  // Nothing posted, nothing registered: the host sleeps.
  CHECK(!d.turn(30));
}

static void test_commands_and_data_arrive_through_poll_fd() {
  Driven d;
  // The post itself makes poll_fd() readable: the host learns of commands
  // without any other signal.
  auto [lfd, client, server] = raw_pair(d, 7, true);
  (void)server;  // the loop's now
  CHECK(d.turn(kWaitMs));

  const std::string msg = pattern(200000, 3);
  std::thread writer = write_all_async(client, msg);
  auto t0 = Clock::now();
  while (d.data_of(7).size() < msg.size() && ms_since(t0) < kWaitMs) d.turn(50);
  writer.join();
  CHECK(d.data_of(7) == msg);
  CHECK(d.bells > 0);

  // A write posted from the driving thread goes out on the next run.
  static const char kReply[] = "driven";
  d.loop.post(make_write(7, kReply, 6));
  CHECK(d.turn(kWaitMs));
  CHECK(raw_read_n(client, 6) == "driven");
  CHECK_EQ(d.expect(7, pn::kEvWriteDone).status, 0);

  // Peer FIN, then close: EOF and kEvClosed, in order.
  raw_close(client);
  d.expect(7, pn::kEvEof);
  d.cmd(pn::kCmdClose, 7);
  d.expect(7, pn::kEvClosed);
  raw_close(lfd);
}

static void test_take_releases_a_throttled_socket() {
  // A socket whose delivered bytes nobody takes stops reading at the outbox
  // cap; the take must make poll_fd() readable again so reading resumes.
  Driven d;
  auto [lfd, client, server] = raw_pair(d, 9, true);
  (void)server;
  const std::string msg = pattern(4 * 1024 * 1024, 5);
  std::thread writer = write_all_async(client, msg);
  // Run without taking until the loop has nothing more to do: throttled.
  std::vector<pn::Event> held;
  auto t0 = Clock::now();
  int idle_turns = 0;
  while (idle_turns < 3 && ms_since(t0) < kWaitMs) idle_turns = d.run_if_ready(50) ? 0 : idle_turns + 1;
  d.loop.take_events(held);
  size_t first = 0;
  for (const pn::Event& ev : held)
    if (ev.type == pn::kEvData) first += ev.len;
  CHECK(first > 0);
  CHECK(first < msg.size());  // stopped at the cap, not drained to the end
  // The take above must have woken the host: everything else follows.
  d.log.swap(held);
  t0 = Clock::now();
  while (d.data_of(9).size() < msg.size() && ms_since(t0) < kWaitMs) d.turn(50);
  writer.join();
  CHECK(d.data_of(9) == msg);
  d.cmd(pn::kCmdClose, 9);
  d.expect(9, pn::kEvClosed);
  raw_close(client);
  raw_close(lfd);
}

static void test_post_from_another_thread_wakes_the_host() {
  // The host may sleep in poll() while a command comes from elsewhere: the
  // same no-lost-wake-up handshake as a sleeping loop thread.
  Driven d;
  for (int round = 0; round < 200; round++) {
    int port = 0;
    int lfd = listen_local(&port);
    std::thread poster([&] { d.cmd(pn::kCmdAdoptListener, 100 + round, 1, lfd); });
    CHECK(d.turn(kWaitMs));
    poster.join();
    d.cmd(pn::kCmdClose, 100 + round);
    d.expect(100 + round, pn::kEvClosed);
  }
}

static void test_listener_accepts_when_driven() {
  Driven d;
  int port = 0;
  int lfd = listen_local(&port);
  d.cmd(pn::kCmdAdoptListener, 1, 1, lfd);
  int c1 = raw_connect(port);
  pn::Event& conn = d.expect(1, pn::kEvConnection);
  CHECK(conn.fd >= 0);
  pn::close_fd(conn.fd);
  conn.fd = -1;
  raw_close(c1);
  d.cmd(pn::kCmdClose, 1);
  d.expect(1, pn::kEvClosed);
}

static int g_wakes = 0;
static void count_wake(void*) { g_wakes++; }

static void test_a_waker_replaces_the_poller_wake_up() {
  // With a waker, a post tells the driver through the waker, once until the
  // next run, and poll_fd() stays quiet (no syscall, no spurious readiness).
  g_wakes = 0;
  Driven d(count_wake);
  int port = 0;
  int lfd = listen_local(&port);
  d.cmd(pn::kCmdAdoptListener, 1, 1, lfd);
  CHECK_EQ(g_wakes, 1);
  d.cmd(pn::kCmdClose, 1);
  CHECK_EQ(g_wakes, 1);  // still pending: no second wake-up
  CHECK(!d.run_if_ready(20));
  d.loop.run_once();  // the driver answers the waker
  CHECK_EQ(d.bells, 1);
  d.loop.take_events(d.log);
  CHECK_EQ(d.log.size(), 1u);
  CHECK_EQ(d.log[0].type, pn::kEvClosed);
  // After a run, the next post wakes again.
  d.cmd(pn::kCmdReadStart, 2);
  CHECK_EQ(g_wakes, 2);
  d.loop.run_once();
}

static void test_stop_closes_fds_without_a_run() {
  int before = count_open_fds();
  {
    Driven d;
    auto [lfd, client, server] = raw_pair(d, 3, true);
    (void)server;
    d.cmd(pn::kCmdAdoptListener, 4, 1, lfd);
    d.turn(kWaitMs);
    raw_close(client);
    // stop() (in ~Driven) closes the adopted socket and listener, and the
    // loop's own poller fds.
  }
  CHECK_EQ(count_open_fds(), before);
}

int main() {
  TEST(idle_loop_is_not_readable);
  TEST(commands_and_data_arrive_through_poll_fd);
  TEST(take_releases_a_throttled_socket);
  TEST(post_from_another_thread_wakes_the_host);
  TEST(listener_accepts_when_driven);
  TEST(a_waker_replaces_the_poller_wake_up);
  TEST(stop_closes_fds_without_a_run);
  return 0;
}

#else

int main() {
  // IOCP cannot be nested in another event loop: start_driven() says so.
  pn::Loop loop;
  CHECK_EQ(loop.start_driven([](void*) {}, nullptr), -ENOTSUP);
  CHECK(!loop.driven());
  fprintf(stderr, "- driven loops are not available with IOCP (checked: -ENOTSUP)\n");
  return 0;
}

#endif
