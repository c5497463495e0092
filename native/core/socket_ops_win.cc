// socket_ops_win.cc - socket_ops.h on Winsock (socket_ops.cc is the POSIX one).
//
// Same contract, same negative-errno results: every Winsock error goes through
// err_from_wsa() so WSAECONNREFUSED comes out as -ECONNREFUSED and the JS side
// sees the names it sees on Linux. Sockets are non-blocking (FIONBIO) and not
// inheritable (the Windows close-on-exec); readiness comes from poller_iocp.cc.
// Where Windows differs on purpose, the difference is libuv's too:
//   - no SO_REUSEADDR: on Windows it lets another socket steal a bound port,
//     and binding over TIME_WAIT works without it (libuv's uv_tcp_bind agrees);
//   - stop_listening cannot stop a listening socket without closing it, so it
//     does nothing: the loop's close (a moment later) is what stops it.
// A named pipe's fd (pipe_win.h) is no socket: the calls a stream or a
// listener makes on it go to pipe_win.cc; socket options and names do not
// apply to it (-ENOTSOCK), as libuv's pipe handle has none.
#include "socket_ops.h"

#include <mstcpip.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>

#include "pipe_win.h"
#include "platform.h"

namespace pn {

namespace {

// Windows 10 1709+ names for the keep-alive knobs (ws2ipdef.h in newer SDKs).
constexpr int kTcpKeepIdle = 3;    // TCP_KEEPALIVE: seconds idle before probes
constexpr int kTcpKeepCnt = 16;    // TCP_KEEPCNT
constexpr int kTcpKeepIntvl = 17;  // TCP_KEEPINTVL

SOCKET to_sock(int fd) { return static_cast<SOCKET>(static_cast<intptr_t>(fd)); }

int wsa_err() { return err_from_wsa(WSAGetLastError()); }

int set_int_opt(int fd, int level, int name, int value) {
  if (setsockopt(to_sock(fd), level, name, reinterpret_cast<const char*>(&value),
                 sizeof(value)) != 0)
    return wsa_err();
  return 0;
}

int set_nonblock(SOCKET s) {
  u_long on = 1;
  return ioctlsocket(s, FIONBIO, &on) == 0 ? 0 : wsa_err();
}

// A non-blocking, non-inheritable stream socket, or -errno.
int new_stream_socket(int family) {
  net_init();
  SOCKET s = WSASocketW(family, SOCK_STREAM, 0, nullptr, 0,
                        WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (s == INVALID_SOCKET && WSAGetLastError() == WSAEINVAL) {
    // Before Windows 7 SP1 the flag is unknown: clear inheritance by hand.
    s = WSASocketW(family, SOCK_STREAM, 0, nullptr, 0, WSA_FLAG_OVERLAPPED);
    if (s != INVALID_SOCKET) SetHandleInformation(reinterpret_cast<HANDLE>(s), HANDLE_FLAG_INHERIT, 0);
  }
  if (s == INVALID_SOCKET) return wsa_err();
  int err = set_nonblock(s);
  if (err != 0) {
    closesocket(s);
    return err;
  }
  return static_cast<int>(s);
}

}  // namespace

void net_init() {
  // A function-local static: thread-safe, once per process. Never undone
  // (WSACleanup at exit would race other DLLs' sockets; the OS cleans up).
  static const int started = [] {
    WSADATA data;
    return WSAStartup(MAKEWORD(2, 2), &data);
  }();
  (void)started;
}

int stream_connect_start(const SockAddr& remote, const SockAddr* local, int* fd_out) {
  *fd_out = -1;
  int fd = new_stream_socket(remote.family());
  if (fd < 0) return fd;
  int err = 0;
  if (local != nullptr && bind(to_sock(fd), local->sa(), local->len) != 0) err = wsa_err();
  if (err == 0) err = connect_start(fd, remote);
  if (err != 0) {
    close_fd(fd);
    return err;
  }
  *fd_out = fd;
  return 0;
}

int connect_start(int fd, const SockAddr& remote) {
  if (connect(to_sock(fd), remote.sa(), remote.len) != 0) {
    int wsa = WSAGetLastError();
    // WSAEWOULDBLOCK is Winsock's EINPROGRESS for a non-blocking connect.
    if (wsa != WSAEWOULDBLOCK && wsa != WSAEINPROGRESS && wsa != WSAEINTR) return err_from_wsa(wsa);
  }
  return 0;
}

int sock_bind(const SockAddr& local, bool ipv6_only, bool reuse_port, int* fd_out) {
  *fd_out = -1;
  // Winsock has no SO_REUSEPORT (libuv answers UV_ENOTSUP there too), and its
  // SO_REUSEADDR means port stealing, which libuv does not set for TCP.
  if (reuse_port) return -ENOTSUP;
  int fd = new_stream_socket(local.family());
  if (fd < 0) return fd;
  int err = 0;
  if (local.family() == AF_INET6) err = set_int_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, ipv6_only ? 1 : 0);
  if (err == 0 && bind(to_sock(fd), local.sa(), local.len) != 0) err = wsa_err();
  if (err != 0) {
    close_fd(fd);
    return err;
  }
  *fd_out = fd;
  return 0;
}

int stream_listen(const SockAddr& local, int backlog, bool ipv6_only, bool reuse_port, int* fd_out,
               const char** syscall_out) {
  const char* unused;
  if (syscall_out == nullptr) syscall_out = &unused;
  *fd_out = -1;
  // No SO_REUSEPORT in Winsock (sock_bind says why): libuv's UV_ENOTSUP.
  if (reuse_port && local.family() != AF_UNIX) {
    *syscall_out = "setsockopt";
    return -ENOTSUP;
  }
  int fd = new_stream_socket(local.family());
  if (fd < 0) {
    *syscall_out = "socket";
    return fd;
  }
  if (local.family() == AF_INET6) {
    int err = set_int_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, ipv6_only ? 1 : 0);
    if (err != 0) {
      *syscall_out = "setsockopt";
      close_fd(fd);
      return err;
    }
  }
  SOCKET s = to_sock(fd);
  if (bind(s, local.sa(), local.len) != 0) {
    int err = wsa_err();
    *syscall_out = "bind";
    close_fd(fd);
    return err;
  }
  if (listen(s, backlog) != 0) {
    int err = wsa_err();
    *syscall_out = "listen";
    close_fd(fd);
    return err;
  }
  *fd_out = fd;
  return 0;
}

