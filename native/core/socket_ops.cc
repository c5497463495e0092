// socket_ops.cc - the non-blocking one-shot socket calls (see socket_ops.h).
//
// Written for Linux; the #if branches below are for macOS and the BSDs
// (kqueue platforms), where some calls are spelled differently or missing.
// Those branches have been reviewed but NEVER compiled or run on macOS/BSD:
//   - no SOCK_NONBLOCK/SOCK_CLOEXEC (macOS): socket()/accept(), then fcntl;
//     accept4 exists on FreeBSD 10+, OpenBSD 5.7+, NetBSD 8+, not macOS;
//   - no MSG_NOSIGNAL (macOS): every socket we create, accept or adopt gets
//     SO_NOSIGPIPE instead (see set_nosigpipe);
//   - TCP_KEEPIDLE is TCP_KEEPALIVE on macOS; OpenBSD has neither;
//   - shutdown() does not stop a listening socket (see stop_listening).
// macOS names IPV6_TCLASS only under RFC 3542 (set_tos); before any header.
#if defined(__APPLE__) && !defined(__APPLE_USE_RFC_3542)
#define __APPLE_USE_RFC_3542 1
#endif
#include "socket_ops.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <initializer_list>

namespace pn {

namespace {

int set_int_opt(int fd, int level, int name, int value) {
  if (setsockopt(fd, level, name, &value, sizeof(value)) != 0) return -errno;
  return 0;
}

// macOS has no MSG_NOSIGNAL for sock_sendv, so a send to a reset peer would
// raise SIGPIPE: in a process whose handlers we do not own, and on the JS
// thread too (the try-write), which the loop's blocked signal mask does not
// cover. SO_NOSIGPIPE on the socket itself does it instead (as libuv does).
// Set on every socket created, accepted or adopted (set_nonblocking).
// Elsewhere (Linux, the BSDs: MSG_NOSIGNAL exists) a no-op.
int set_nosigpipe(int fd) {
#if defined(SO_NOSIGPIPE) && (defined(__APPLE__) || !defined(MSG_NOSIGNAL))
  return set_int_opt(fd, SOL_SOCKET, SO_NOSIGPIPE, 1);
#else
  (void)fd;
  return 0;
#endif
}

#ifndef SOCK_NONBLOCK
// For an fd from plain socket()/accept() (macOS): close-on-exec, non-blocking
// and SO_NOSIGPIPE, or -errno. The fd leaks into a child that another thread
// fork+execs between the two calls: a window the platform gives no way to
// close (libuv has the same one there).
int cloexec_nonblock_nosigpipe(int fd) {
  int fdflags = fcntl(fd, F_GETFD);
  if (fdflags < 0 || fcntl(fd, F_SETFD, fdflags | FD_CLOEXEC) != 0) return -errno;
  int flflags = fcntl(fd, F_GETFL);
  if (flflags < 0 || fcntl(fd, F_SETFL, flflags | O_NONBLOCK) != 0) return -errno;
  return set_nosigpipe(fd);
}
#endif

int new_stream_socket(int family) {
#ifdef SOCK_NONBLOCK
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int err = set_nosigpipe(fd);  // a no-op unless the platform lacks MSG_NOSIGNAL
#else  // macOS
  int fd = socket(family, SOCK_STREAM, 0);
  if (fd < 0) return -errno;
  int err = cloexec_nonblock_nosigpipe(fd);
#endif
  if (err != 0) {
    close(fd);
    return err;
  }
  return fd;
}

// libuv's UV_TCP_REUSEPORT: on the platforms where the kernel spreads the
// connections over every socket bound to the port with it (Linux 3.9+,
// DragonFly; FreeBSD 12+ names that SO_REUSEPORT_LB). Elsewhere (macOS: its
// SO_REUSEPORT only lets the last socket take the port) -ENOTSUP, as libuv.
int set_reuse_port(int fd) {
#if defined(SO_REUSEPORT_LB)
  return set_int_opt(fd, SOL_SOCKET, SO_REUSEPORT_LB, 1);
#elif defined(SO_REUSEPORT) && (defined(__linux__) || defined(__DragonFly__))
  return set_int_opt(fd, SOL_SOCKET, SO_REUSEPORT, 1);
#else
  (void)fd;
  return -ENOTSUP;
#endif
}

}  // namespace

int stream_connect_start(const SockAddr& remote, const SockAddr* local, int* fd_out) {
  *fd_out = -1;
  int fd = new_stream_socket(remote.family());
  if (fd < 0) return fd;

  int err = 0;
  if (local != nullptr) {
    // libuv's uv_tcp_bind sets SO_REUSEADDR too; Node's localAddress goes there.
    err = set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (err == 0 && bind(fd, local->sa(), local->len) != 0) err = -errno;
  }
  if (err == 0) err = connect_start(fd, remote);
  if (err != 0) {
    close_fd(fd);
    return err;
  }
  *fd_out = fd;
  return 0;
}

int connect_start(int fd, const SockAddr& remote) {
  // EINTR on a non-blocking connect means the attempt goes on in the
  // background, same as EINPROGRESS: the writable event tells the outcome.
  // Anything else (ECONNREFUSED straight away on loopback, EAFNOSUPPORT for
  // a socket bound to the other family) is the answer now.
  if (connect(fd, remote.sa(), remote.len) != 0 && errno != EINPROGRESS && errno != EINTR)
    return -errno;
  return 0;
}

int sock_bind(const SockAddr& local, bool ipv6_only, bool reuse_port, int* fd_out) {
  *fd_out = -1;
  int fd = new_stream_socket(local.family());
  if (fd < 0) return fd;
  int err = 0;
  if (local.family() != AF_UNIX) {
    err = set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (err == 0 && local.family() == AF_INET6)
      err = set_int_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, ipv6_only ? 1 : 0);
    if (err == 0 && reuse_port) err = set_reuse_port(fd);
  }
  if (err == 0 && bind(fd, local.sa(), local.len) != 0) err = -errno;
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

