// socket_bind_test - sock_bind and connect_start: a socket bound without
// listening or connecting (net.BoundSocket), then listened on or connected
// from that bound address.
#include "harness.h"

using namespace pt;

static int port_of(int fd) {
  pn::SockAddr a;
  CHECK_EQ(pn::sock_name(fd, &a), 0);
  char ip[pn::kMaxIpLen];
  int port = 0, family = 0;
  CHECK_EQ(pn::addr_to_ip(a.sa(), ip, sizeof(ip), &port, &family), 0);
  return port;
}

static void test_bind_is_nonblocking_cloexec_and_bound() {
  int fds = count_open_fds();
  int fd = -1;
  CHECK_EQ(pn::sock_bind(local_addr(0), false, false, &fd), 0);
  CHECK(fd >= 0);
  CHECK(nonblocking_state(fd) != 0);
  CHECK_EQ(cloexec_state(fd), 1);
  CHECK(port_of(fd) > 0);
  int v = -1;
  CHECK_EQ(pn::get_sock_opt(fd, "SO_REUSEADDR", &v), 0);
  CHECK_EQ(v, kIsWindows ? 0 : 1);
  pn::close_fd(fd);
  CHECK_EQ(count_open_fds(), fds);
}

static void test_bind_conflict_with_a_listener_leaves_nothing_open() {
  int port = 0;
  int lfd = listen_local(&port);
  int fds = count_open_fds();
  int fd = -1;
  int err = pn::sock_bind(local_addr(port), false, false, &fd);
  // Winsock may let a bind share a port with a listener (no SO_EXCLUSIVEADDRUSE).
  if (!kIsWindows) CHECK_EQ(err, -EADDRINUSE);
  if (err == 0) {
    pn::close_fd(fd);
  } else {
    CHECK_EQ(fd, -1);
    CHECK_EQ(count_open_fds(), fds);
  }
  raw_close(lfd);
}

static void test_bound_socket_listens() {
  int fd = -1;
  CHECK_EQ(pn::sock_bind(local_addr(0), false, false, &fd), 0);
  int port = port_of(fd);
  CHECK_EQ(pn::listen_fd(fd, 16), 0);
  int c = raw_connect(port);
  int s = raw_accept(fd, false);
  CHECK(s >= 0);
  raw_close(c);
  raw_close(s);
  pn::close_fd(fd);
}

static void test_connect_from_bound_socket_keeps_its_port() {
  int lport = 0;
  int lfd = listen_local(&lport);
  int fd = -1;
  CHECK_EQ(pn::sock_bind(local_addr(0), false, false, &fd), 0);
  int bound = port_of(fd);
  CHECK_EQ(pn::connect_start(fd, local_addr(lport)), 0);
  int s = raw_accept(lfd, false);
  CHECK_EQ(raw_wait(fd, true, kWaitMs), 1);
  CHECK_EQ(pn::sock_error(fd), 0);
  CHECK_EQ(port_of(fd), bound);
  pn::SockAddr peer;
  CHECK_EQ(pn::peer_name(s, &peer), 0);
  char ip[pn::kMaxIpLen];
  int pport = 0, family = 0;
  CHECK_EQ(pn::addr_to_ip(peer.sa(), ip, sizeof(ip), &pport, &family), 0);
  CHECK_EQ(pport, bound);
  raw_close(s);
  pn::close_fd(fd);
  raw_close(lfd);
}

static void test_connect_failure_leaves_the_fd_to_the_caller() {
  int fd = -1;
  CHECK_EQ(pn::sock_bind(local_addr(0), false, false, &fd), 0);
  pn::SockAddr v6;
  CHECK_EQ(pn::addr_from_ip("::1", 9, &v6), 0);
  // An IPv4 socket cannot reach an IPv6 address: the answer comes now.
  CHECK(pn::connect_start(fd, v6) < 0);
  CHECK(fd_is_open(fd));
  pn::close_fd(fd);
}

static void test_ipv6_only_bind() {
  pn::SockAddr any6;
  CHECK_EQ(pn::addr_from_ip("::", 0, &any6), 0);
  int fd = -1;
  int err = pn::sock_bind(any6, true, false, &fd);
  if (err == -EAFNOSUPPORT || err == -EADDRNOTAVAIL) return;  // no IPv6 here
  CHECK_EQ(err, 0);
  int v = -1;
  CHECK_EQ(pn::get_sock_opt(fd, "IPV6_V6ONLY", &v), 0);
  CHECK_EQ(v, 1);
  pn::close_fd(fd);
  CHECK_EQ(pn::sock_bind(any6, false, false, &fd), 0);
  CHECK_EQ(pn::get_sock_opt(fd, "IPV6_V6ONLY", &v), 0);
  CHECK_EQ(v, 0);
  pn::close_fd(fd);
}

static void test_reuse_port() {
  int fd = -1;
  int err = pn::sock_bind(local_addr(0), false, true, &fd);
  if (!kHasReusePort) {
    CHECK_EQ(err, -ENOTSUP);
    return;
  }
  CHECK_EQ(err, 0);
  int port = port_of(fd);
  CHECK_EQ(pn::listen_fd(fd, 16), 0);
  // A second listener on the same port, allowed by SO_REUSEPORT on both.
  int fd2 = -1;
  CHECK_EQ(pn::sock_bind(local_addr(port), false, true, &fd2), 0);
  CHECK_EQ(pn::listen_fd(fd2, 16), 0);
  pn::close_fd(fd2);
  pn::close_fd(fd);
}

int main() {
  TEST(bind_is_nonblocking_cloexec_and_bound);
  TEST(bind_conflict_with_a_listener_leaves_nothing_open);
  TEST(bound_socket_listens);
  TEST(connect_from_bound_socket_keeps_its_port);
  TEST(connect_failure_leaves_the_fd_to_the_caller);
  TEST(ipv6_only_bind);
  TEST(reuse_port);
  return 0;
}
