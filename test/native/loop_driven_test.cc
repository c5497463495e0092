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
  Driven() { CHECK_EQ(loop.start_driven(&Driven::ring, this), 0); }
  ~Driven() {
    loop.stop();
    for (pn::Event& ev : log) pn::discard_event(ev);
  }
  static void ring(void* p) { static_cast<Driven*>(p)->bells++; }

  // One turn of a host event loop: wait up to `ms` for poll_fd(), then run.
  // True if the loop had something to do.
  bool turn(int ms) {
    pollfd p{};
    p.fd = loop.poll_fd();
    p.events = POLLIN;
    if (poll(&p, 1, ms) <= 0) return false;
    loop.run_once();
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

  void cmd(int type, uint32_t slot, int fd = -1, bool flag = false) {
    pn::Command c;
    c.type = type;
    c.slot = slot;
    c.gen = 1;
    c.fd = fd;
    c.flag = flag;
    loop.post(c);
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
  int port = 0;
  int lfd = listen_local(&port);
  int client = raw_connect(port);
  int server = raw_accept(lfd);
  // The post itself makes poll_fd() readable: the host learns of commands
  // without any other signal.
  d.cmd(pn::kCmdAdoptConnected, 7, server, true);
  CHECK(d.turn(kWaitMs));

  const std::string msg = pattern(200000, 3);
  std::thread writer([&] {
    size_t off = 0;
    while (off < msg.size()) {
      ssize_t n = raw_write(client, msg.data() + off, msg.size() - off);
      CHECK(n > 0);
      off += static_cast<size_t>(n);
    }
  });
  auto t0 = Clock::now();
  while (d.data_of(7).size() < msg.size() && ms_since(t0) < kWaitMs) d.turn(50);
  writer.join();
  CHECK(d.data_of(7) == msg);
  CHECK(d.bells > 0);

  // A write posted from the driving thread goes out on the next run.
  static const char kReply[] = "driven";
  pn::Command w;
  w.type = pn::kCmdWrite;
  w.slot = 7;
  w.gen = 1;
  w.iov = new iovec[1];
  w.iov[0].iov_base = const_cast<char*>(kReply);
  w.iov[0].iov_len = 6;
  w.iovcnt = 1;
  d.loop.post(w);
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
  int port = 0;
  int lfd = listen_local(&port);
  int client = raw_connect(port);
  int server = raw_accept(lfd);
  d.cmd(pn::kCmdAdoptConnected, 9, server, true);
  const std::string msg = pattern(4 * 1024 * 1024, 5);
  std::thread writer([&] {
    size_t off = 0;
    while (off < msg.size()) {
      ssize_t n = raw_write(client, msg.data() + off, msg.size() - off);
      CHECK(n > 0);
      off += static_cast<size_t>(n);
    }
  });
  // Run without taking until the loop has nothing more to do: throttled.
  std::vector<pn::Event> held;
  auto t0 = Clock::now();
  int idle_turns = 0;
  while (idle_turns < 3 && ms_since(t0) < kWaitMs) {
    pollfd p{};
    p.fd = d.loop.poll_fd();
    p.events = POLLIN;
    if (poll(&p, 1, 50) > 0) {
      d.loop.run_once();
      idle_turns = 0;
    } else {
      idle_turns++;
    }
  }
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
    std::thread poster([&] { d.cmd(pn::kCmdAdoptListener, 100 + round, lfd); });
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
  d.cmd(pn::kCmdAdoptListener, 1, lfd);
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
  pn::Loop loop;
  int bells = 0;
  CHECK_EQ(loop.start_driven([](void* b) { ++*static_cast<int*>(b); }, &bells, nullptr, count_wake), 0);
  int port = 0;
  int lfd = listen_local(&port);
  pn::Command c;
  c.type = pn::kCmdAdoptListener;
  c.slot = 1;
  c.gen = 1;
  c.fd = lfd;
  loop.post(c);
  CHECK_EQ(g_wakes, 1);
  pn::Command close_cmd;
  close_cmd.type = pn::kCmdClose;
  close_cmd.slot = 1;
  close_cmd.gen = 1;
  loop.post(close_cmd);
  CHECK_EQ(g_wakes, 1);  // still pending: no second wake-up
  pollfd p{};
  p.fd = loop.poll_fd();
  p.events = POLLIN;
  CHECK_EQ(poll(&p, 1, 20), 0);
  loop.run_once();  // the driver answers the waker
  CHECK_EQ(bells, 1);
  std::vector<pn::Event> evs;
  loop.take_events(evs);
  CHECK_EQ(evs.size(), 1u);
  CHECK_EQ(evs[0].type, pn::kEvClosed);
  // After a run, the next post wakes again.
  pn::Command again;
  again.type = pn::kCmdReadStart;
  again.slot = 2;
  again.gen = 1;
  loop.post(again);
  CHECK_EQ(g_wakes, 2);
  loop.run_once();
  loop.stop();
}

static void test_stop_closes_fds_without_a_run() {
  int before = count_open_fds();
  {
    Driven d;
    int port = 0;
    int lfd = listen_local(&port);
    int client = raw_connect(port);
    int server = raw_accept(lfd);
    d.cmd(pn::kCmdAdoptConnected, 3, server, true);
    d.cmd(pn::kCmdAdoptListener, 4, lfd);
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
