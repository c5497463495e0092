// loop_writer_test - a socket's fd lent to a second loop for writing only
// (kCmdAdoptWriter): the bridge hands bursts of writes to such a writer loop
// when the socket's own loop runs on the JS thread. The writer must deliver
// every byte in order (waiting for writability on its own poller), never read
// and never close the fd, cancel what it still holds on kCmdClose and answer
// kEvReleased (not kEvClosed); the owner keeps reading and closes the fd.
#include <algorithm>
#include <string>
#include <vector>

#include "harness.h"

using namespace pt;

enum : uint32_t { kSlot = 7 };

// Writes `bytes` through `t` in `chunk`-sized pieces (the memory is the
// caller's and outlives the writes).
static int write_in_chunks(TestLoop& t, const std::string& bytes, size_t chunk) {
  int n = 0;
  for (size_t off = 0; off < bytes.size(); off += chunk, n++)
    t.write(kSlot, bytes.data() + off, std::min(chunk, bytes.size() - off));
  return n;
}

// 4 MiB through the writer while the peer reads slowly enough for the
// socket's buffer to fill (so the writer waits for writability itself), and
// the peer's bytes still reach the owner: order kept both ways, the fd open
// after the writer lets it go, closed by the owner alone.
static void test_writes_arrive_and_release_keeps_the_fd() {
  TestLoop owner;
  TestLoop writer;
  RawPair p = raw_pair(owner, kSlot, true);
  writer.cmd(pn::kCmdAdoptWriter, kSlot, 1, p.server);

  const std::string out = pattern(4 * 1024 * 1024, 3);
  const int writes = write_in_chunks(writer, out, 64 * 1024);
  std::string got;
  while (got.size() < out.size()) {
    got += raw_read_n(p.client, std::min<size_t>(256 * 1024, out.size() - got.size()));
    sleep_ms(1);
  }
  CHECK(got == out);
  writer.expect(kSlot, pn::kEvWriteDone, writes);
  for (const pn::Event& ev : writer.log) {
    if (ev.type == pn::kEvWriteDone) CHECK_EQ(ev.status, 0);
    CHECK(ev.type != pn::kEvData);  // the writer never reads
  }

  CHECK_EQ(raw_write(p.client, "ping", 4), 4);
  owner.expect(kSlot, pn::kEvData);
  CHECK(owner.data_of(kSlot) == "ping");

  writer.cmd(pn::kCmdClose, kSlot);
  writer.expect(kSlot, pn::kEvReleased);
  CHECK_EQ(writer.count(kSlot, pn::kEvClosed), 0);
  CHECK(fd_is_open(p.server));
  // The owner still writes, then closes the fd itself.
  static const char kPong[] = "pong";
  owner.write(kSlot, kPong, 4);
  owner.expect(kSlot, pn::kEvWriteDone);
  CHECK(raw_read_n(p.client, 4) == "pong");
  owner.cmd(pn::kCmdClose, kSlot);
  owner.expect(kSlot, pn::kEvClosed);
  raw_close(p.client);
  raw_close(p.lfd);
}

// The peer never reads: writes pile up on the writer; kCmdClose cancels them
// (-ECANCELED each, after those already done), releases, and leaves the fd
// to its owner.
static void test_close_cancels_what_the_writer_holds() {
  TestLoop owner;
  TestLoop writer;
  RawPair p = raw_pair(owner, kSlot, true);
  writer.cmd(pn::kCmdAdoptWriter, kSlot, 1, p.server);
  const std::string out = pattern(16 * 1024 * 1024, 5);
  const int writes = write_in_chunks(writer, out, 256 * 1024);
  sleep_ms(50);
  writer.cmd(pn::kCmdClose, kSlot);
  writer.expect(kSlot, pn::kEvReleased);
  CHECK_EQ(writer.count(kSlot, pn::kEvWriteDone), writes);
  int cancelled = 0;
  for (const pn::Event& ev : writer.log) {
    if (ev.type != pn::kEvWriteDone) continue;
    if (ev.status == -ECANCELED) cancelled++;
    else CHECK_EQ(ev.status, 0);
  }
  CHECK(cancelled > 0);  // 16 MiB do not fit in the socket buffers
  CHECK(fd_is_open(p.server));
  owner.cmd(pn::kCmdClose, kSlot);
  owner.expect(kSlot, pn::kEvClosed);
  raw_close(p.client);
  raw_close(p.lfd);
}

// A shutdown through the writer sends FIN after the writer's writes; the
// owner goes on reading what the peer sends after that.
static void test_shutdown_follows_the_writers_writes() {
  TestLoop owner;
  TestLoop writer;
  RawPair p = raw_pair(owner, kSlot, true);
  writer.cmd(pn::kCmdAdoptWriter, kSlot, 1, p.server);
  const std::string out = pattern(512 * 1024, 9);
  write_in_chunks(writer, out, 16 * 1024);
  writer.cmd(pn::kCmdShutdown, kSlot);
  CHECK(raw_read_n(p.client, out.size()) == out);
  char c = 0;
  CHECK_EQ(raw_read(p.client, &c, 1), 0);  // FIN after the data
  CHECK_EQ(writer.expect(kSlot, pn::kEvShutdownDone).status, 0);
  CHECK_EQ(raw_write(p.client, "after", 5), 5);
  owner.expect(kSlot, pn::kEvData);
  CHECK(owner.data_of(kSlot) == "after");
  writer.cmd(pn::kCmdClose, kSlot);
  writer.expect(kSlot, pn::kEvReleased);
  owner.cmd(pn::kCmdClose, kSlot);
  owner.expect(kSlot, pn::kEvClosed);
  raw_close(p.client);
  raw_close(p.lfd);
}

// A writer stopped while it holds a lent fd (environment teardown) leaves
// the fd open for its owner.
static void test_writer_teardown_leaves_the_fd() {
  TestLoop owner;
  RawPair p = raw_pair(owner, kSlot, true);
  {
    TestLoop writer;
    writer.cmd(pn::kCmdAdoptWriter, kSlot, 1, p.server);
    static const char kHi[] = "hi";
    writer.write(kSlot, kHi, 2);
    writer.expect(kSlot, pn::kEvWriteDone);
    writer.loop.stop();
  }
  CHECK(fd_is_open(p.server));
  CHECK(raw_read_n(p.client, 2) == "hi");
  owner.cmd(pn::kCmdClose, kSlot);
  owner.expect(kSlot, pn::kEvClosed);
  raw_close(p.client);
  raw_close(p.lfd);
}

int main() {
  TEST(writes_arrive_and_release_keeps_the_fd);
  TEST(close_cancels_what_the_writer_holds);
  TEST(shutdown_follows_the_writers_writes);
  TEST(writer_teardown_leaves_the_fd);
  return 0;
}
