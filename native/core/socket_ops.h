// socket_ops.h - one-shot, non-blocking operations on a socket fd.
//
// None of these can block, so the bridge may call them from the JS thread (the
// same way libuv runs uv_tcp_connect/bind/listen on Node's main thread):
// creating and connecting a socket, bind+listen, names, options and the
// try-write fast path. Everything that waits for readiness lives in a Loop.
// All return 0 (or a byte count) on success and a negative errno on failure.
#pragma once

#include "address.h"
#include "platform.h"

namespace pn {

// These work for TCP (AF_INET/AF_INET6) and Unix stream sockets (AF_UNIX)
// alike; the socket's family follows the address given.

// Creates a non-blocking, close-on-exec stream socket for `remote`'s family,
// optionally binds it to `local` (may be null), and starts a connect().
// On success *fd_out is the socket: the connect is in progress or done, and the
// owning Loop learns which when the socket turns writable (adopt it with
// Loop::post(CmdAdoptConnecting)). On failure nothing is left open.
int stream_connect_start(const SockAddr& remote, const SockAddr* local, int* fd_out);

// Starts a connect() to `remote` on `fd`, a socket the caller created and
// usually bound already (net.BoundSocket adopted by a Socket). 0 when the
// connect is in progress or done (adopt it as above), or -errno. The fd stays
// the caller's either way: it is not closed here.
int connect_start(int fd, const SockAddr& remote);

// Creates a non-blocking, close-on-exec stream socket for `local`'s family and
// binds it without listening or connecting (net.BoundSocket). For TCP as
// libuv's uv_tcp_bind does it: SO_REUSEADDR, IPV6_V6ONLY as asked (IPv6 only),
// SO_REUSEPORT when asked (-ENOTSUP where the platform has no such option).
// For a Unix path a plain bind, which creates the socket file. On success
// *fd_out is the socket; on failure nothing is left open.
int sock_bind(const SockAddr& local, bool ipv6_only, bool reuse_port, int* fd_out);

// Creates a non-blocking TCP listening socket: SO_REUSEADDR, IPV6_V6ONLY as
// asked (ignored for IPv4), SO_REUSEPORT when asked (as sock_bind; ignored for
// a Unix path), bind, listen(backlog). On failure nothing is left open and
// *syscall_out names the call that failed ("bind" or "listen"; Node reports
// both as 'listen' with the libuv quirk that bind errors surface there).
int stream_listen(const SockAddr& local, int backlog, bool ipv6_only, bool reuse_port, int* fd_out,
               const char** syscall_out);

int sock_name(int fd, SockAddr* out);
int peer_name(int fd, SockAddr* out);

int set_nodelay(int fd, bool enable);
// `delay_secs` <= 0 keeps the kernel's idle time.
int set_keepalive(int fd, bool enable, int delay_secs);

// The IP type-of-service byte (socket.setTypeOfService): IP_TOS on an IPv4
// socket, IPV6_TCLASS on an IPv6 one (v4-mapped peers included), chosen by the
// socket's own family as libuv does; -EBADF/-ENOTSOCK from getsockname
// otherwise. get_tos stores the kernel's value (which may drop the ECN bits).
int set_tos(int fd, int tos);
int get_tos(int fd, int* tos_out);

// One writev() that never blocks: bytes written (maybe fewer than asked, maybe
// 0 when the kernel buffer is full) or a negative errno (never -EAGAIN).
// Uses MSG_NOSIGNAL semantics so a closed peer gives -EPIPE, not SIGPIPE.
ssize_t try_writev(int fd, const iovec* iov, int iovcnt);

// --- Loop-thread I/O: the raw calls stream.cc and listener.cc make, here so that
// the state machines stay the same on every platform (socket_ops.cc is POSIX,
// socket_ops_win.cc Winsock). EINTR is retried inside; nothing blocks.

// One read: bytes read, 0 at EOF, -EAGAIN when nothing is there, or -errno.
ssize_t sock_read(int fd, char* buf, size_t len);

// One scattering read into `iovcnt` buffers in order (at most IOV_MAX), with
// sock_read's results.
ssize_t sock_readv(int fd, const iovec* iov, int iovcnt);

// One gathering send (at most IOV_MAX buffers), MSG_NOSIGNAL semantics: bytes
// sent, -EAGAIN when the kernel buffer is full, or -errno (-EPIPE, -ECONNRESET...).
ssize_t sock_sendv(int fd, const iovec* iov, int iovcnt);

// accept() of one pending connection as a non-blocking, close-on-exec socket:
// the new fd, or -errno (-EAGAIN when the queue is empty).
int sock_accept(int listen_fd);

// The socket's pending error (SO_ERROR, which it also clears) as -errno, or 0.
int sock_error(int fd);

// shutdown(SHUT_WR) now: the caller knows nothing of this socket is queued.
int shutdown_write(int fd);

// Stops a listening socket at once (shutdown(SHUT_RDWR): Linux refuses new
// connections and wakes accept() with EINVAL) while the fd stays valid for
// the loop that owns it to close. macOS/BSD and Windows cannot: there it does
// nothing and the loop's close stops it (socket_ops.cc says what that means).
void stop_listening(int fd);

// SO_LINGER {on, 0}: the next close() sends RST instead of FIN (resetAndDestroy).
int set_linger_zero(int fd);

// What kind of descriptor `fd` is, in libuv's uv_guess_handle terms:
// "TCP", "PIPE" (Unix stream socket or FIFO), "UDP", "TTY", "FILE" or "UNKNOWN".
const char* guess_handle_type(int fd);

// 1 for a socket that has no peer yet (getpeername says ENOTCONN): a caller's
// fd for new Socket({ fd }) that connect() will connect; 0 otherwise.
int fd_unconnected(int fd);

// Stream sockets only: sets O_NONBLOCK so a loop may own the fd. 0 or -errno.
int set_nonblocking(int fd);

// Reads an int socket option by portable name ("TCP_NODELAY", "SO_KEEPALIVE",
// "TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT", "SO_REUSEADDR",
// "SO_REUSEPORT", "IPV6_V6ONLY", "SO_RCVBUF", "SO_SNDBUF"): 0 and *value_out, or -errno
// (-ENOPROTOOPT for a name this platform lacks). For tests that check an
// option really reached the kernel.
int get_sock_opt(int fd, const char* name, int* value_out);

// listen() on a caller's already-bound stream socket (server.listen({ fd })):
// makes it non-blocking and starts listening with `backlog`. 0 or -errno.
int listen_fd(int fd, int backlog);

// close() that retries nothing and ignores EINTR (Linux closes the fd anyway).
void close_fd(int fd);

// A cheap close-on-exec descriptor that stands for nothing (FdReserve's
// spare): the new fd, or -errno. Windows: -ENOTSUP, as it has no
// per-process descriptor table that one spare could make room in.
int open_spare_fd();

}  // namespace pn
