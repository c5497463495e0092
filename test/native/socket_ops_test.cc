// socket_ops_test - the one-shot calls the bridge makes on the JS thread.
#include "harness.h"

using namespace pt;

static void test_listen_reports_bind_failure() {
  int port = 0;
  int lfd = listen_local(&port);
  int fd = -1;
  const char* sys = nullptr;
  int fds = count_open_fds();
  CHECK_EQ(pn::stream_listen(local_addr(port), 128, false, false, &fd, &sys), -EADDRINUSE);
  CHECK_STREQ(sys, "bind");
  CHECK_EQ(fd, -1);
  CHECK_EQ(count_open_fds(), fds);  // nothing left open
  raw_close(lfd);
}

static void test_listen_is_nonblocking_cloexec_reuseaddr() {
  int port = 0;
  int lfd = listen_local(&port);
  CHECK(port > 0);
  CHECK(nonblocking_state(lfd) != 0);
  CHECK_EQ(cloexec_state(lfd), 1);
  int v = -1;
  CHECK_EQ(pn::get_sock_opt(lfd, "SO_REUSEADDR", &v), 0);
  // libuv's choice on each: on Windows SO_REUSEADDR would let another socket
  // take the port over, and binding over TIME_WAIT works without it.
  CHECK_EQ(v, kIsWindows ? 0 : 1);
  raw_close(lfd);
}

static void test_dual_stack_listen() {
  pn::SockAddr any6;
  CHECK_EQ(pn::addr_from_ip("::", 0, &any6), 0);
  int fd = -1;
  const char* sys = nullptr;
  int err = pn::stream_listen(any6, 16, false, false, &fd, &sys);
  if (err == -EAFNOSUPPORT || err == -EADDRNOTAVAIL) return;  // no IPv6 here
  CHECK_EQ(err, 0);
  int v = -1;
  CHECK_EQ(pn::get_sock_opt(fd, "IPV6_V6ONLY", &v), 0);
  CHECK_EQ(v, 0);
  pn::SockAddr bound;
  CHECK_EQ(pn::sock_name(fd, &bound), 0);
  char ip[pn::kMaxIpLen];
  int port, family;
  CHECK_EQ(pn::addr_to_ip(bound.sa(), ip, sizeof(ip), &port, &family), 0);
  CHECK_EQ(family, 6);
  int c = raw_connect(port);  // IPv4 client reaches the dual-stack listener
  int s = raw_accept(fd, false);
  pn::SockAddr peer;
  CHECK_EQ(pn::peer_name(s, &peer), 0);
  CHECK_EQ(pn::addr_to_ip(peer.sa(), ip, sizeof(ip), &port, &family), 0);
  CHECK_STREQ(ip, "::ffff:127.0.0.1");
  raw_close(c);
  raw_close(s);
  raw_close(fd);

  CHECK_EQ(pn::stream_listen(any6, 16, true, false, &fd, &sys), 0);
  CHECK_EQ(pn::get_sock_opt(fd, "IPV6_V6ONLY", &v), 0);
  CHECK_EQ(v, 1);
  raw_close(fd);
}

// server.listen({ reusePort }): two listeners on one port, each with
// SO_REUSEPORT (read back), and the kernel hands connections to both.
static void test_listen_reuse_port() {
  int fd = -1;
  const char* sys = nullptr;
  int err = pn::stream_listen(local_addr(0), 16, false, true, &fd, &sys);
  if (!kHasReusePort) {
    CHECK_EQ(err, -ENOTSUP);
    CHECK_EQ(fd, -1);
    return;
  }
  CHECK_EQ(err, 0);
  int v = -1;
  CHECK_EQ(pn::get_sock_opt(fd, "SO_REUSEPORT", &v), 0);
  CHECK(v != 0);
  pn::SockAddr bound;
  CHECK_EQ(pn::sock_name(fd, &bound), 0);
  char ip[pn::kMaxIpLen];
  int port = 0, family = 0;
  CHECK_EQ(pn::addr_to_ip(bound.sa(), ip, sizeof(ip), &port, &family), 0);
  int fd2 = -1;
  CHECK_EQ(pn::stream_listen(local_addr(port), 16, false, true, &fd2, &sys), 0);
  // Without the option on the newcomer the port stays taken.
  int fd3 = -1;
  CHECK_EQ(pn::stream_listen(local_addr(port), 16, false, false, &fd3, &sys), -EADDRINUSE);
  // Connections from many source ports land on both listeners (the kernel
  // hashes the 4-tuple): 64 make missing one a 2^-63 chance.
  int accepted[2] = {0, 0};
  for (int i = 0; i < 64; i++) {
    int c = raw_connect(port);
    int which = raw_wait(fd, false, 0) == 1 ? 0 : 1;
    if (which == 1) CHECK_EQ(raw_wait(fd2, false, kWaitMs), 1);
    int s = raw_accept(which == 0 ? fd : fd2, false);
    accepted[which]++;
    raw_close(s);
    raw_close(c);
  }
  CHECK(accepted[0] > 0);
  CHECK(accepted[1] > 0);
  pn::close_fd(fd2);
  pn::close_fd(fd);
}

