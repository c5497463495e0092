// socket_ops_udp.h - the UDP socket calls: one-shot ones (any thread, never
// blocking, like libuv's uv_udp_* that Node's udp_wrap calls on the JS
// thread) and the batched receive and send a Loop makes on its own thread.
//
// socket_ops_udp.cc is POSIX (recvmmsg/sendmmsg on Linux, a recvmsg/sendmsg
// loop elsewhere), socket_ops_udp_win.cc Winsock. All return 0 (or a count)
// on success and a negative errno on failure, as the rest of the core.
#pragma once

#include <cstddef>
#include <cstdint>

#include "address.h"
#include "platform.h"

// recvmmsg/sendmmsg: Linux. PN_UDP_NO_MMSG turns them off, so the
// recvmsg/sendmsg loop the other platforms use runs on Linux too (the
// kqueue-shim pipe build does: scripts/kqueue-shim.js).
#if defined(__linux__) && !defined(PN_UDP_NO_MMSG)
#define PN_UDP_MMSG 1
#else
#define PN_UDP_MMSG 0
#endif

// Linux's UDP segmentation offload (UDP_SEGMENT, 4.18) and receive
// coalescing (UDP_GRO, 5.0): with both, a run of datagrams to one peer
// crosses the kernel as one buffer. Only where the batched calls are.
#if PN_UDP_MMSG
#define PN_UDP_GSO 1
#else
#define PN_UDP_GSO 0
#endif

