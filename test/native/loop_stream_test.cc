// loop_stream_test - a connected socket on a Loop: connect, accept, echo,
// half-close, EOF, readStop/readStart, stale generations.
#include "harness.h"

using namespace pt;
using pn::Event;

enum : uint32_t { kListener = 1, kClient = 2, kServer = 3 };

// Echoes slot kServer's data back and collects what slot kClient receives,
// until `want` bytes arrived. Data stays owned by the log, so it outlives the
// writes that point into it.
static std::string run_echo(TestLoop& t, size_t want, size_t* cursor) {
  auto t0 = Clock::now();
  std::string got;
  while (got.size() < want) {
    while (*cursor < t.log.size()) {
      Event ev = t.log[(*cursor)++];
      if (ev.type == pn::kEvData && ev.slot == kServer) t.write(kServer, ev.data, ev.len);
      if (ev.type == pn::kEvData && ev.slot == kClient) got.append(ev.data, ev.len);
      CHECK(ev.type != pn::kEvReadError && ev.type != pn::kEvEof);
      if (ev.type == pn::kEvWriteDone) CHECK_EQ(ev.status, 0);
    }
    if (got.size() >= want) break;
    CHECK(ms_since(t0) < 15000);
    t.pull(1000);
  }
  return got;
}

static void test_connect_accept_echo() {
  TestLoop t;
  make_pair(t, kListener, kClient, kServer, true);
  size_t cursor = 0;

  static const char hello[] = "hello, loop";
  t.write(kClient, hello, 11);
  CHECK(run_echo(t, 11, &cursor) == "hello, loop");

  // Several megabytes in writes of assorted sizes (tiny ones get gathered
  // with their neighbours into one sendmsg), checked byte for byte.
  static const std::string big = pattern(6 * 1024 * 1024 + 123);
  size_t off = 0, n = 0;
  const size_t sizes[] = {1, 7, 1 << 20, 3, 65536, 100000, 1, 2 << 20};
  while (off < big.size()) {
    size_t len = std::min(sizes[n++ % 8], big.size() - off);
    t.write(kClient, big.data() + off, len);
    off += len;
  }
  std::string echoed = run_echo(t, big.size(), &cursor);
  CHECK_EQ(echoed.size(), big.size());
  CHECK(echoed == big);
  CHECK_EQ(t.expect(kClient, pn::kEvWriteDone, static_cast<int>(n) + 1).status, 0);
  for (const Event& ev : t.log)
    if (ev.type == pn::kEvWriteDone) CHECK_EQ(ev.status, 0);

  t.cmd(pn::kCmdClose, kClient);
  t.cmd(pn::kCmdClose, kServer);
  t.cmd(pn::kCmdClose, kListener);
  t.expect(kClient, pn::kEvClosed);
  t.expect(kServer, pn::kEvClosed);
  t.expect(kListener, pn::kEvClosed);
}

static void test_half_close_both_ways() {
  TestLoop t;
  make_pair(t, kListener, kClient, kServer, true);
  static const char req[] = "request";
  static const char resp[] = "response after your FIN";
  t.write(kClient, req, 7);
  t.cmd(pn::kCmdShutdown, kClient);
  CHECK_EQ(t.expect(kClient, pn::kEvShutdownDone).status, 0);
  t.expect(kServer, pn::kEvEof);
  CHECK(t.data_of(kServer) == "request");

  // The server can still talk; the client still hears.
  t.write(kServer, resp, sizeof(resp) - 1);
  CHECK_EQ(t.expect(kServer, pn::kEvWriteDone).status, 0);
  t.cmd(pn::kCmdShutdown, kServer);
  CHECK_EQ(t.expect(kServer, pn::kEvShutdownDone).status, 0);
  t.expect(kClient, pn::kEvEof);
  CHECK(t.data_of(kClient) == resp);

  // Per-socket order: data, then EOF; write done before shutdown done.
  std::vector<int> s = t.sequence(kServer);
  std::vector<int> want_s = {pn::kEvData, pn::kEvEof, pn::kEvWriteDone, pn::kEvShutdownDone};
  CHECK(s == want_s);
  std::vector<int> c = t.sequence(kClient);
  std::vector<int> want_c = {pn::kEvConnect, pn::kEvWriteDone, pn::kEvShutdownDone, pn::kEvData,
                             pn::kEvEof};
  CHECK(c == want_c);

  t.cmd(pn::kCmdClose, kServer);
  t.cmd(pn::kCmdClose, kClient);
  t.expect(kServer, pn::kEvClosed);
  t.expect(kClient, pn::kEvClosed);
}