static void test_connect_start_and_names() {
  int port = 0;
  int lfd = listen_local(&port);
  int fd = -1;
  CHECK_EQ(pn::stream_connect_start(local_addr(port), nullptr, &fd), 0);
  CHECK(fd >= 0);
  CHECK(nonblocking_state(fd) != 0);
  int s = raw_accept(lfd, false);
  CHECK_EQ(raw_wait(fd, true, kWaitMs), 1);
  pn::SockAddr a;
  CHECK_EQ(pn::peer_name(fd, &a), 0);
  char ip[pn::kMaxIpLen];
  int rport, family;
  CHECK_EQ(pn::addr_to_ip(a.sa(), ip, sizeof(ip), &rport, &family), 0);
  CHECK_STREQ(ip, "127.0.0.1");
  CHECK_EQ(rport, port);

  CHECK_EQ(pn::set_nodelay(fd, true), 0);
  int v = 0;
  CHECK_EQ(pn::get_sock_opt(fd, "TCP_NODELAY", &v), 0);
  CHECK_EQ(v, 1);
  CHECK_EQ(pn::set_keepalive(fd, true, 30), 0);
  // Windows before 10 1709 (and wine) cannot read the idle time back.
  // OpenBSD has no per-socket idle time: set_keepalive ignores the delay.
  if (pn::get_sock_opt(fd, "TCP_KEEPIDLE", &v) == 0) CHECK_EQ(v, 30);
#ifdef __OpenBSD__
  else fprintf(stderr, "  (OpenBSD: no TCP_KEEPIDLE, idle time not checked)\n");
#else
  else CHECK(kIsWindows);
#endif
  CHECK_EQ(pn::get_sock_opt(fd, "SO_KEEPALIVE", &v), 0);
  CHECK_EQ(v, 1);
  CHECK_EQ(pn::set_keepalive(fd, false, 0), 0);
  CHECK_EQ(pn::get_sock_opt(fd, "SO_KEEPALIVE", &v), 0);
  CHECK_EQ(v, 0);
  // Not a socket: EBADF on Linux, ENOTSOCK from Winsock (as with libuv).
  int bad = pn::set_nodelay(-1, true);
  CHECK(bad == -EBADF || (kIsWindows && bad == -ENOTSOCK));

  pn::close_fd(fd);
  raw_close(s);
  raw_close(lfd);
}

// set_tos picks the option by the socket's family: IP_TOS for IPv4,
// IPV6_TCLASS for IPv6 (also a dual-stack socket's v4-mapped connection).
static void check_tos(int fd, const char* option) {
  int err = pn::set_tos(fd, 0x48);
  // Winsock may refuse the option (wine: ENOPROTOOPT) or ignore it; node:net
  // treats it as best effort on Windows, and so do socket.ts's callers.
  if (kIsWindows && err != 0) return;
  CHECK_EQ(err, 0);
  int v = -1;
  CHECK_EQ(pn::get_tos(fd, &v), 0);
  if (kIsWindows && v != 0x48) return;
  CHECK_EQ(v, 0x48);
  CHECK_EQ(pn::get_sock_opt(fd, option, &v), 0);
  CHECK_EQ(v, 0x48);
}

static void test_type_of_service() {
  int port = 0;
  int lfd = listen_local(&port);
  int fd = -1;
  CHECK_EQ(pn::stream_connect_start(local_addr(port), nullptr, &fd), 0);
  int s = raw_accept(lfd, false);
  check_tos(fd, "IP_TOS");
  pn::close_fd(fd);
  raw_close(s);
  raw_close(lfd);

  pn::SockAddr any6;
  CHECK_EQ(pn::addr_from_ip("::", 0, &any6), 0);
  const char* sys = nullptr;
  int err = pn::stream_listen(any6, 16, false, false, &lfd, &sys);
  if (err == 0) {
    pn::SockAddr bound;
    CHECK_EQ(pn::sock_name(lfd, &bound), 0);
    char ip[pn::kMaxIpLen];
    int family = 0;
    CHECK_EQ(pn::addr_to_ip(bound.sa(), ip, sizeof(ip), &port, &family), 0);
    int c = raw_connect(port);
    s = raw_accept(lfd, false);  // AF_INET6, peer ::ffff:127.0.0.1
    check_tos(s, "IPV6_TCLASS");
    raw_close(c);
    raw_close(s);
    raw_close(lfd);
  } else {
    CHECK(err == -EAFNOSUPPORT || err == -EADDRNOTAVAIL);  // no IPv6 here
  }

  int v = 0;
  int bad = pn::set_tos(-1, 16);
  CHECK(bad == -EBADF || (kIsWindows && bad == -ENOTSOCK));
  bad = pn::get_tos(-1, &v);
  CHECK(bad == -EBADF || (kIsWindows && bad == -ENOTSOCK));
}

