// handles.cc - the functions JS calls. Thin: convert arguments, call the core,
// return 0 / a negative errno (never throw for a system error; JS builds
// Node-shaped errors). Only a call with arguments of the wrong JS type throws,
// which would be a bug in lib/, not in user code: lib/ validates first.
#include "handles.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "address.h"
#include "bridge.h"
#include "errors.h"
#include "host_fd_type.h"
#include "listener.h"
#include "pipe_win.h"
#include "socket_ops.h"
#include "views.h"
#include "write_offload.h"

namespace pn {
namespace {

Instance* instance(const Napi::CallbackInfo& info) {
  return info.Env().GetInstanceData<Instance>();
}

uint32_t u32(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Number>().Uint32Value();
}
int32_t i32(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Number>().Int32Value();
}

Napi::Value status(const Napi::CallbackInfo& info, int err) {
  return Napi::Number::New(info.Env(), err);
}

// Records the fd for (slot, gen) on `loop` and hands it to the loop.
void adopt(Instance* inst, uint32_t slot, uint32_t gen, uint32_t loop, int fd, int32_t cmd_type,
           bool flag, int spare_fd = -1) {
  SlotInfo& s = inst->claim(slot);
  s = SlotInfo{};
  s.fd = fd;
  s.gen = gen;
  s.loop = loop;
  Command cmd;
  cmd.type = cmd_type;
  cmd.slot = slot;
  cmd.gen = gen;
  cmd.fd = fd;
  cmd.flag = flag;
  cmd.spare_fd = spare_fd;
  inst->pool.loop(static_cast<int>(loop)).post(std::move(cmd));
}

// A listening fd for (slot, gen), with a spare descriptor taken now, on the
// JS thread: the loop adopts both later, and the spare must already be there
// if the listen callback fills the descriptor table (fd_reserve.h). Where
// there is no spare to take, or none can be had, the loop goes without.
void adopt_listener(Instance* inst, uint32_t slot, uint32_t gen, uint32_t loop, int fd) {
  int spare = kAcceptSheds ? open_spare_fd() : -1;
  adopt(inst, slot, gen, loop, fd, kCmdAdoptListener, false, spare < 0 ? -1 : spare);
  inst->slots[slot].listener = true;
}

void post_simple(Instance* inst, const SlotInfo& s, uint32_t slot, int32_t type) {
  post_bare(inst->pool.loop(static_cast<int>(s.loop)), type, slot, s.gen);
}

// A burst's write is copied when it is at most kCopyMax bytes, while its
// socket has at most kCopyCap copied bytes not yet written: past that, a
// write waits as one the kernel could not take would (node:net's
// backpressure), and memory stays bounded.
constexpr size_t kCopyMax = 16 * 1024;
constexpr uint32_t kCopyCap = 64 * 1024;

// An optional boolean at info[i] (absent = false).
bool flag_at(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].ToBoolean().Value();
}

// Optional (ip, port) pair at info[i], info[i+1]; ip null/undefined = none.
int parse_local(const Napi::CallbackInfo& info, size_t i, SockAddr* out, bool* present) {
  *present = false;
  if (info.Length() <= i || !info[i].IsString()) return 0;
  *present = true;
  std::string ip = info[i].As<Napi::String>().Utf8Value();
  int port = info.Length() > i + 1 && info[i + 1].IsNumber() ? i32(info, i + 1) : 0;
  return addr_from_ip(ip.c_str(), port, out);
}

// connect(slot, gen, loop, ip, port, localIp?, localPort?) -> 0 | -errno
Napi::Value Connect(const Napi::CallbackInfo& info) {
  Instance* inst = instance(info);
  uint32_t slot = u32(info, 0), gen = u32(info, 1), loop = u32(info, 2);
  std::string ip = info[3].As<Napi::String>().Utf8Value();
  SockAddr remote, local;
  int err = addr_from_ip(ip.c_str(), i32(info, 4), &remote);
  if (err) return status(info, err);
  bool has_local = false;
  err = parse_local(info, 5, &local, &has_local);
  if (err) return status(info, err);
  int fd = -1;
  err = stream_connect_start(remote, has_local ? &local : nullptr, &fd);
  if (err) return status(info, err);
  adopt(inst, slot, gen, loop, fd, kCmdAdoptConnecting, false);
  return status(info, 0);
}

// listen(slot, gen, loop, ip, port, backlog, ipv6Only, reusePort) -> 0 | -errno
Napi::Value Listen(const Napi::CallbackInfo& info) {
  Instance* inst = instance(info);
  uint32_t slot = u32(info, 0), gen = u32(info, 1), loop = u32(info, 2);
  std::string ip = info[3].As<Napi::String>().Utf8Value();
  SockAddr local;
  int err = addr_from_ip(ip.c_str(), i32(info, 4), &local);
  if (err) return status(info, err);
  int fd = -1;
  const char* syscall = nullptr;
  err = stream_listen(local, i32(info, 5), flag_at(info, 6), flag_at(info, 7), &fd, &syscall);
  if (err) return status(info, err);
  adopt_listener(inst, slot, gen, loop, fd);
  return status(info, 0);
}

// A Unix socket path from JS: a string (maybe starting with NUL for a Linux
// abstract name), taken byte for byte; one longer than sun_path is refused
// unless `truncate` (the running Node's libuv truncates it).
int path_addr(const Napi::Value& v, SockAddr* out, bool truncate = false) {
  std::string path = v.As<Napi::String>().Utf8Value();
  return addr_from_path(path.data(), path.size(), out, truncate ? PathFit::kTruncate : PathFit::kRefuse);
}

// connectPath(slot, gen, loop, path, truncate?) -> 0 | -errno
// On Windows a path names a named pipe, as in libuv (pipe_win.h).
Napi::Value ConnectPath(const Napi::CallbackInfo& info) {
  Instance* inst = instance(info);
#ifdef _WIN32
  {
    std::string name = info[3].As<Napi::String>().Utf8Value();
    int fd = -1;
    int err = pipe_connect_start(name.data(), name.size(), &fd);
    if (err) return status(info, err);
    adopt(inst, u32(info, 0), u32(info, 1), u32(info, 2), fd, kCmdAdoptConnecting, false);
    return status(info, 0);
  }
#endif
  SockAddr remote;
  int err = path_addr(info[3], &remote, flag_at(info, 4));
  if (err) return status(info, err);
  int fd = -1;
  err = stream_connect_start(remote, nullptr, &fd);
  if (err) return status(info, err);
  adopt(inst, u32(info, 0), u32(info, 1), u32(info, 2), fd, kCmdAdoptConnecting, false);
  return status(info, 0);
}

// listenPath(slot, gen, loop, path, backlog, truncate?) -> 0 | -errno
Napi::Value ListenPath(const Napi::CallbackInfo& info) {
  Instance* inst = instance(info);
  uint32_t slot = u32(info, 0);
#ifdef _WIN32
  {
    std::string name = info[3].As<Napi::String>().Utf8Value();
    int fd = -1;
    int err = pipe_listen(name.data(), name.size(), &fd);
    if (err) return status(info, err);
    adopt_listener(inst, slot, u32(info, 1), u32(info, 2), fd);
    return status(info, 0);
  }
#endif
  SockAddr local;
  int err = path_addr(info[3], &local, flag_at(info, 5));
  if (err) return status(info, err);
  int fd = -1;
  const char* syscall = nullptr;
  err = stream_listen(local, i32(info, 4), false, false, &fd, &syscall);
  if (err) return status(info, err);
  adopt_listener(inst, slot, u32(info, 1), u32(info, 2), fd);
  return status(info, 0);
}

// adopt(slot, gen, loop, fd, startReading): an fd from a kEvConnection.
Napi::Value Adopt(const Napi::CallbackInfo& info) {
  Instance* inst = instance(info);
  adopt(inst, u32(info, 0), u32(info, 1), u32(info, 2), i32(info, 3), kCmdAdoptConnected,
        info[4].ToBoolean().Value());
  return info.Env().Undefined();
}

// closeFd(fd): an accepted fd JS decided not to keep.
Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  close_fd(i32(info, 0));
  return info.Env().Undefined();
}