  int fd = new_stream_socket(local.family());
  if (fd < 0) {
    *syscall_out = "socket";
    return fd;
  }
  // SO_REUSEADDR as libuv sets it for TCP; Unix sockets have no use for it.
  int err = local.family() == AF_UNIX ? 0 : set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (err == 0 && local.family() == AF_INET6)
    err = set_int_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, ipv6_only ? 1 : 0);
  if (err == 0 && reuse_port && local.family() != AF_UNIX) err = set_reuse_port(fd);
  if (err != 0) {
    *syscall_out = "setsockopt";
    close_fd(fd);
    return err;
  }
  if (bind(fd, local.sa(), local.len) != 0) {
    err = -errno;
    *syscall_out = "bind";
    close_fd(fd);
    return err;
  }
  if (listen(fd, backlog) != 0) {
    err = -errno;
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
  if (getsockname(fd, out->sa(), &out->len) != 0) return -errno;
  return 0;
}

int peer_name(int fd, SockAddr* out) {
  *out = SockAddr{};
  out->len = sizeof(out->storage);
  if (getpeername(fd, out->sa(), &out->len) != 0) return -errno;
  return 0;
}

int set_nodelay(int fd, bool enable) {
  return set_int_opt(fd, IPPROTO_TCP, TCP_NODELAY, enable ? 1 : 0);
}

int set_keepalive(int fd, bool enable, int delay_secs) {
  int err = set_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE, enable ? 1 : 0);
  if (err != 0 || !enable || delay_secs <= 0) return err;
#if defined(TCP_KEEPIDLE)
  return set_int_opt(fd, IPPROTO_TCP, TCP_KEEPIDLE, delay_secs);
#elif defined(TCP_KEEPALIVE)  // macOS: the same knob under another name
  return set_int_opt(fd, IPPROTO_TCP, TCP_KEEPALIVE, delay_secs);
#else
  // OpenBSD: no per-socket idle time (only the system-wide sysctl); libuv's
  // uv_tcp_keepalive ignores the delay there too.
  return 0;
#endif
}