namespace pn {

#ifdef _WIN32
// libuv-win (src/win/udp.c) accepts a multicast TTL of -1, which goes to
// setsockopt as is; libuv-unix's range starts at 0.
constexpr int kUdpMulticastTtlMin = -1;
// libuv-win stops receiving when a receive fails, before it reports the
// error; libuv-unix reports it and goes on (lib/udp_platform.ts says the same).
constexpr bool kUdpRecvErrorStopsReading = true;
#else
constexpr int kUdpMulticastTtlMin = 0;
constexpr bool kUdpRecvErrorStopsReading = false;
#endif

// libuv's bind flags (uv_udp_flags), which Node passes through unchanged.
enum UdpBindFlags : unsigned {
  kUdpIpv6Only = 1,
  kUdpReuseAddr = 4,
  kUdpReusePort = 8,
};

// A non-blocking, close-on-exec datagram socket of `family` (AF_INET or
// AF_INET6): the fd, or -errno.
int udp_socket(int family);

// bind() on `fd` as libuv's uv__udp_bind: flags other than the three above
// are -EINVAL, so is kUdpIpv6Only with an IPv4 address; SO_REUSEADDR for
// kUdpReuseAddr, SO_REUSEPORT for kUdpReusePort (-ENOTSUP where the
// platform has no such option); EAFNOSUPPORT from bind() is -EINVAL.
int udp_bind(int fd, const SockAddr& local, unsigned flags);

// Creates a socket for `local`'s family and binds it (udp_bind). On success
// *fd_out is the socket; on failure nothing is left open.
int udp_open_bound(const SockAddr& local, unsigned flags, int* fd_out);

// A caller's UDP socket (dgram's bind({ fd })): non-blocking and
// SO_REUSEADDR, as libuv's uv_udp_open. -ENOTSOCK / -EINVAL when `fd` is
// not a datagram socket.
int udp_adopt_fd(int fd);

int udp_connect(int fd, const SockAddr& remote);
// connect() to AF_UNSPEC (EAFNOSUPPORT, which macOS answers while doing it, is success).
int udp_disconnect(int fd);

// One sendmsg from any thread, to `to` or (null) the connected peer: the bytes
// sent, -EAGAIN when the kernel buffer is full (ENOBUFS too, as libuv), or -errno.
ssize_t udp_try_send(int fd, const iovec* iov, int iovcnt, const SockAddr* to);

// Options, libuv's checks first (a TTL outside 1..255, a multicast TTL
// outside kUdpMulticastTtlMin..255: -EINVAL). IPv4 or IPv6 option by the socket's own
// family (getsockname), as libuv picks by how the handle was bound.
int udp_set_broadcast(int fd, bool on);
int udp_set_ttl(int fd, int ttl);
int udp_set_multicast_ttl(int fd, int ttl);
int udp_set_multicast_loop(int fd, bool on);
// `iface` null: the default interface. An IPv4 or IPv6 literal (with
// %scope) otherwise; -EINVAL for anything else.
int udp_set_multicast_interface(int fd, const char* iface);
// `iface` may be null. -EINVAL when group (or source) is not an IP literal.
int udp_set_membership(int fd, const char* group, const char* iface, bool join);
int udp_set_source_membership(int fd, const char* source, const char* group, const char* iface,
                              bool join);
// The family (AF_INET / AF_INET6) the group literal names, 0 when neither:
// which socket an implicit bind must make (libuv's deferred bind).
int udp_literal_family(const char* ip);

// SO_RCVBUF (recv) or SO_SNDBUF: `size` 0 reads the value into *out; else
// sets it and *out = size (libuv's uv_recv_buffer_size contract).
int udp_buffer_size(int fd, bool recv, int size, int* out);

// --- Loop thread: batched I/O ---

// One receive slot: the caller's buffer, filled in by udp_recv_batch.
struct UdpRecvSlot {
  char* buf = nullptr;
  size_t cap = 0;
  size_t len = 0;          // bytes stored (at most cap)
  bool truncated = false;  // the datagram was longer than cap (MSG_TRUNC)
  // Nonzero: the slot holds several datagrams from `from`, coalesced by the
  // kernel (UDP_GRO), each this long but the last (which may be shorter).
  size_t segment = 0;
  SockAddr from;
};

// Lets the kernel hand this socket a run of datagrams from one sender as one
// buffer (UDP_GRO; udp_recv_batch reports the segment size). Only for a
// socket whose every receive offers at least kUdpGroMinCap bytes: a
// coalesced run never exceeds it, so no datagram of a run is ever cut off.
// 0, or -errno where the kernel lacks it (then datagrams come one by one).
constexpr size_t kUdpGroMinCap = 64 * 1024;
int udp_enable_gro(int fd);

// Whether udp_send_batch may send runs on `fd` as one buffer: an IPv4 or
// IPv6 socket whose kernel knows UDP_SEGMENT. Anything else would take the
// run for one datagram (a Unix datagram socket, or a kernel before 4.18,
// ignores the segment size it does not know).
bool udp_can_segment(int fd);

// Receives up to `n` datagrams, each into its own slot: recvmmsg where the
// platform has it (one system call), else recvmsg until EAGAIN or n. The
// number received (>= 1), -EAGAIN when none was waiting, or -errno (a
// connected socket's ICMP error: -ECONNREFUSED) when the first failed.
// On Windows a WSAECONNRESET / WSAENETRESET (an earlier send's ICMP error,
// SIO_UDP_CONNRESET) is skipped, as libuv-win ignores it.
int udp_recv_batch(int fd, UdpRecvSlot* slots, int n);

// The error the socket holds that no receive returned (SO_ERROR, which
// reading clears), as udp_recv_batch would report it; 0 for none. For a
// poll that said "error" when the receive found nothing: wine's AFD poll
// takes a connected socket's ICMP error (ECONNREFUSED) into the socket's
// error rather than leave it for the next recv.
int udp_pending_error(int fd);

// One datagram to send: its buffers and destination (null: the connected peer).
struct UdpOut {
  const iovec* iov;
  int iovcnt;
  const SockAddr* to;
};

// Sends msgs[0..n) in order, sendmmsg where available: the number sent
// (>= 1, maybe fewer than n), or -errno of msgs[0] (-EAGAIN: buffer full).
// With *gso true (Linux), consecutive datagrams to one destination that the
// kernel can segment (all of one size but a shorter last one) go as one
// buffer with UDP_SEGMENT: the same datagrams on the wire, far less kernel
// work per datagram. When the kernel refuses that (no checksum offload on
// the route, a segment over the path MTU...), *gso becomes false for good and
// the datagrams go one by one; an error such a run meets is msgs[0]'s, as
// it would be one by one. gso may be null (never coalesce).
int udp_send_batch(int fd, const UdpOut* msgs, int n, bool* gso);

// How many system calls udp_recv_batch and udp_send_batch have made in this
// process (tests check that batches really batch).
uint64_t udp_recv_syscalls();
uint64_t udp_send_syscalls();

}  // namespace pn