Napi::Value ReadStart(const Napi::CallbackInfo& info) {
  Instance* inst = instance(info);
  uint32_t slot = u32(info, 0);
  if (SlotInfo* s = inst->live(slot, u32(info, 1))) post_simple(inst, *s, slot, kCmdReadStart);
  return info.Env().Undefined();
}

Napi::Value ReadStop(const Napi::CallbackInfo& info) {
  Instance* inst = instance(info);
  uint32_t slot = u32(info, 0);
  if (SlotInfo* s = inst->live(slot, u32(info, 1))) post_simple(inst, *s, slot, kCmdReadStop);
  return info.Env().Undefined();
}

// writev(slot, gen, chunks: ArrayBufferView[]) -> 0 written now (synchronous
// completion) | 1 queued (a kEvWriteDone follows; JS keeps `chunks` alive
// until then) | kWriteCopied (handles.h) | -errno.
//
// libuv's try-write idea: when nothing of this socket is queued on its loop,
// write straight from the JS thread (one non-blocking sendmsg) and queue only
// what the kernel did not take. Safe because the loop's queue is empty and
// the fd stays open until JS itself asks to close it.
Napi::Value Writev(const Napi::CallbackInfo& info) {
  Instance* inst = instance(info);
  uint32_t slot = u32(info, 0);
  SlotInfo* s = inst->live(slot, u32(info, 1));
  if (s == nullptr) return status(info, -EBADF);
  Napi::Array chunks = info[2].As<Napi::Array>();
  const uint32_t n = chunks.Length();

  constexpr uint32_t kStackIov = 64;
  iovec stack_iov[kStackIov];
  IovArray heap_iov(n <= kStackIov ? nullptr : new iovec[n]);
  iovec* iov = n <= kStackIov ? stack_iov : heap_iov.get();
  size_t total = 0;
  for (uint32_t i = 0; i < n; i++) {
    view_bytes(info.Env(), chunks.Get(i), &iov[i]);  // lib/ passes only views
    total += iov[i].iov_len;
  }

  // A burst (WriteBurst) goes to a loop whole, its bytes copied here so the
  // write is complete for JS at once, as one the kernel took at once (so
  // 'drain', write() results and what destroy() leaves behind stay node:net's).
  // Writes behind copied ones ride along while few bytes are held so. Else:
  // with writes in flight, queue behind them; with none, write now.
  bool starts = false;
  const bool burst = inst->delivering == 0 && inst->write_burst.offload(slot, &starts);
  // Completions of earlier copied writes wait quietly in the outboxes (they
  // ring nothing): account for them once per burst, so writes_in_flight says
  // what is really still in flight. (During a delivery they were just taken
  // with everything else, and no clock is read on that hot path.)
  if (starts) bridge_take_quiet(inst);
  if (s->held_in_flight == 0 && total > 0 && total <= kCopyMax &&
      (s->writes_in_flight > 0 ? s->copied_in_flight + total <= kCopyCap
                               : burst && route_burst(inst, slot, *s, kCmdAdoptWriter))) {
    Command cmd;
    cmd.type = kCmdWrite;
    cmd.slot = slot;
    cmd.gen = s->gen;
    cmd.iov = iov_copy(iov, n, total);
    cmd.iovcnt = 1;
    cmd.copied = static_cast<uint32_t>(total);
    s->writes_in_flight++;
    s->copied_in_flight += static_cast<uint32_t>(total);
    inst->writes_offloaded++;
    write_loop(inst, *s).post(std::move(cmd));
    return status(info, kWriteCopied);
  }
  size_t done = 0;
  if (s->writes_in_flight == 0) {
    inst->writes_direct++;
    s->writes_at_writer = false;  // a remainder is queued on the socket's own loop
    ssize_t w = try_writev(s->fd, iov, static_cast<int>(n));
    if (w < 0) return status(info, static_cast<int>(w));
    done = static_cast<size_t>(w);
    if (done == total) return status(info, 0);
  }

  // Queue the remainder: skip what was written, hand a fresh array to the loop.
  uint32_t first = 0;
  while (first < n && done >= iov[first].iov_len) done -= iov[first++].iov_len;
  uint32_t rest = n - first;
  IovArray q(new iovec[rest]);
  for (uint32_t i = 0; i < rest; i++) q[i] = iov[first + i];
  if (rest > 0) {
    q[0].iov_base = static_cast<char*>(q[0].iov_base) + done;
    q[0].iov_len -= done;
  }

  Command cmd;
  cmd.type = kCmdWrite;
  cmd.slot = slot;
  cmd.gen = s->gen;
  cmd.iov = std::move(q);
  cmd.iovcnt = rest;
  s->writes_in_flight++;
  s->held_in_flight++;
  write_loop(inst, *s).post(std::move(cmd));
  return status(info, 1);
}