// The (level, option) of the TOS byte for fd's family, or -errno.
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
    return -ENOTSUP;  // a Unix socket has no IP header
  }
  return 0;
}

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
  socklen_t len = sizeof(value);
  if (getsockopt(fd, level, name, &value, &len) != 0) return -errno;
  *tos_out = value;
  return 0;
}

ssize_t try_writev(int fd, const iovec* iov, int iovcnt) {
  ssize_t n = sock_sendv(fd, iov, iovcnt);
  return n == -EAGAIN ? 0 : n;
}

ssize_t sock_read(int fd, char* buf, size_t len) {
  for (;;) {
    ssize_t n = read(fd, buf, len);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return -EAGAIN;
    return -errno;
  }
}

ssize_t sock_readv(int fd, const iovec* iov, int iovcnt) {
  for (;;) {
    ssize_t n = readv(fd, iov, iovcnt > IOV_MAX ? IOV_MAX : iovcnt);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return -EAGAIN;
    return -errno;
  }
}

static ssize_t fd_writev(int fd, const iovec* iov, int iovcnt) {
  for (;;) {
    ssize_t n = writev(fd, iov, iovcnt);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return -EAGAIN;
    return -errno;
  }
}

ssize_t sock_sendv(int fd, const iovec* iov, int iovcnt) {
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = static_cast<size_t>(iovcnt > IOV_MAX ? IOV_MAX : iovcnt);
#ifdef MSG_NOSIGNAL
  const int flags = MSG_NOSIGNAL;
#else
  // macOS: no such flag; the SO_NOSIGPIPE every socket of ours carries (see
  // set_nosigpipe) turns a closed peer into EPIPE the same way.
  const int flags = 0;
#endif
  for (;;) {
    // sendmsg rather than writev: MSG_NOSIGNAL turns a closed peer into EPIPE
    // without raising SIGPIPE in a process we do not own the handlers of.
    ssize_t n = sendmsg(fd, &msg, flags);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    // new Socket({ fd }) may wrap a FIFO (a child's stdio), where only
    // writev works; Node ignores SIGPIPE, as libuv's pipes rely on.
    if (errno == ENOTSOCK) return fd_writev(fd, msg.msg_iov, static_cast<int>(msg.msg_iovlen));
    if (errno == EAGAIN || errno == EWOULDBLOCK) return -EAGAIN;
    return -errno;
  }
}

int sock_accept(int listen_fd) {
  for (;;) {
#ifdef SOCK_NONBLOCK
    // Linux; also FreeBSD 10+, OpenBSD 5.7+, NetBSD 8+.
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      int err = set_nosigpipe(fd);  // a no-op unless the platform lacks MSG_NOSIGNAL
      if (err == 0) return fd;
      close(fd);
      return err;
    }
#else  // macOS: no accept4 (BSD accept copies the listener's O_NONBLOCK; set anyway)
    int fd = accept(listen_fd, nullptr, nullptr);
    if (fd >= 0) {
      int err = cloexec_nonblock_nosigpipe(fd);
      if (err == 0) return fd;
      close(fd);
      return err;
    }
#endif
    if (errno != EINTR) return -errno;
  }
}

int sock_error(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return -errno;
  return -err;
}