int sock_name(int fd, SockAddr* out) {
  *out = SockAddr{};
  out->len = sizeof(out->storage);
  if (getsockname(to_sock(fd), out->sa(), &out->len) != 0) return wsa_err();
  return 0;
}

int peer_name(int fd, SockAddr* out) {
  *out = SockAddr{};
  out->len = sizeof(out->storage);
  if (getpeername(to_sock(fd), out->sa(), &out->len) != 0) return wsa_err();
  return 0;
}

int set_nodelay(int fd, bool enable) {
  return set_int_opt(fd, IPPROTO_TCP, TCP_NODELAY, enable ? 1 : 0);
}

int set_keepalive(int fd, bool enable, int delay_secs) {
  int err = set_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE, enable ? 1 : 0);
  if (err != 0 || !enable || delay_secs <= 0) return err;
  if (set_int_opt(fd, IPPROTO_TCP, kTcpKeepIdle, delay_secs) == 0) return 0;
  // Before Windows 10 1709 the idle time is set with SIO_KEEPALIVE_VALS (in
  // ms, and the interval with it: 1 s, libuv's choice).
  tcp_keepalive ka{};
  ka.onoff = 1;
  ka.keepalivetime = static_cast<ULONG>(delay_secs) * 1000;
  ka.keepaliveinterval = 1000;
  DWORD bytes = 0;
  if (WSAIoctl(to_sock(fd), SIO_KEEPALIVE_VALS, &ka, sizeof(ka), nullptr, 0, &bytes, nullptr,
               nullptr) != 0)
    return wsa_err();
  return 0;
}

// The (level, option) of the TOS byte for fd's family, or -errno. Older
// mingw headers lack IPV6_TCLASS (Windows' ws2ipdef.h: 39).
#ifndef IPV6_TCLASS
#define IPV6_TCLASS 39
#endif
static int tos_option(int fd, int* level, int* name) {
  SockAddr addr;
  int err = sock_name(fd, &addr);
  if (err != 0) return err;
  if (addr.family() == AF_INET6) {
    *level = IPPROTO_IPV6;
    *name = IPV6_TCLASS;
  } else if (addr.family() == AF_INET) {
    *level = IPPROTO_IP;
    *name = IP_TOS;
  } else {
    return -ENOTSUP;
  }
  return 0;
}

// Windows often ignores or refuses these (QoS goes through qWAVE there);
// node:net treats the set as best effort on Windows and so do its callers.
int set_tos(int fd, int tos) {
  int level = 0, name = 0;
  int err = tos_option(fd, &level, &name);
  if (err != 0) return err;
  return set_int_opt(fd, level, name, tos);
}