// shutdown(slot, gen) -> 1 FIN sent now | 0 queued behind writes | -errno;
// either way a kEvShutdownDone follows.
//
// With no write queued on the loop, the FIN is sent right here and the
// completion is delivered through the doorbell: libuv calls back such a
// shutdown in the same loop iteration, after the current callback's ticks
// and before setImmediate callbacks, which a hop to the loop thread and back
// could not promise.
Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  Instance* inst = instance(info);
  uint32_t slot = u32(info, 0);
  SlotInfo* s = inst->live(slot, u32(info, 1));
  if (s == nullptr) return status(info, -ENOTCONN);
  if (s->writes_in_flight == 0) {
    // A failed shutdown(2) (ENOTCONN after a reset, ENOTSOCK for a FIFO)
    // is told through the completion, as libuv's: node:net ignores it there.
    Event ev;
    ev.type = kEvShutdownDone;
    ev.slot = slot;
    ev.gen = s->gen;
    ev.status = shutdown_write(s->fd);
    bridge_post_local(inst, ev);
    return status(info, 1);
  }
  post_bare(write_loop(inst, *s), kCmdShutdown, slot, s->gen);
  return status(info, 0);
}

// reset(slot, gen): close with RST instead of FIN; a kEvClosed follows.
Napi::Value Reset(const Napi::CallbackInfo& info) {
  Instance* inst = instance(info);
  uint32_t slot = u32(info, 0);
  SlotInfo* s = inst->live(slot, u32(info, 1));
  if (s == nullptr) return status(info, -EBADF);
  int err = set_linger_zero(s->fd);
  s->closing = true;
  post_close(inst, *s, slot);
  return status(info, err);
}

