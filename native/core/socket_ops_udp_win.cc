// socket_ops_udp_win.cc - socket_ops_udp.h on Winsock (socket_ops_udp.cc is
// the POSIX one). Same contract; negative errnos named as libuv-win names the
// Winsock codes (err_from_wsa_as_libuv), since Node reports them as it gets them.
// Where Windows differs, libuv's Windows side (src/win/udp.c) does the same:
//   - an IPv6 socket is dual-stack unless kUdpIpv6Only (Windows' default is
//     IPv6-only, so it is turned off explicitly);
//   - no SO_REUSEPORT: kUdpReusePort is -ENOTSUP;
//   - no recvmmsg/sendmmsg: one recvfrom/sendto per datagram;
//   - a datagram longer than the buffer fails with WSAEMSGSIZE after filling
//     it: that is the truncation MSG_TRUNC reports elsewhere.
#include "socket_ops_udp.h"

#include <ws2tcpip.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>

#include "socket_ops.h"

namespace pn {

namespace {

std::atomic<uint64_t> g_recv_syscalls{0};
std::atomic<uint64_t> g_send_syscalls{0};

SOCKET to_sock(int fd) { return static_cast<SOCKET>(static_cast<intptr_t>(fd)); }
// Named as Node's udp_wrap names them on Windows (libuv's translation).
int wsa_err() { return err_from_wsa_as_libuv(WSAGetLastError()); }

// An earlier send's ICMP error, which Winsock hands to the next receive on
// the socket (SIO_UDP_CONNRESET, on by default): libuv-win ignores it.
bool is_send_echo(int wsa) { return wsa == WSAECONNRESET || wsa == WSAENETRESET; }

int set_int(int fd, int level, int name, int value) {
  if (setsockopt(to_sock(fd), level, name, reinterpret_cast<const char*>(&value), sizeof value) != 0)
    return wsa_err();
  return 0;
}

int fd_family(int fd) {
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (getsockname(to_sock(fd), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return wsa_err();
  return ss.ss_family;
}

int set_by_family(int fd, int opt4, int opt6, int value) {
  int family = fd_family(fd);
  if (family < 0) return family;
  if (family == AF_INET6) return set_int(fd, IPPROTO_IPV6, opt6, value);
  return set_int(fd, IPPROTO_IP, opt4, value);
}

// WSABUF is {ULONG len; char* buf}: convert (a datagram is far below ULONG_MAX).
DWORD to_wsabufs(const iovec* iov, int iovcnt, WSABUF* out) {
  DWORD n = 0;
  for (int i = 0; i < iovcnt && i < IOV_MAX; i++) {
    out[n].len = static_cast<ULONG>(iov[i].iov_len);
    out[n].buf = static_cast<char*>(iov[i].iov_base);
    n++;
  }
  return n;
}

}  // namespace

int udp_socket(int family) {
  net_init();
  SOCKET s = WSASocketW(family, SOCK_DGRAM, 0, nullptr, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (s == INVALID_SOCKET && WSAGetLastError() == WSAEINVAL) {
    s = WSASocketW(family, SOCK_DGRAM, 0, nullptr, 0, WSA_FLAG_OVERLAPPED);
    if (s != INVALID_SOCKET) SetHandleInformation(reinterpret_cast<HANDLE>(s), HANDLE_FLAG_INHERIT, 0);
  }
  if (s == INVALID_SOCKET) return wsa_err();
  u_long on = 1;
  if (ioctlsocket(s, FIONBIO, &on) != 0) {
    int err = wsa_err();
    closesocket(s);
    return err;
  }
  return static_cast<int>(s);
}

int udp_bind(int fd, const SockAddr& local, unsigned flags) {
  if (flags & ~static_cast<unsigned>(kUdpIpv6Only | kUdpReuseAddr | kUdpReusePort)) return -EINVAL;
  if ((flags & kUdpIpv6Only) && local.family() != AF_INET6) return -EINVAL;
  if (flags & kUdpReusePort) return -ENOTSUP;
  int err = 0;
  if (flags & kUdpReuseAddr) err = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (err == 0 && local.family() == AF_INET6)
    err = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, (flags & kUdpIpv6Only) ? 1 : 0);
  if (err != 0) return err;
  if (bind(to_sock(fd), local.sa(), local.len) != 0) return wsa_err();
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
  int len = sizeof type;
  if (getsockopt(to_sock(fd), SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &len) != 0) return wsa_err();
  if (type != SOCK_DGRAM) return -EINVAL;
  u_long on = 1;
  if (ioctlsocket(to_sock(fd), FIONBIO, &on) != 0) return wsa_err();
  return 0;
}

int udp_connect(int fd, const SockAddr& remote) {
  if (connect(to_sock(fd), remote.sa(), remote.len) != 0) return wsa_err();
  return 0;
}

int udp_disconnect(int fd) {
  // A zeroed address (family AF_UNSPEC) dissolves the association, as libuv does.
  sockaddr_storage addr{};
  if (connect(to_sock(fd), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return wsa_err();
  return 0;
}

ssize_t udp_try_send(int fd, const iovec* iov, int iovcnt, const SockAddr* to) {
  WSABUF bufs[IOV_MAX];
  DWORD n = to_wsabufs(iov, iovcnt, bufs);
  for (;;) {
    DWORD sent = 0;
    int r = to != nullptr ? WSASendTo(to_sock(fd), bufs, n, &sent, 0, to->sa(), to->len, nullptr, nullptr)
                          : WSASend(to_sock(fd), bufs, n, &sent, 0, nullptr, nullptr);
    if (r == 0) return static_cast<ssize_t>(sent);
    int wsa = WSAGetLastError();
    if (wsa == WSAEINTR) continue;
    if (wsa == WSAEWOULDBLOCK || wsa == WSAENOBUFS) return -EAGAIN;
    return err_from_wsa_as_libuv(wsa);
  }
}

int udp_set_broadcast(int fd, bool on) { return set_int(fd, SOL_SOCKET, SO_BROADCAST, on ? 1 : 0); }

int udp_set_ttl(int fd, int ttl) {
  if (ttl < 1 || ttl > 255) return -EINVAL;
  return set_by_family(fd, IP_TTL, IPV6_UNICAST_HOPS, ttl);
}

int udp_set_multicast_ttl(int fd, int ttl) {
  if (ttl < kUdpMulticastTtlMin || ttl > 255) return -EINVAL;
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
    DWORD scope = iface == nullptr ? 0 : reinterpret_cast<const sockaddr_in6*>(a.sa())->sin6_scope_id;
    if (setsockopt(to_sock(fd), IPPROTO_IPV6, IPV6_MULTICAST_IF, reinterpret_cast<const char*>(&scope),
                   sizeof scope) != 0)
      return wsa_err();
    return 0;
  }
  in_addr addr{};
  addr.s_addr = iface == nullptr ? htonl(INADDR_ANY) : reinterpret_cast<const sockaddr_in*>(a.sa())->sin_addr.s_addr;
  if (setsockopt(to_sock(fd), IPPROTO_IP, IP_MULTICAST_IF, reinterpret_cast<const char*>(&addr), sizeof addr) != 0)
    return wsa_err();
  return 0;
}

// libuv-win joins a group only on a socket of the group's family (an IPv4
// group on an IPv6 socket, or the reverse, is EINVAL before any system
// call); libuv-unix leaves it to the kernel, which takes an IPv4 group on a
// dual-stack IPv6 socket.
static bool family_mismatch(int fd, const SockAddr& group) {
  const int family = fd_family(fd);
  return family >= 0 && family != group.family();
}

int udp_set_membership(int fd, const char* group, const char* iface, bool join) {
  SockAddr g;
  if (addr_from_ip(group, 0, &g) != 0) return -EINVAL;
  if (family_mismatch(fd, g)) return -EINVAL;
  if (g.family() == AF_INET) {
    ip_mreq mreq{};
    if (iface != nullptr) {
      if (inet_pton(AF_INET, iface, &mreq.imr_interface) != 1) return -EINVAL;
    } else {
      mreq.imr_interface.s_addr = htonl(INADDR_ANY);
    }
    mreq.imr_multiaddr = reinterpret_cast<const sockaddr_in*>(g.sa())->sin_addr;
    if (setsockopt(to_sock(fd), IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP,
                   reinterpret_cast<const char*>(&mreq), sizeof mreq) != 0)
      return wsa_err();
    return 0;
  }
  ipv6_mreq mreq{};
  if (iface != nullptr) {
    SockAddr i;
    if (addr_from_ip(iface, 0, &i) != 0 || i.family() != AF_INET6) return -EINVAL;
    mreq.ipv6mr_interface = reinterpret_cast<const sockaddr_in6*>(i.sa())->sin6_scope_id;
  }
  mreq.ipv6mr_multiaddr = reinterpret_cast<const sockaddr_in6*>(g.sa())->sin6_addr;
  if (setsockopt(to_sock(fd), IPPROTO_IPV6, join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP,
                 reinterpret_cast<const char*>(&mreq), sizeof mreq) != 0)
    return wsa_err();
  return 0;
}

int udp_set_source_membership(int fd, const char* source, const char* group, const char* iface, bool join) {
  SockAddr g, s;
  if (addr_from_ip(group, 0, &g) != 0) return -EINVAL;
  if (addr_from_ip(source, 0, &s) != 0 || s.family() != g.family()) return -EINVAL;
  if (family_mismatch(fd, g)) return -EINVAL;
  if (g.family() == AF_INET) {
    ip_mreq_source mreq{};
    if (iface != nullptr) {
      if (inet_pton(AF_INET, iface, &mreq.imr_interface) != 1) return -EINVAL;
    } else {
      mreq.imr_interface.s_addr = htonl(INADDR_ANY);
    }
    mreq.imr_multiaddr = reinterpret_cast<const sockaddr_in*>(g.sa())->sin_addr;
    mreq.imr_sourceaddr = reinterpret_cast<const sockaddr_in*>(s.sa())->sin_addr;
    if (setsockopt(to_sock(fd), IPPROTO_IP, join ? IP_ADD_SOURCE_MEMBERSHIP : IP_DROP_SOURCE_MEMBERSHIP,
                   reinterpret_cast<const char*>(&mreq), sizeof mreq) != 0)
      return wsa_err();
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
  if (setsockopt(to_sock(fd), IPPROTO_IPV6, join ? MCAST_JOIN_SOURCE_GROUP : MCAST_LEAVE_SOURCE_GROUP,
                 reinterpret_cast<const char*>(&mreq), sizeof mreq) != 0)
    return wsa_err();
  return 0;
}

int udp_buffer_size(int fd, bool recv, int size, int* out) {
  const int opt = recv ? SO_RCVBUF : SO_SNDBUF;
  if (size == 0) {
    int value = 0;
    int len = sizeof value;
    if (getsockopt(to_sock(fd), SOL_SOCKET, opt, reinterpret_cast<char*>(&value), &len) != 0) return wsa_err();
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
  int got = 0;
  while (got < n) {
    UdpRecvSlot& s = slots[got];
    int fromlen = sizeof(sockaddr_storage);
    const int cap = s.cap > INT_MAX ? INT_MAX : static_cast<int>(s.cap);
    g_recv_syscalls.fetch_add(1, std::memory_order_relaxed);
    int r = recvfrom(to_sock(fd), s.buf, cap, 0, s.from.sa(), &fromlen);
    if (r >= 0) {
      s.len = static_cast<size_t>(r);
      s.truncated = false;
      s.from.len = fromlen;
      got++;
      continue;
    }
    int wsa = WSAGetLastError();
    if (wsa == WSAEINTR || is_send_echo(wsa)) continue;
    if (wsa == WSAEMSGSIZE) {
      // The buffer is full and the rest of the datagram is gone.
      s.len = s.cap;
      s.truncated = true;
      s.from.len = fromlen;
      got++;
      continue;
    }
    if (got > 0) return got;  // the error (if any) is seen again next time
    if (wsa == WSAEWOULDBLOCK) return -EAGAIN;
    return err_from_wsa_as_libuv(wsa);
  }
  return got;
}

int udp_pending_error(int fd) {
  int err = 0;
  int len = sizeof err;
  if (getsockopt(to_sock(fd), SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&err), &len) != 0) return wsa_err();
  if (err == 0 || is_send_echo(err)) return 0;
  return err_from_wsa_as_libuv(err);
}

int udp_enable_gro(int fd) {
  (void)fd;
  return -ENOPROTOOPT;  // Winsock's UDP_RECV_MAX_COALESCED_SIZE is not used
}

bool udp_can_segment(int fd) {
  (void)fd;
  return false;
}

int udp_send_batch(int fd, const UdpOut* msgs, int n, bool* gso) {
  (void)gso;  // no segmentation offload here: one by one
  int sent = 0;
  while (sent < n) {
    g_send_syscalls.fetch_add(1, std::memory_order_relaxed);
    ssize_t r = udp_try_send(fd, msgs[sent].iov, msgs[sent].iovcnt, msgs[sent].to);
    if (r < 0) return sent > 0 ? sent : static_cast<int>(r);
    sent++;
  }
  return sent;
}

}  // namespace pn
