// socket_ops_udp.cc - UDP socket calls on POSIX (see socket_ops_udp.h).
//
// Linux batches with recvmmsg/sendmmsg; macOS and the BSDs (reviewed, never
// compiled there, as socket_ops.cc) loop over recvmsg/sendmsg. Where libuv
// decides something (flags, ranges, which option), it is said below.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  // recvmmsg/sendmmsg
#endif
#include "socket_ops_udp.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#if PN_UDP_GSO
#include <netinet/udp.h>
// The kernel's values (include/uapi/linux/udp.h), for C libraries older
// than the options.
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#endif

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "socket_ops.h"

namespace pn {

namespace {

std::atomic<uint64_t> g_recv_syscalls{0};
std::atomic<uint64_t> g_send_syscalls{0};

int set_int(int fd, int level, int name, int value) {
  if (setsockopt(fd, level, name, &value, sizeof(value)) != 0) return -errno;
  return 0;
}

// The socket's own family, as libuv's UV_HANDLE_IPV6 (set by an IPv6 bind).
int fd_family(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return -errno;
  return ss.ss_family;
}

// IPv4 option or IPv6 option by the socket's family; `value` checked 0..255
// first as libuv's uv__setsockopt_maybe_char.
int set_by_family(int fd, int opt4, int opt6, int value) {
  if (value < 0 || value > 255) return -EINVAL;
  int family = fd_family(fd);
  if (family < 0) return family;
  if (family == AF_INET6) return set_int(fd, IPPROTO_IPV6, opt6, value);
  return set_int(fd, IPPROTO_IP, opt4, value);
}

int reuse_port(int fd) {
#if defined(SO_REUSEPORT_LB)
  return set_int(fd, SOL_SOCKET, SO_REUSEPORT_LB, 1);
#elif defined(SO_REUSEPORT)
  return set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
#else
  (void)fd;
  return -ENOTSUP;
#endif
}

// libuv's uv__set_reuse: SO_REUSEADDR on Linux, SO_REUSEPORT on the BSDs
// (where it implies SO_REUSEADDR with the multicast refinements).
int reuse_addr(int fd) {
#if defined(SO_REUSEPORT) && !defined(__linux__)
  return set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
#else
  return set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
#endif
}

msghdr make_msghdr(const iovec* iov, int iovcnt, const SockAddr* to) {
  msghdr h{};
  if (to != nullptr) {
    h.msg_name = const_cast<sockaddr*>(to->sa());
    h.msg_namelen = to->len;
  }
  h.msg_iov = const_cast<iovec*>(iov);
  h.msg_iovlen = static_cast<size_t>(iovcnt);
  return h;
}

int send_errno() {
  // ENOBUFS: the interface queue is full, which libuv treats as EAGAIN.
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return -EAGAIN;
  return -errno;
}

constexpr int kMaxBatch = 64;

#if PN_UDP_GSO
// A run sent as one buffer: at most this many datagrams (UDP_MAX_SEGMENTS,
// 64 before Linux 6.8) and bytes (under the 65,507 an IPv4 datagram may
// carry, so the kernel's own limits never refuse a run for its size).
constexpr int kRunMaxDatagrams = 64;
constexpr size_t kRunMaxBytes = 65000;
// The buffers of every run of one call (a copied datagram is one buffer).
constexpr size_t kRunIovMax = 256;
// udp_send_batch_runs when the kernel refused a run: send one by one.
constexpr int kRunsRefused = INT32_MIN;

size_t out_bytes(const UdpOut& m) {
  size_t total = 0;
  for (int i = 0; i < m.iovcnt; i++) total += m.iov[i].iov_len;
  return total;
}

bool same_destination(const SockAddr* a, const SockAddr* b) {
  if (a == nullptr || b == nullptr) return a == b;
  return a->len == b->len && memcmp(&a->storage, &b->storage, a->len) == 0;
}

// udp_send_batch with runs (see socket_ops_udp.h): the datagrams sent, -errno
// of msgs[0], or kRunsRefused (and *gso false) when the kernel refused a run
// it was the first of.
int udp_send_batch_runs(int fd, const UdpOut* msgs, int n, bool* gso) {
  mmsghdr hdr[kMaxBatch];
  int first[kMaxBatch + 1];  // the first datagram of each run, then n
  iovec iov[kRunIovMax];
  alignas(cmsghdr) char ctl[kMaxBatch][CMSG_SPACE(sizeof(uint16_t))];
  int runs = 0;
  size_t used = 0;
  int i = 0;
  while (i < n) {
    // A run: datagrams of one size to one destination, and at most one
    // shorter one to end it (the kernel cuts every `seg` bytes).
    const size_t seg = out_bytes(msgs[i]);
    int end = i + 1;
    size_t bytes = seg;
    size_t bufs = static_cast<size_t>(msgs[i].iovcnt);
    while (seg > 0 && end < n && end - i < kRunMaxDatagrams && same_destination(msgs[end].to, msgs[i].to)) {
      const size_t len = out_bytes(msgs[end]);
      if (len == 0 || len > seg || bytes + len > kRunMaxBytes) break;
      if (used + bufs + static_cast<size_t>(msgs[end].iovcnt) > kRunIovMax) break;
      bytes += len;
      bufs += static_cast<size_t>(msgs[end].iovcnt);
      end++;
      if (len < seg) break;
    }
    memset(&hdr[runs], 0, sizeof hdr[runs]);
    msghdr& h = hdr[runs].msg_hdr;
    if (end - i == 1) {
      h = make_msghdr(msgs[i].iov, msgs[i].iovcnt, msgs[i].to);
    } else {
      h = make_msghdr(iov + used, static_cast<int>(bufs), msgs[i].to);
      for (int k = i; k < end; k++) {
        for (int b = 0; b < msgs[k].iovcnt; b++) iov[used++] = msgs[k].iov[b];
      }
      h.msg_control = ctl[runs];
      h.msg_controllen = sizeof ctl[runs];
      cmsghdr* c = CMSG_FIRSTHDR(&h);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      const uint16_t size = static_cast<uint16_t>(seg);
      memcpy(CMSG_DATA(c), &size, sizeof size);
    }
    first[runs++] = i;
    i = end;
  }
  first[runs] = n;
  for (;;) {
    g_send_syscalls.fetch_add(1, std::memory_order_relaxed);
    int sent = sendmmsg(fd, hdr, static_cast<unsigned>(runs), 0);
    if (sent > 0) return first[sent];
    if (sent < 0 && errno == EINTR) continue;
    // Refusals of the offload itself: EIO (no checksum offload on the route),
    // EINVAL (a segment over the path MTU...). One by one, a datagram's own
    // EINVAL comes back again, and is reported then.
    if (sent < 0 && first[1] - first[0] > 1 && (errno == EIO || errno == EINVAL || errno == EOPNOTSUPP)) {
      *gso = false;
      return kRunsRefused;
    }
    return send_errno();
  }
}
#endif

}  // namespace

int udp_socket(int family) {
#ifdef SOCK_NONBLOCK
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  return fd;
#else
  int fd = socket(family, SOCK_DGRAM, 0);
  if (fd < 0) return -errno;
  int err = set_nonblocking(fd);  // also close-on-exec and SO_NOSIGPIPE (socket_ops.cc)
  if (err != 0) {
    close(fd);
    return err;
  }
  return fd;
#endif
}

int udp_bind(int fd, const SockAddr& local, unsigned flags) {
  if (flags & ~static_cast<unsigned>(kUdpIpv6Only | kUdpReuseAddr | kUdpReusePort)) return -EINVAL;
  if ((flags & kUdpIpv6Only) && local.family() != AF_INET6) return -EINVAL;
  int err = 0;
  if (flags & kUdpReuseAddr) err = reuse_addr(fd);
  if (err == 0 && (flags & kUdpReusePort)) err = reuse_port(fd);
  if (err == 0 && (flags & kUdpIpv6Only)) err = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
  if (err != 0) return err;
  if (bind(fd, local.sa(), local.len) != 0) return errno == EAFNOSUPPORT ? -EINVAL : -errno;
  return 0;
}

int udp_open_bound(const SockAddr& local, unsigned flags, int* fd_out) {
  *fd_out = -1;
  int fd = udp_socket(local.family());
  if (fd < 0) return fd;
  int err = udp_bind(fd, local, flags);
  if (err != 0) {
    close_fd(fd);
    return err;
  }
  *fd_out = fd;
  return 0;
}

int udp_adopt_fd(int fd) {
  int type = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return -errno;
  if (type != SOCK_DGRAM) return -EINVAL;
  int err = set_nonblocking(fd);
  if (err == 0) err = reuse_addr(fd);
  return err;
}

int udp_connect(int fd, const SockAddr& remote) {
  for (;;) {
    if (connect(fd, remote.sa(), remote.len) == 0) return 0;
    if (errno != EINTR) return -errno;
  }
}

int udp_disconnect(int fd) {
  sockaddr addr{};
  addr.sa_family = AF_UNSPEC;
  for (;;) {
    if (connect(fd, &addr, sizeof addr) == 0) return 0;
    if (errno == EINTR) continue;
    return errno == EAFNOSUPPORT ? 0 : -errno;
  }
}

ssize_t udp_try_send(int fd, const iovec* iov, int iovcnt, const SockAddr* to) {
  msghdr h = make_msghdr(iov, iovcnt, to);
  for (;;) {
    ssize_t n = sendmsg(fd, &h, 0);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return send_errno();
  }
}

int udp_set_broadcast(int fd, bool on) { return set_int(fd, SOL_SOCKET, SO_BROADCAST, on ? 1 : 0); }

int udp_set_ttl(int fd, int ttl) {
  if (ttl < 1 || ttl > 255) return -EINVAL;
  return set_by_family(fd, IP_TTL, IPV6_UNICAST_HOPS, ttl);
}

int udp_set_multicast_ttl(int fd, int ttl) {
  return set_by_family(fd, IP_MULTICAST_TTL, IPV6_MULTICAST_HOPS, ttl);
}

int udp_set_multicast_loop(int fd, bool on) {
  return set_by_family(fd, IP_MULTICAST_LOOP, IPV6_MULTICAST_LOOP, on ? 1 : 0);
}

int udp_literal_family(const char* ip) {
  SockAddr a;
  if (addr_from_ip(ip, 0, &a) != 0) return 0;
  return a.family();
}

int udp_set_multicast_interface(int fd, const char* iface) {
  int family;
  SockAddr a;
  if (iface == nullptr) {
    family = fd_family(fd);
    if (family < 0) return family;
  } else {
    if (addr_from_ip(iface, 0, &a) != 0) return -EINVAL;
    family = a.family();
  }
  if (family == AF_INET6) {
    unsigned scope = iface == nullptr ? 0 : reinterpret_cast<const sockaddr_in6*>(a.sa())->sin6_scope_id;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &scope, sizeof scope) != 0) return -errno;
    return 0;
  }
  in_addr addr{};
  addr.s_addr = iface == nullptr ? htonl(INADDR_ANY) : reinterpret_cast<const sockaddr_in*>(a.sa())->sin_addr.s_addr;
  if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &addr, sizeof addr) != 0) return -errno;
  return 0;
}