// open(slot, gen, loop, fd) -> 0 | -errno: a caller's connected stream socket.
Napi::Value Open(const Napi::CallbackInfo& info) {
  Instance* inst = instance(info);
  int fd = i32(info, 3);
  int err = set_nonblocking(fd);
  if (err) return status(info, err);
  adopt(inst, u32(info, 0), u32(info, 1), u32(info, 2), fd, kCmdAdoptConnected, false);
  return status(info, 0);
}

Napi::Value FdUnconnected(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), fd_unconnected(i32(info, 0)) == 1);
}

Napi::Value GuessHandleType(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), guess_handle_type(i32(info, 0)));
}

Napi::Value HostFdType(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), host_fd_type(i32(info, 0)));
}

// close(slot, gen): a kEvClosed follows.
Napi::Value Close(const Napi::CallbackInfo& info) {
  Instance* inst = instance(info);
  uint32_t slot = u32(info, 0);
  SlotInfo* s = inst->live(slot, u32(info, 1));
  if (s == nullptr) return status(info, -EBADF);
  s->closing = true;
  // uv_close closes a listening fd at once: the port refuses connections as
  // soon as server.close() returns. The fd itself belongs to the loop until
  // it processes the close, but shutdown() stops the listening right here.
  if (s->listener) stop_listening(s->fd);
  post_close(inst, *s, slot);
  return status(info, 0);
}

// [ip, port, family] of an IP address, or a negative errno.
Napi::Value ip_triple(const Napi::CallbackInfo& info, const SockAddr& addr) {
  char ip[kMaxIpLen];
  int port = 0, family = 0;
  int err = addr_to_ip(addr.sa(), ip, sizeof ip, &port, &family);
  if (err) return status(info, err);
  Napi::Array out = Napi::Array::New(info.Env(), 3);
  out.Set(0u, Napi::String::New(info.Env(), ip));
  out.Set(1u, Napi::Number::New(info.Env(), port));
  out.Set(2u, Napi::Number::New(info.Env(), family));
  return out;
}

// Returns [ip, port, family] or a negative errno.
Napi::Value name_of(const Napi::CallbackInfo& info, bool peer) {
  Instance* inst = instance(info);
  SlotInfo* s = inst->live(u32(info, 0), u32(info, 1));
  if (s == nullptr) return status(info, -EBADF);
  SockAddr addr;
  int err = peer ? peer_name(s->fd, &addr) : sock_name(s->fd, &addr);
  if (err) return status(info, err);
  return ip_triple(info, addr);
}
Napi::Value SockName(const Napi::CallbackInfo& info) { return name_of(info, false); }
Napi::Value PeerName(const Napi::CallbackInfo& info) { return name_of(info, true); }