int get_sock_opt(int fd, const char* name, int* value_out) {
  struct Opt { const char* name; int level; int opt; };
  static const Opt kOpts[] = {
    {"TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY},
    {"SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE},
#if defined(TCP_KEEPIDLE)
    {"TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE},
#elif defined(TCP_KEEPALIVE)
    {"TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPALIVE},  // macOS: what set_keepalive sets
#endif  // OpenBSD: neither, so -ENOPROTOOPT
#ifdef TCP_KEEPINTVL
    {"TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL},
#endif
#ifdef TCP_KEEPCNT
    {"TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT},
#endif
    {"SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR},
#if defined(SO_REUSEPORT_LB)
    {"SO_REUSEPORT", SOL_SOCKET, SO_REUSEPORT_LB},  // what set_reuse_port sets there
#elif defined(SO_REUSEPORT)
    {"SO_REUSEPORT", SOL_SOCKET, SO_REUSEPORT},
#endif
    {"IPV6_V6ONLY", IPPROTO_IPV6, IPV6_V6ONLY},
    {"IP_TOS", IPPROTO_IP, IP_TOS},
    {"IPV6_TCLASS", IPPROTO_IPV6, IPV6_TCLASS},
    {"SO_RCVBUF", SOL_SOCKET, SO_RCVBUF},
    {"SO_SNDBUF", SOL_SOCKET, SO_SNDBUF},
  };
  for (const Opt& o : kOpts) {
    if (std::strcmp(o.name, name) != 0) continue;
    int value = 0;
    socklen_t len = sizeof(value);
    if (getsockopt(fd, o.level, o.opt, &value, &len) != 0) return -errno;
    *value_out = value;
    return 0;
  }
  return -ENOPROTOOPT;
}

int listen_fd(int fd, int backlog) {
  int err = set_nonblocking(fd);
  if (err != 0) return err;
  if (listen(fd, backlog) != 0) return -errno;
  return 0;
}

void close_fd(int fd) {
  if (fd >= 0) (void)close(fd);
}

int open_spare_fd() {
  // /dev/null, or "/" where /dev is not mounted (a bare chroot): any path
  // that opens without side effects will do, the fd only holds a slot.
  for (const char* path : {"/dev/null", "/"}) {
    int fd;
    do {
      fd = open(path, O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd >= 0) return fd;
    if (errno == EMFILE || errno == ENFILE) return -errno;  // the other path cannot help
  }
  return -errno;
}

int shutdown_write(int fd) {
  return ::shutdown(fd, SHUT_WR) == 0 ? 0 : -errno;
}

void stop_listening(int fd) {
  // Linux: refuses new connections at once. On macOS and the BSDs this
  // shutdown() fails with ENOTCONN and stops nothing (ignored, as before), so
  // there it is Windows' case (socket_ops_win.cc): the port goes on queueing
  // connections in the backlog until the loop closes the fd on the kCmdClose
  // posted right after this call (one command hop); a connection the loop
  // accepts meanwhile reaches JS as for a closing listener, which closes it
  // (the path the Windows tests under wine exercise); and a connect racing
  // server.close() completes its handshake and is then reset by that close,
  // where Linux refuses it. No small fix removes that: the JS thread may not
  // close the fd itself (the loop still owns it: poller registration, an
  // accept in progress, the fd number reused under it). At most the loop
  // could run a listener's kCmdClose ahead of the other commands queued with
  // it (not done): that only shortens the window.
  ::shutdown(fd, SHUT_RDWR);
}

int set_linger_zero(int fd) {
  linger l{};
  l.l_onoff = 1;
  l.l_linger = 0;
  return setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) == 0 ? 0 : -errno;
}

const char* guess_handle_type(int fd) {
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) return "UNKNOWN";
  if (S_ISREG(st.st_mode)) return "FILE";
  if (S_ISCHR(st.st_mode)) return isatty(fd) ? "TTY" : "FILE";
  if (S_ISFIFO(st.st_mode)) return "PIPE";
  if (!S_ISSOCK(st.st_mode)) return "UNKNOWN";
  int type = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return "UNKNOWN";
  sockaddr_storage ss{};
  len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "UNKNOWN";
  if (type == SOCK_STREAM) {
    if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) return "TCP";
    if (ss.ss_family == AF_UNIX) return "PIPE";
  } else if (type == SOCK_DGRAM) {
    if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) return "UDP";
  }
  return "UNKNOWN";
}

int fd_unconnected(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  return getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0 && errno == ENOTCONN ? 1 : 0;
}

int set_nonblocking(int fd) {
  // Adopted fds (a user's socket, a listener) come through here: give them
  // SO_NOSIGPIPE where that replaces MSG_NOSIGNAL (macOS). Best effort: the
  // fd may be something other than a socket, which has no use for it.
  (void)set_nosigpipe(fd);
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return -errno;
  if (flags & O_NONBLOCK) return 0;
  return fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 ? 0 : -errno;
}

}  // namespace pn