int udp_set_membership(int fd, const char* group, const char* iface, bool join) {
  SockAddr g;
  if (addr_from_ip(group, 0, &g) != 0) return -EINVAL;
  if (g.family() == AF_INET) {
    ip_mreq mreq{};
    if (iface != nullptr) {
      if (inet_pton(AF_INET, iface, &mreq.imr_interface) != 1) return -EINVAL;
    } else {
      mreq.imr_interface.s_addr = htonl(INADDR_ANY);
    }
    mreq.imr_multiaddr = reinterpret_cast<const sockaddr_in*>(g.sa())->sin_addr;
    if (setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &mreq, sizeof mreq) != 0)
      return -errno;
    return 0;
  }
  ipv6_mreq mreq{};
  if (iface != nullptr) {
    SockAddr i;
    if (addr_from_ip(iface, 0, &i) != 0 || i.family() != AF_INET6) return -EINVAL;
    mreq.ipv6mr_interface = reinterpret_cast<const sockaddr_in6*>(i.sa())->sin6_scope_id;
  }
  mreq.ipv6mr_multiaddr = reinterpret_cast<const sockaddr_in6*>(g.sa())->sin6_addr;
#if defined(IPV6_ADD_MEMBERSHIP)
  const int opt = join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP;
#else
  const int opt = join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP;
