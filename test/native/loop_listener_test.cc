// loop_listener_test - accepting: many connections, closing a listener.
// (Out of descriptors: loop_emfile_test.)
#include "harness.h"

using namespace pt;

enum : uint32_t { kListener = 1 };

static void test_accepts_many_connections() {
  TestLoop t;
  int port = 0;
  int lfd = listen_local(&port);
  t.cmd(pn::kCmdAdoptListener, kListener, 1, lfd);
  const int kConns = 300;  // more than one wake's accept budget
  std::vector<int> clients;
  for (int i = 0; i < kConns; i++) clients.push_back(raw_connect(port));
  t.expect(kListener, pn::kEvConnection, kConns);
  for (pn::Event& ev : t.log) {
    if (ev.type != pn::kEvConnection) continue;
    CHECK(ev.fd >= 0);
    CHECK(nonblocking_state(ev.fd) != 0);
    CHECK_EQ(cloexec_state(ev.fd), 1);
  }
  for (int fd : clients) raw_close(fd);
  t.cmd(pn::kCmdClose, kListener);
  t.expect(kListener, pn::kEvClosed);
  CHECK(!fd_is_open(lfd));
  // Accepted fds left in the log are closed by discard_event at the end.
}

int main() {
  TEST(accepts_many_connections);
  return 0;
}