// fd(slot, gen): the handle's descriptor (Node's handle.fd), -1 once gone.
Napi::Value Fd(const Napi::CallbackInfo& info) {
  SlotInfo* s = instance(info)->live(u32(info, 0), u32(info, 1));
  return Napi::Number::New(info.Env(), s == nullptr ? -1 : s->fd);
}

Napi::Value SetNoDelay(const Napi::CallbackInfo& info) {
  SlotInfo* s = instance(info)->live(u32(info, 0), u32(info, 1));
  if (s == nullptr) return status(info, -EBADF);
  return status(info, set_nodelay(s->fd, info[2].ToBoolean().Value()));
}

Napi::Value SetKeepAlive(const Napi::CallbackInfo& info) {
  SlotInfo* s = instance(info)->live(u32(info, 0), u32(info, 1));
  if (s == nullptr) return status(info, -EBADF);
  return status(info, set_keepalive(s->fd, info[2].ToBoolean().Value(), i32(info, 3)));
}

Napi::Value SetTypeOfService(const Napi::CallbackInfo& info) {
  SlotInfo* s = instance(info)->live(u32(info, 0), u32(info, 1));
  if (s == nullptr) return status(info, -EBADF);
  return status(info, set_tos(s->fd, i32(info, 2)));
}

// getTypeOfService(slot, gen) -> the byte | -errno.
Napi::Value GetTypeOfService(const Napi::CallbackInfo& info) {
  SlotInfo* s = instance(info)->live(u32(info, 0), u32(info, 1));
  if (s == nullptr) return status(info, -EBADF);
  int tos = 0;
  int err = get_tos(s->fd, &tos);
  return status(info, err != 0 ? err : tos);
}

// getsockopt(slot, gen, name) -> value | -errno. Test-only (lib/internal.ts):
// lets tests read back what setNoDelay/setKeepAlive and options did.
Napi::Value GetSockOpt(const Napi::CallbackInfo& info) {
  SlotInfo* s = instance(info)->live(u32(info, 0), u32(info, 1));
  if (s == nullptr) return status(info, -EBADF);
  std::string name = info[2].As<Napi::String>().Utf8Value();
  int value = 0;
  int err = get_sock_opt(s->fd, name.c_str(), &value);
  return status(info, err != 0 ? err : value);
}

// listenFd(slot, gen, loop, fd, backlog) -> 0 | -errno: server.listen({ fd }).
// The handle owns the fd from here on (closed with the server, as in Node).
Napi::Value ListenFd(const Napi::CallbackInfo& info) {
  Instance* inst = instance(info);
  uint32_t slot = u32(info, 0);
  int fd = i32(info, 3);
  int err = listen_fd(fd, i32(info, 4));
  if (err) return status(info, err);
  adopt_listener(inst, slot, u32(info, 1), u32(info, 2), fd);
  return status(info, 0);
}

// ---- net.BoundSocket: a socket bound on the JS thread (bind never blocks),
// owned by JS as a plain fd until a Server or Socket adopts it.

Napi::Value fd_or_err(const Napi::CallbackInfo& info, int err, int fd) {
  return status(info, err != 0 ? err : fd);
}

// bind(ip, port, ipv6Only, reusePort) -> fd | -errno
Napi::Value Bind(const Napi::CallbackInfo& info) {
  std::string ip = info[0].As<Napi::String>().Utf8Value();
  SockAddr local;
  int err = addr_from_ip(ip.c_str(), i32(info, 1), &local);
  if (err) return status(info, err);
  int fd = -1;
  err = sock_bind(local, info[2].ToBoolean().Value(), info[3].ToBoolean().Value(), &fd);
  return fd_or_err(info, err, fd);
}

// bindPath(path) -> fd | -errno
Napi::Value BindPath(const Napi::CallbackInfo& info) {
  SockAddr local;
  int err = path_addr(info[0], &local);
#ifdef __linux__
  // An empty name: libuv binds it with Linux's autobind (the kernel picks an
  // abstract name), which a bare address family asks for.
  if (err == -EINVAL && info[0].As<Napi::String>().Utf8Value().empty()) {
    local = SockAddr{};
    local.storage.ss_family = AF_UNIX;
    local.len = sizeof(sa_family_t);
    err = 0;
  }
#endif
  if (err) return status(info, err);
  int fd = -1;
  err = sock_bind(local, false, false, &fd);
  return fd_or_err(info, err, fd);
}