#endif
  if (setsockopt(fd, IPPROTO_IPV6, opt, &mreq, sizeof mreq) != 0) return -errno;
  return 0;
}

int udp_set_source_membership(int fd, const char* source, const char* group, const char* iface,
                              bool join) {
#if defined(__OpenBSD__) || defined(__NetBSD__)
  (void)fd, (void)source, (void)group, (void)iface, (void)join;
  return -ENOSYS;  // as libuv there
#else
  SockAddr g, s;
  if (addr_from_ip(group, 0, &g) != 0) return -EINVAL;
  if (addr_from_ip(source, 0, &s) != 0 || s.family() != g.family()) return -EINVAL;
  if (g.family() == AF_INET) {
    ip_mreq_source mreq{};
    if (iface != nullptr) {
      if (inet_pton(AF_INET, iface, &mreq.imr_interface) != 1) return -EINVAL;
    } else {
      mreq.imr_interface.s_addr = htonl(INADDR_ANY);
    }
    mreq.imr_multiaddr = reinterpret_cast<const sockaddr_in*>(g.sa())->sin_addr;
    mreq.imr_sourceaddr = reinterpret_cast<const sockaddr_in*>(s.sa())->sin_addr;
    const int opt = join ? IP_ADD_SOURCE_MEMBERSHIP : IP_DROP_SOURCE_MEMBERSHIP;
    if (setsockopt(fd, IPPROTO_IP, opt, &mreq, sizeof mreq) != 0) return -errno;
    return 0;
  }
  group_source_req mreq{};
  if (iface != nullptr) {
    SockAddr i;
    if (addr_from_ip(iface, 0, &i) != 0 || i.family() != AF_INET6) return -EINVAL;
    mreq.gsr_interface = reinterpret_cast<const sockaddr_in6*>(i.sa())->sin6_scope_id;
  }
  memcpy(&mreq.gsr_group, g.sa(), sizeof(sockaddr_in6));
  memcpy(&mreq.gsr_source, s.sa(), sizeof(sockaddr_in6));
  const int opt = join ? MCAST_JOIN_SOURCE_GROUP : MCAST_LEAVE_SOURCE_GROUP;
  if (setsockopt(fd, IPPROTO_IPV6, opt, &mreq, sizeof mreq) != 0) return -errno;
  return 0;
#endif
}