int get_tos(int fd, int* tos_out) {
  int level = 0, name = 0;
  int err = tos_option(fd, &level, &name);
  if (err != 0) return err;
  int value = 0;
  int len = sizeof(value);
  if (getsockopt(to_sock(fd), level, name, reinterpret_cast<char*>(&value), &len) != 0) return wsa_err();
  *tos_out = value;
  return 0;
}

ssize_t try_writev(int fd, const iovec* iov, int iovcnt) {
  // A pipe's overlapped writes complete on its loop's port, which the loop
  // ties to it: every write of a pipe is made by its loop.
  if (pipe_find(fd) != nullptr) return 0;
  ssize_t n = sock_sendv(fd, iov, iovcnt);
  return n == -EAGAIN ? 0 : n;
}

ssize_t sock_read(int fd, char* buf, size_t len) {
  if (PipeObj* p = pipe_find(fd)) return pipe_read(p, buf, len);
  int want = len > INT_MAX ? INT_MAX : static_cast<int>(len);
  for (;;) {
    int n = recv(to_sock(fd), buf, want, 0);
    if (n >= 0) return n;
    int wsa = WSAGetLastError();
    if (wsa == WSAEINTR) continue;
    if (wsa == WSAEWOULDBLOCK) return -EAGAIN;
    return err_from_wsa(wsa);
  }
}

ssize_t sock_readv(int fd, const iovec* iov, int iovcnt) {
  if (PipeObj* p = pipe_find(fd)) return pipe_readv(p, iov, iovcnt);
  // WSABUF is {ULONG len; char* buf}: convert, clamping each length.
  WSABUF bufs[IOV_MAX];
  if (iovcnt > IOV_MAX) iovcnt = IOV_MAX;
  for (int i = 0; i < iovcnt; i++) {
    bufs[i].len = iov[i].iov_len > ULONG_MAX ? ULONG_MAX : static_cast<ULONG>(iov[i].iov_len);
    bufs[i].buf = static_cast<char*>(iov[i].iov_base);
  }
  for (;;) {
    DWORD got = 0;
    DWORD flags = 0;
    if (WSARecv(to_sock(fd), bufs, static_cast<DWORD>(iovcnt), &got, &flags, nullptr, nullptr) == 0) {
      return static_cast<ssize_t>(got);
    }
    int wsa = WSAGetLastError();
    if (wsa == WSAEINTR) continue;
    if (wsa == WSAEWOULDBLOCK) return -EAGAIN;
    return err_from_wsa(wsa);
  }
}

ssize_t sock_sendv(int fd, const iovec* iov, int iovcnt) {
  // WSABUF is {ULONG len; char* buf}: convert. A buffer longer than ULONG_MAX
  // is sent in part and nothing after it, so byte order is kept.
  if (PipeObj* p = pipe_find(fd)) return pipe_write(p, iov, iovcnt);
  WSABUF bufs[IOV_MAX];
  DWORD n = 0;
  if (iovcnt > IOV_MAX) iovcnt = IOV_MAX;
  for (int i = 0; i < iovcnt; i++) {
    bool clamp = iov[i].iov_len > ULONG_MAX;
    bufs[n].len = clamp ? ULONG_MAX : static_cast<ULONG>(iov[i].iov_len);
    bufs[n].buf = static_cast<char*>(iov[i].iov_base);
    n++;
    if (clamp) break;
  }
  for (;;) {
    DWORD sent = 0;
    if (WSASend(to_sock(fd), bufs, n, &sent, 0, nullptr, nullptr) == 0)
      return static_cast<ssize_t>(sent);
    int wsa = WSAGetLastError();
    if (wsa == WSAEINTR) continue;
    if (wsa == WSAEWOULDBLOCK) return -EAGAIN;
    return err_from_wsa(wsa);
  }
}

int sock_accept(int listen_fd) {
  if (PipeObj* p = pipe_find(listen_fd)) return pipe_accept(p);
  for (;;) {
    SOCKET s = accept(to_sock(listen_fd), nullptr, nullptr);
    if (s != INVALID_SOCKET) {
      // Accepted sockets inherit the listener's mode, but say so explicitly:
      // a listener adopted through listen_fd() may have come from elsewhere.
      SetHandleInformation(reinterpret_cast<HANDLE>(s), HANDLE_FLAG_INHERIT, 0);
      int err = set_nonblock(s);
      if (err != 0) {
        closesocket(s);
        return err;
      }
      return static_cast<int>(s);
    }
    int wsa = WSAGetLastError();
    if (wsa == WSAEINTR) continue;
    if (wsa == WSAEWOULDBLOCK) return -EAGAIN;
    // The peer reset while queued: Linux says ECONNABORTED, and the listener
    // skips it as it does there.
    if (wsa == WSAECONNRESET) return -ECONNABORTED;
    return err_from_wsa(wsa);
  }
}