// socknameFd(fd) -> [ip, port, family] | -errno: a bound fd no loop owns yet.
Napi::Value SockNameFd(const Napi::CallbackInfo& info) {
  SockAddr addr;
  int err = sock_name(i32(info, 0), &addr);
  if (err) return status(info, err);
  return ip_triple(info, addr);
}

// Connects the bound `fd` and hands it to the loop as connect() does; the fd
// is the handle's from here on, closed here when the connect fails at once.
Napi::Value connect_bound(const Napi::CallbackInfo& info, int fd, const SockAddr& remote) {
  int err = connect_start(fd, remote);
  if (err) {
    close_fd(fd);
    return status(info, err);
  }
  adopt(instance(info), u32(info, 0), u32(info, 1), u32(info, 2), fd, kCmdAdoptConnecting, false);
  return status(info, 0);
}

// connectFd(slot, gen, loop, fd, ip, port) -> 0 | -errno
Napi::Value ConnectFd(const Napi::CallbackInfo& info) {
  int fd = i32(info, 3);
  std::string ip = info[4].As<Napi::String>().Utf8Value();
  SockAddr remote;
  int err = addr_from_ip(ip.c_str(), i32(info, 5), &remote);
  if (err) {
    close_fd(fd);
    return status(info, err);
  }
  return connect_bound(info, fd, remote);
}

// connectPathFd(slot, gen, loop, fd, path) -> 0 | -errno
Napi::Value ConnectPathFd(const Napi::CallbackInfo& info) {
  int fd = i32(info, 3);
  SockAddr remote;
  int err = path_addr(info[4], &remote);
  if (err) {
    close_fd(fd);
    return status(info, err);
  }
  return connect_bound(info, fd, remote);
}

}  // namespace

void register_handles(Napi::Env env, Napi::Object exports) {
  exports.Set("connect", Napi::Function::New(env, Connect, "connect"));
  exports.Set("listen", Napi::Function::New(env, Listen, "listen"));
  exports.Set("connectPath", Napi::Function::New(env, ConnectPath, "connectPath"));
  exports.Set("listenPath", Napi::Function::New(env, ListenPath, "listenPath"));
  exports.Set("adopt", Napi::Function::New(env, Adopt, "adopt"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  exports.Set("readStart", Napi::Function::New(env, ReadStart, "readStart"));
  exports.Set("readStop", Napi::Function::New(env, ReadStop, "readStop"));
  exports.Set("writev", Napi::Function::New(env, Writev, "writev"));
  exports.Set("shutdown", Napi::Function::New(env, Shutdown, "shutdown"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("reset", Napi::Function::New(env, Reset, "reset"));
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("guessHandleType", Napi::Function::New(env, GuessHandleType, "guessHandleType"));
  exports.Set("hostFdType", Napi::Function::New(env, HostFdType, "hostFdType"));
  exports.Set("sockname", Napi::Function::New(env, SockName, "sockname"));
  exports.Set("peername", Napi::Function::New(env, PeerName, "peername"));
  exports.Set("setNoDelay", Napi::Function::New(env, SetNoDelay, "setNoDelay"));
  exports.Set("setKeepAlive", Napi::Function::New(env, SetKeepAlive, "setKeepAlive"));
  exports.Set("setTypeOfService", Napi::Function::New(env, SetTypeOfService, "setTypeOfService"));
  exports.Set("getTypeOfService", Napi::Function::New(env, GetTypeOfService, "getTypeOfService"));
  exports.Set("getsockopt", Napi::Function::New(env, GetSockOpt, "getsockopt"));
  exports.Set("listenFd", Napi::Function::New(env, ListenFd, "listenFd"));
  exports.Set("bind", Napi::Function::New(env, Bind, "bind"));
  exports.Set("bindPath", Napi::Function::New(env, BindPath, "bindPath"));
  exports.Set("fd", Napi::Function::New(env, Fd, "fd"));
  exports.Set("fdUnconnected", Napi::Function::New(env, FdUnconnected, "fdUnconnected"));
  exports.Set("socknameFd", Napi::Function::New(env, SockNameFd, "socknameFd"));
  exports.Set("connectFd", Napi::Function::New(env, ConnectFd, "connectFd"));
  exports.Set("connectPathFd", Napi::Function::New(env, ConnectPathFd, "connectPathFd"));
}

}  // namespace pn