static void test_connect_with_local_bind() {
  int port = 0;
  int lfd = listen_local(&port);
  pn::SockAddr local = local_addr(0);
  int fd = -1;
  CHECK_EQ(pn::stream_connect_start(local_addr(port), &local, &fd), 0);
  int s = raw_accept(lfd, false);
  pn::SockAddr me;
  CHECK_EQ(pn::sock_name(fd, &me), 0);
  CHECK_EQ(me.family(), AF_INET);
  raw_close(s);
  pn::close_fd(fd);
  raw_close(lfd);
}

static void test_connect_refused_leaves_nothing_open() {
  int fds = count_open_fds();
  int fd = -1;
  int err = pn::stream_connect_start(local_addr(closed_port()), nullptr, &fd);
  if (err == 0) {
    // Refusal arrives asynchronously: SO_ERROR tells. (Winsock reports a
    // failed connect as an exception, not as writable: wait for either.)
    pn::Poller p;
    CHECK_EQ(p.init(), 0);
    CHECK_EQ(p.add(fd, pn::kPollWritable, 1), 0);
    pn::PollEvent ev[1];
    int n = 0;
    auto t0 = Clock::now();
    while (n == 0 && ms_since(t0) < kWaitMs) n = p.wait(ev, 1, 100);
    CHECK_EQ(n, 1);
    CHECK_EQ(p.remove(fd), 0);
    CHECK_EQ(pn::sock_error(fd), -ECONNREFUSED);
    pn::close_fd(fd);
  } else {
    CHECK_EQ(err, -ECONNREFUSED);
    CHECK_EQ(fd, -1);
  }
  CHECK_EQ(count_open_fds(), fds);
}

static void test_try_writev_never_raises_sigpipe() {
  int port = 0;
  int lfd = listen_local(&port);
  int fd = -1;
  CHECK_EQ(pn::stream_connect_start(local_addr(port), nullptr, &fd), 0);
  int s = raw_accept(lfd, false);
  CHECK_EQ(raw_wait(fd, true, kWaitMs), 1);

  char a[] = "hello ", b[] = "world";
  iovec iov[2] = {{a, 6}, {b, 5}};
  CHECK_EQ(pn::try_writev(fd, iov, 2), 11);
  CHECK(raw_read_n(s, 11) == "hello world");

  // Fill the kernel buffers: try_writev says 0, never -EAGAIN, never blocks.
  static char big[1 << 16];
  iovec bigv{big, sizeof(big)};
  ssize_t n;
  int rounds = 0;
  while ((n = pn::try_writev(fd, &bigv, 1)) > 0) CHECK(++rounds < 100000);
  CHECK_EQ(n, 0);

  // Reset by the peer: an error code, and no SIGPIPE (which would kill us).
  raw_reset(s);
  sleep_ms(50);
  for (int i = 0; i < 3; i++) {
    n = pn::try_writev(fd, iov, 2);
    if (n < 0) break;
  }
  CHECK(n == -EPIPE || n == -ECONNRESET);
  n = pn::try_writev(fd, iov, 2);
  // Linux: EPIPE once the reset was reported. Winsock keeps saying
  // WSAECONNRESET (libuv gives ECONNRESET there too).
  if (kIsWindows) CHECK(n == -EPIPE || n == -ECONNRESET || n == -ECONNABORTED);
  else CHECK_EQ(n, -EPIPE);
  pn::close_fd(fd);
  raw_close(lfd);
}

int main() {
  TEST(listen_reports_bind_failure);
  TEST(listen_is_nonblocking_cloexec_reuseaddr);
  TEST(dual_stack_listen);
  TEST(listen_reuse_port);
  TEST(connect_start_and_names);
  TEST(connect_with_local_bind);
  TEST(type_of_service);
  TEST(connect_refused_leaves_nothing_open);
  TEST(try_writev_never_raises_sigpipe);
  return 0;
}
