// loop_backpressure_test - a socket whose events nobody takes stops reading
// near its outbox cap (Loop::kOutboxInitialBytes at first, growing with each
// take up to Loop::kOutboxBytesPerSocket), so the peer feels backpressure, and
// resumes once the outbox is taken; nothing is lost or reordered.
#include <thread>

#include "harness.h"

using namespace pt;

enum : uint32_t { kServer = 3 };

static void test_flood_is_throttled_then_resumed() {
  TestLoop t;
  auto [lfd, c, s] = raw_pair(t, kServer, true);

  const size_t kTotal = 16 * 1024 * 1024;
  const std::string sent = pattern(kTotal, 11);
  std::thread writer([&] {
    size_t off = 0;
    while (off < sent.size()) {
      ssize_t n = raw_write(c, sent.data() + off, sent.size() - off);  // blocks when throttled
      CHECK(n > 0);
      off += static_cast<size_t>(n);
    }
    raw_close(c);
  });

  // Nobody takes events for a while: the loop must stop reading, and idle.
  sleep_ms(300);
  int64_t cpu0 = cpu_ms();
  sleep_ms(300);
  int64_t cpu_used = cpu_ms() - cpu0;
  t.loop.take_events(t.log);
  size_t held = t.data_of(kServer).size();
  fprintf(stderr, "  outbox held %zu bytes (initial cap %zu), cpu %lld ms while paused\n", held,
          pn::Loop::kOutboxInitialBytes, static_cast<long long>(cpu_used));
  CHECK(held >= pn::Loop::kOutboxInitialBytes);
  CHECK(held <= pn::Loop::kOutboxInitialBytes + 64 * 1024);
  CHECK(cpu_used < 150);  // no busy loop while throttled (generous for valgrind)

  // Taking the outbox lets it read again, a bigger batch (the cap doubled),
  // never more than the largest cap's worth per take.
  sleep_ms(200);
  t.loop.take_events(t.log);
  size_t held2 = t.data_of(kServer).size();
  CHECK(held2 - held > pn::Loop::kOutboxInitialBytes);
  CHECK(held2 - held <= 2 * pn::Loop::kOutboxInitialBytes + 64 * 1024);
  for (int i = 0; i < 8; i++) {  // keep taking: the cap stops growing at its maximum
    size_t before = t.data_of(kServer).size();
    sleep_ms(50);
    t.loop.take_events(t.log);
    CHECK(t.data_of(kServer).size() - before <= pn::Loop::kOutboxBytesPerSocket + 64 * 1024);
  }

  // Then drain normally: everything arrives, in order, then EOF.
  t.expect(kServer, pn::kEvEof, 1, 20000);
  writer.join();
  CHECK(t.data_of(kServer) == sent);
  t.cmd(pn::kCmdClose, kServer);
  t.expect(kServer, pn::kEvClosed);
  raw_close(lfd);
}

static void test_read_stop_while_throttled_then_close() {
  TestLoop t;
  auto [lfd, c, s] = raw_pair(t, kServer, true);
  const std::string chunk = pattern(2 * 1024 * 1024, 5);
  // Non-blocking: write what fits, no thread needed.
  CHECK_EQ(pn::set_nonblocking(c), 0);
  ssize_t n = raw_write(c, chunk.data(), chunk.size());
  CHECK(n > static_cast<ssize_t>(pn::Loop::kOutboxBytesPerSocket));
  sleep_ms(200);
  t.cmd(pn::kCmdReadStop, kServer);
  t.loop.take_events(t.log);  // resume: but reading is off, so nothing more
  sleep_ms(100);
  t.loop.take_events(t.log);
  size_t held = t.data_of(kServer).size();
  sleep_ms(100);
  t.loop.take_events(t.log);
  CHECK_EQ(t.data_of(kServer).size(), held);
  t.cmd(pn::kCmdClose, kServer);  // close while throttled bookkeeping exists
  t.expect(kServer, pn::kEvClosed);
  raw_close(c);
  raw_close(lfd);
}

// When our side has sent its FIN and the peer then floods and closes, the
// socket reaches CLOSE with data still queued and epoll reports a hang-up;
// with the socket throttled meanwhile, the rest of the data and the EOF must
// still arrive once the outbox is taken. (The JS echo tests once lost the
// tail this way; this pins the path, though it did not reproduce that race.)
static void test_hangup_while_throttled_keeps_tail_and_eof() {
  TestLoop t;
  auto [lfd, c, s] = raw_pair(t, kServer, true);
  t.cmd(pn::kCmdShutdown, kServer);
  t.expect(kServer, pn::kEvShutdownDone);

  const std::string sent = pattern(3 * 1024 * 1024, 7);
  std::thread writer([&] {
    size_t off = 0;
    while (off < sent.size()) {
      ssize_t n = raw_write(c, sent.data() + off, sent.size() - off);
      CHECK(n > 0);
      off += static_cast<size_t>(n);
    }
    raw_close(c);  // FIN after our FIN: the socket goes to CLOSE, epoll says HUP
  });
  sleep_ms(200);  // throttled, with the hang-up reported meanwhile
  t.expect(kServer, pn::kEvEof, 1, 20000);  // taking the events lets it read on
  writer.join();
  CHECK(t.data_of(kServer) == sent);
  t.cmd(pn::kCmdClose, kServer);
  t.expect(kServer, pn::kEvClosed);
  raw_close(lfd);
}

int main() {
  TEST(flood_is_throttled_then_resumed);
  TEST(hangup_while_throttled_keeps_tail_and_eof);
  TEST(read_stop_while_throttled_then_close);
  return 0;
}