int sock_error(int fd) {
  if (PipeObj* p = pipe_find(fd)) return pipe_error(p);
  int err = 0;
  int len = sizeof(err);
  if (getsockopt(to_sock(fd), SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&err), &len) != 0)
    return wsa_err();
  return err == 0 ? 0 : err_from_wsa(err);
}

int get_sock_opt(int fd, const char* name, int* value_out) {
  struct Opt { const char* name; int level; int opt; };
  static const Opt kOpts[] = {
    {"TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY},
    {"SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE},
    {"TCP_KEEPIDLE", IPPROTO_TCP, kTcpKeepIdle},
    {"TCP_KEEPINTVL", IPPROTO_TCP, kTcpKeepIntvl},
    {"TCP_KEEPCNT", IPPROTO_TCP, kTcpKeepCnt},
    {"SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR},
    {"IPV6_V6ONLY", IPPROTO_IPV6, IPV6_V6ONLY},
    {"IP_TOS", IPPROTO_IP, IP_TOS},
    {"IPV6_TCLASS", IPPROTO_IPV6, IPV6_TCLASS},
    {"SO_RCVBUF", SOL_SOCKET, SO_RCVBUF},
    {"SO_SNDBUF", SOL_SOCKET, SO_SNDBUF},
  };
  for (const Opt& o : kOpts) {
    if (std::strcmp(o.name, name) != 0) continue;
    // Some Winsock options (SO_KEEPALIVE, TCP_NODELAY) are BOOLs written as
    // one byte on old stacks: start from 0 so the int reads right either way.
    int value = 0;
    int len = sizeof(value);
    if (getsockopt(to_sock(fd), o.level, o.opt, reinterpret_cast<char*>(&value), &len) != 0)
      return wsa_err();
    *value_out = value;
    return 0;
  }
  return -ENOPROTOOPT;
}

int listen_fd(int fd, int backlog) {
  int err = set_nonblocking(fd);
  if (err != 0) return err;
  if (listen(to_sock(fd), backlog) != 0) return wsa_err();
  return 0;
}

void close_fd(int fd) {
  if (PipeObj* p = pipe_find(fd)) {
    pipe_close(p);
    return;
  }
  if (fd >= 0) (void)closesocket(to_sock(fd));
}

int open_spare_fd() {
  // Sockets are kernel handles bounded by memory, not slots in a per-process
  // table, so giving one up makes no room for accept(); libuv keeps no spare
  // on Windows either (the listener reports the error and stops, listener.cc).
  return -ENOTSUP;
}

int shutdown_write(int fd) {
  if (PipeObj* p = pipe_find(fd)) return pipe_shutdown(p);
  return shutdown(to_sock(fd), SD_SEND) == 0 ? 0 : wsa_err();
}

void stop_listening(int fd) {
  // Winsock has no way to stop a listening socket short of closing it (its
  // shutdown() says WSAENOTCONN); the loop closes it when kCmdClose arrives.
  (void)fd;
}

int set_linger_zero(int fd) {
  linger l{};
  l.l_onoff = 1;
  l.l_linger = 0;
  if (setsockopt(to_sock(fd), SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&l),
                 sizeof l) != 0)
    return wsa_err();
  return 0;
}

const char* guess_handle_type(int fd) {
  if (fd < 0) return "UNKNOWN";
  if (pipe_find(fd) != nullptr) return "PIPE";
  net_init();
  int type = 0;
  int len = sizeof type;
  if (getsockopt(to_sock(fd), SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &len) != 0)
    return "UNKNOWN";
  sockaddr_storage ss{};
  len = sizeof ss;
  if (getsockname(to_sock(fd), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "UNKNOWN";
  if (type == SOCK_STREAM) {
    if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) return "TCP";
    if (ss.ss_family == AF_UNIX) return "PIPE";
  } else if (type == SOCK_DGRAM) {
    if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) return "UDP";
  }
  return "UNKNOWN";
}

int fd_unconnected(int fd) {
  net_init();
  sockaddr_storage ss{};
  int len = sizeof ss;
  return getpeername(to_sock(fd), reinterpret_cast<sockaddr*>(&ss), &len) != 0
      && WSAGetLastError() == WSAENOTCONN ? 1 : 0;
}

int set_nonblocking(int fd) {
  if (pipe_find(fd) != nullptr) return 0;  // overlapped already
  net_init();
  return set_nonblock(to_sock(fd));
}

}  // namespace pn