int udp_buffer_size(int fd, bool recv, int size, int* out) {
  const int opt = recv ? SO_RCVBUF : SO_SNDBUF;
  if (size == 0) {
    int value = 0;
    socklen_t len = sizeof value;
    if (getsockopt(fd, SOL_SOCKET, opt, &value, &len) != 0) return -errno;
    *out = value;
    return 0;
  }
  int err = set_int(fd, SOL_SOCKET, opt, size);
  if (err == 0) *out = size;
  return err;
}

uint64_t udp_recv_syscalls() { return g_recv_syscalls.load(std::memory_order_relaxed); }
uint64_t udp_send_syscalls() { return g_send_syscalls.load(std::memory_order_relaxed); }

int udp_recv_batch(int fd, UdpRecvSlot* slots, int n) {
  if (n > kMaxBatch) n = kMaxBatch;
  iovec iov[kMaxBatch];
#if PN_UDP_MMSG
  mmsghdr hdr[kMaxBatch];
  // Room for the one control message asked for (UDP_GRO's segment size).
  alignas(cmsghdr) char ctl[kMaxBatch][CMSG_SPACE(sizeof(int))];
  for (int i = 0; i < n; i++) {
    iov[i].iov_base = slots[i].buf;
    iov[i].iov_len = slots[i].cap;
    memset(&hdr[i], 0, sizeof hdr[i]);
    hdr[i].msg_hdr.msg_name = slots[i].from.sa();
    hdr[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    hdr[i].msg_hdr.msg_iov = &iov[i];
    hdr[i].msg_hdr.msg_iovlen = 1;
    hdr[i].msg_hdr.msg_control = ctl[i];
    hdr[i].msg_hdr.msg_controllen = sizeof ctl[i];
  }
  for (;;) {
    g_recv_syscalls.fetch_add(1, std::memory_order_relaxed);
    int got = recvmmsg(fd, hdr, static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return -EAGAIN;
      return -errno;
    }
    for (int i = 0; i < got; i++) {
      msghdr& h = hdr[i].msg_hdr;
      slots[i].len = hdr[i].msg_len;
      slots[i].truncated = (h.msg_flags & MSG_TRUNC) != 0;
      slots[i].from.len = h.msg_namelen;
      slots[i].segment = 0;
      for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
          int size = 0;
          memcpy(&size, CMSG_DATA(c), sizeof size);
          if (size > 0 && slots[i].len > static_cast<size_t>(size)) slots[i].segment = static_cast<size_t>(size);
        }
      }
    }
    return got;
  }