static void test_eof_after_all_data() {
  TestLoop t;
  auto [lfd, c, s] = raw_pair(t, kServer, true);
  std::string sent = pattern(300 * 1000, 7);
  CHECK_EQ(raw_write(c, sent.data(), sent.size()), static_cast<ssize_t>(sent.size()));
  raw_close(c);  // FIN right behind the data
  t.expect(kServer, pn::kEvEof);
  CHECK(t.data_of(kServer) == sent);
  std::vector<int> seq = t.sequence(kServer);
  CHECK(seq.size() == 2 && seq[0] == pn::kEvData && seq[1] == pn::kEvEof);
  t.cmd(pn::kCmdClose, kServer);
  t.expect(kServer, pn::kEvClosed);
  raw_close(lfd);
}

static void test_read_stop_and_start() {
  TestLoop t;
  make_pair(t, kListener, kClient, kServer, false);  // server not reading yet
  static const char a[] = "abc", d[] = "def";
  t.write(kClient, a, 3);
  CHECK_EQ(t.expect(kClient, pn::kEvWriteDone).status, 0);
  CHECK_EQ(t.wait_for(kServer, pn::kEvData, 1, 200), -1);  // not reading: nothing

  t.cmd(pn::kCmdReadStart, kServer);
  t.expect(kServer, pn::kEvData);
  CHECK(t.data_of(kServer) == "abc");

  t.cmd(pn::kCmdReadStop, kServer);
  t.write(kClient, d, 3);  // posted after the stop: the server must not read it
  CHECK_EQ(t.expect(kClient, pn::kEvWriteDone, 2).status, 0);
  CHECK_EQ(t.wait_for(kServer, pn::kEvData, 2, 200), -1);

  t.cmd(pn::kCmdReadStart, kServer);
  t.expect(kServer, pn::kEvData, 2);
  CHECK(t.data_of(kServer) == "abcdef");
}

static void test_stale_generation_commands_are_dropped() {
  TestLoop t;
  make_pair(t, kListener, kClient, kServer, true);
  static const char x[] = "stale", y[] = "fresh";
  t.write(kServer, x, 5, /*gen=*/2);  // wrong gen: dropped, iov freed
  t.cmd(pn::kCmdClose, kServer, 2);
  t.cmd(pn::kCmdShutdown, kServer, 7);
  t.cmd(pn::kCmdReadStop, kServer, 0);
  t.cmd(pn::kCmdClose, 99);  // unknown slot
  t.write(99, x, 5);
  t.write(kServer, y, 5);  // right gen: works, so the socket was not closed
  CHECK_EQ(t.expect(kServer, pn::kEvWriteDone).status, 0);
  t.expect(kClient, pn::kEvData);
  CHECK(t.data_of(kClient) == "fresh");
  for (const Event& ev : t.log) {
    CHECK(ev.slot != 99);
    CHECK(!(ev.slot == kServer && ev.gen != 1));
  }
  CHECK_EQ(t.count(kServer, pn::kEvClosed), 0);
  CHECK_EQ(t.count(kServer, pn::kEvWriteDone), 1);

  // After close, the same (slot, gen) is dead: commands for it are dropped.
  t.cmd(pn::kCmdClose, kServer);
  t.expect(kServer, pn::kEvClosed);
  t.write(kServer, y, 5);
  t.cmd(pn::kCmdClose, kServer);
  t.write(kClient, y, 5);  // a marker: once it is done, the above were handled
  t.expect(kClient, pn::kEvWriteDone);
  t.pull(50);
  CHECK_EQ(t.count(kServer, pn::kEvClosed), 1);
  CHECK_EQ(t.count(kServer, pn::kEvWriteDone), 1);
}

static void test_zero_length_and_multi_iov_writes() {
  TestLoop t;
  make_pair(t, kListener, kClient, kServer, true);
  static char p1[] = "one,", p2[] = "two,", p3[] = "three";
  pn::Command c;
  c.type = pn::kCmdWrite;
  c.slot = kClient;
  c.gen = 1;
  c.iov.reset(new iovec[4]{{p1, 4}, {nullptr, 0}, {p2, 4}, {p3, 5}});
  c.iovcnt = 4;
  pn::Command empty = make_cmd(pn::kCmdWrite, kClient);
  empty.iov.reset(new iovec[1]{{nullptr, 0}});
  empty.iovcnt = 1;
  pn::Command none = make_cmd(pn::kCmdWrite, kClient);
  none.iovcnt = 0;
  t.loop.post(std::move(c));
  t.loop.post(std::move(empty));
  t.loop.post(std::move(none));
  CHECK_EQ(t.expect(kClient, pn::kEvWriteDone, 3).status, 0);
  while (t.data_of(kServer).size() < 13) CHECK(t.wait_for(kServer, pn::kEvData, t.count(kServer, pn::kEvData) + 1) >= 0);
  CHECK(t.data_of(kServer) == "one,two,three");
}

int main() {
  TEST(connect_accept_echo);
  TEST(half_close_both_ways);
  TEST(eof_after_all_data);
  TEST(read_stop_and_start);
  TEST(stale_generation_commands_are_dropped);
  TEST(zero_length_and_multi_iov_writes);
  return 0;
}