#else
  int got = 0;
  while (got < n) {
    UdpRecvSlot& s = slots[got];
    iov[got].iov_base = s.buf;
    iov[got].iov_len = s.cap;
    msghdr h{};
    h.msg_name = s.from.sa();
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_iov = &iov[got];
    h.msg_iovlen = 1;
    g_recv_syscalls.fetch_add(1, std::memory_order_relaxed);
    ssize_t r = recvmsg(fd, &h, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (got > 0) return got;  // the error (if any) is seen again next time
      if (errno == EAGAIN || errno == EWOULDBLOCK) return -EAGAIN;
      return -errno;
    }
    s.len = static_cast<size_t>(r);
    s.truncated = (h.msg_flags & MSG_TRUNC) != 0;
    s.from.len = h.msg_namelen;
    got++;
  }
  return got;
#endif
}

int udp_pending_error(int fd) { return sock_error(fd); }

int udp_enable_gro(int fd) {
#if PN_UDP_GSO
  return set_int(fd, SOL_UDP, UDP_GRO, 1);
#else
  (void)fd;
  return -ENOPROTOOPT;
#endif
}

bool udp_can_segment(int fd) {
#if PN_UDP_GSO
  const int family = fd_family(fd);
  if (family != AF_INET && family != AF_INET6) return false;
  int size = 0;
  socklen_t len = sizeof size;
  return getsockopt(fd, SOL_UDP, UDP_SEGMENT, &size, &len) == 0;
#else
  (void)fd;
  return false;
#endif
}

int udp_send_batch(int fd, const UdpOut* msgs, int n, bool* gso) {
  if (n > kMaxBatch) n = kMaxBatch;
#if PN_UDP_GSO
  if (gso != nullptr && *gso && n > 1) {
    int sent = udp_send_batch_runs(fd, msgs, n, gso);
    if (sent != kRunsRefused) return sent;
  }
#else
  (void)gso;
#endif
#if PN_UDP_MMSG
  mmsghdr hdr[kMaxBatch];
  for (int i = 0; i < n; i++) {
    memset(&hdr[i], 0, sizeof hdr[i]);
    hdr[i].msg_hdr = make_msghdr(msgs[i].iov, msgs[i].iovcnt, msgs[i].to);
  }
  for (;;) {
    g_send_syscalls.fetch_add(1, std::memory_order_relaxed);
    int sent = sendmmsg(fd, hdr, static_cast<unsigned>(n), 0);
    if (sent > 0) return sent;
    if (sent < 0 && errno == EINTR) continue;
    return send_errno();
  }
#else
  int sent = 0;
  while (sent < n) {
    g_send_syscalls.fetch_add(1, std::memory_order_relaxed);
    ssize_t r = udp_try_send(fd, msgs[sent].iov, msgs[sent].iovcnt, msgs[sent].to);
    if (r < 0) return sent > 0 ? sent : static_cast<int>(r);
    sent++;
  }
  return sent;
#endif
}

}  // namespace pn
