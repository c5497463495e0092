// udp_handles.cc - the UDP functions JS calls (lib/udp_handle.ts), as
// handles.cc is for streams: convert arguments, call the core, return 0 / a
// value / a negative errno; never throw for a system error.
//
// The socket is made on the JS thread (bind, connect and membership never
// block, as in libuv) and handed to the handle's loop with kCmdAdoptUdp. A
// send is tried at once from the JS thread when nothing of this socket is
// queued on its loop (libuv's uv_udp_try_send, which Node's udp_wrap uses
// first); only what the kernel could not take goes to the loop. Datagrams
// nobody waits for may leave the JS thread instead (WriteBurst, instance.h):
// copied, handed to a loop, and sent for JS at once.
#include "udp_handles.h"

#include <utility>
#include <string>

#include "address.h"
#include "bridge.h"
#include "socket_ops.h"
#include "socket_ops_udp.h"
#include "udp.h"
#include "views.h"
#include "write_offload.h"

namespace pn {
namespace {

Instance* instance(const Napi::CallbackInfo& info) { return info.Env().GetInstanceData<Instance>(); }
uint32_t u32(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Uint32Value(); }
int32_t i32(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }
Napi::Value status(const Napi::CallbackInfo& info, int err) { return Napi::Number::New(info.Env(), err); }

// A string argument, or "absent" for null/undefined.
bool opt_string(const Napi::CallbackInfo& info, size_t i, std::string* out) {
  if (info.Length() <= i || !info[i].IsString()) return false;
  *out = info[i].As<Napi::String>().Utf8Value();
  return true;
}

// The live, not closing handle's slot, or null.
SlotInfo* open_slot(const Napi::CallbackInfo& info) {
  SlotInfo* s = instance(info)->live(u32(info, 0), u32(info, 1));
  return s == nullptr || s->closing ? nullptr : s;
}

// Hands a fresh UDP fd for (slot, gen) to `loop`.
void adopt_udp(Instance* inst, uint32_t slot, uint32_t gen, uint32_t loop, int fd) {
  SlotInfo& s = inst->claim(slot);
  s = SlotInfo{};
  s.fd = fd;
  s.gen = gen;
  s.loop = loop;
  Command cmd;
  cmd.type = kCmdAdoptUdp;
  cmd.slot = slot;
  cmd.gen = gen;
  cmd.fd = fd;
  inst->pool.loop(static_cast<int>(loop)).post(std::move(cmd));
}

// The handle's fd, making and binding one first (to the any address of
// `family`, with `flags`) when it has none: libuv's deferred bind.
int fd_or_bind_any(const Napi::CallbackInfo& info, int family, unsigned flags, int* fd_out) {
  Instance* inst = instance(info);
  uint32_t slot = u32(info, 0), gen = u32(info, 1);
  if (SlotInfo* s = inst->live(slot, gen)) {
    if (s->closing) return -EBADF;
    *fd_out = s->fd;
    return 0;
  }
  SockAddr any;
  int err = addr_from_ip(family == AF_INET6 ? "::" : "0.0.0.0", 0, &any);
  int fd = -1;
  if (err == 0) err = udp_open_bound(any, flags, &fd);
  if (err != 0) return err;
  adopt_udp(inst, slot, gen, u32(info, 2), fd);
  *fd_out = fd;
  return 0;
}

// udpBind(slot, gen, loop, ip, port, flags) -> 0 | -errno. Binds the
// handle's socket, or makes one for the address's family.
Napi::Value JsBind(const Napi::CallbackInfo& info) {
  Instance* inst = instance(info);
  uint32_t slot = u32(info, 0), gen = u32(info, 1);
  std::string ip = info[3].As<Napi::String>().Utf8Value();
  SockAddr local;
  int err = addr_from_ip(ip.c_str(), i32(info, 4), &local);
  if (err) return status(info, err);
  const unsigned flags = u32(info, 5);
  if (SlotInfo* s = inst->live(slot, gen)) {
    if (s->closing) return status(info, -EBADF);
    return status(info, udp_bind(s->fd, local, flags));
  }
  int fd = -1;
  err = udp_open_bound(local, flags, &fd);
  if (err) return status(info, err);
  adopt_udp(inst, slot, gen, u32(info, 2), fd);
  return status(info, 0);
}

// udpOpen(slot, gen, loop, fd) -> 0 | -errno: a caller's UDP socket.
Napi::Value JsOpen(const Napi::CallbackInfo& info) {
  Instance* inst = instance(info);
  if (inst->live(u32(info, 0), u32(info, 1)) != nullptr) return status(info, -EBUSY);
  int fd = i32(info, 3);
  int err = udp_adopt_fd(fd);
  if (err) return status(info, err);
  adopt_udp(inst, u32(info, 0), u32(info, 1), u32(info, 2), fd);
  return status(info, 0);
}

// udpConnect(slot, gen, loop, ip, port) -> 0 | -errno (binds first if unbound).
Napi::Value JsConnect(const Napi::CallbackInfo& info) {
  std::string ip = info[3].As<Napi::String>().Utf8Value();
  SockAddr remote;
  int err = addr_from_ip(ip.c_str(), i32(info, 4), &remote);
  if (err) return status(info, err);
  int fd = -1;
  err = fd_or_bind_any(info, remote.family(), 0, &fd);
  if (err) return status(info, err);
  err = udp_connect(fd, remote);
  if (err == 0) {
    if (SlotInfo* s = open_slot(info)) s->udp_peer = std::make_unique<SockAddr>(remote);
  }
  return status(info, err);
}

Napi::Value JsDisconnect(const Napi::CallbackInfo& info) {
  SlotInfo* s = open_slot(info);
  if (s == nullptr) return status(info, -EBADF);
  s->udp_peer.reset();
  return status(info, udp_disconnect(s->fd));
}

// A datagram is copied when it is at most kCopyMax bytes, while its socket
// has at most kCopyCap copied bytes not yet sent: past that it is sent, or
// queued as one the kernel could not take, as without the hand-off.
constexpr size_t kCopyMax = 16 * 1024;
constexpr uint32_t kCopyCap = 256 * 1024;

// Where a copied datagram may be sent from another thread: Linux, where a
// destination given to a connected socket is used (a copy names the peer,
// see SlotInfo::udp_peer). The BSDs and macOS refuse it (EISCONN), and on
// Windows (IOCP) the path is not built: there every datagram is sent as
// without it. The kqueue emulation (PN_UDP_NO_MMSG) stands for macOS.
#if defined(__linux__) && !defined(PN_UDP_NO_MMSG)
constexpr bool kUdpSendOffload = true;
#else
constexpr bool kUdpSendOffload = false;
#endif

// Hands a datagram nobody waits for to a loop, copied (WriteBurst), when it
// is part of a burst or of the replies to a delivery. True when it went.
bool offload_datagram(Instance* inst, uint32_t slot, SlotInfo& s, const iovec* iov, uint32_t n,
                      size_t total, bool has_to, const SockAddr& to) {
  if (!kUdpSendOffload || total > kCopyMax || (!has_to && s.udp_peer == nullptr)) return false;
  // Completions of earlier copies wait quietly in the outboxes: at the cap,
  // account for them before deciding.
  if (s.writes_in_flight > 0 && s.copied_in_flight + total > kCopyCap) bridge_take_quiet(inst);
  if (s.writes_in_flight > 0) {
    // Ride along behind what is in flight, wherever it is, while few bytes
    // are held so.
    if (s.copied_in_flight + total > kCopyCap) return false;
  } else {
    bool starts = false;
    bool go = inst->write_burst.offload_datagram(inst->delivering > 0, &starts);
    // Completions of earlier copies wait quietly in the outboxes: account
    // for them once per burst (handles.cc Writev does the same).
    if (starts) bridge_take_quiet(inst);
    // Other sockets' copies still in flight: sent directly, this datagram
    // would overtake them, where node:dgram's leave in call order. So it
    // follows them (in one FIFO with the writer or one I/O thread).
    if (!go && inst->udp_copied_in_flight > 0) {
      bridge_take_quiet(inst);
      go = inst->udp_copied_in_flight > 0;
    }
    if (!go) return false;
    if (s.writes_in_flight > 0 ? s.copied_in_flight + total > kCopyCap
                               : !route_burst(inst, slot, s, kCmdAdoptUdpWriter)) {
      return false;
    }
  }
  UdpSendPtr req(new UdpSend());
  req->iov = iov_copy(iov, n, total);
  req->cnt = 1;
  req->copied = static_cast<uint32_t>(total == 0 ? 1 : total);
  req->has_to = true;
  req->to = has_to ? to : *s.udp_peer;
  Command cmd;
  cmd.type = kCmdUdpSend;
  cmd.slot = slot;
  cmd.gen = s.gen;
  cmd.udp_send = std::move(req);
  s.writes_in_flight++;
  s.copied_in_flight += static_cast<uint32_t>(total == 0 ? 1 : total);
  inst->udp_copied_in_flight++;
  inst->writes_offloaded++;
  write_loop(inst, s).post(std::move(cmd));
  return true;
}

// udpSend(slot, gen, chunk | chunks, port, ip | null, quiet) -> bytes + 1 (sent now,
// or copied and handed to a loop: the same for JS) | 0 (queued: a
// kEvUdpSendDone follows; JS keeps `chunks` alive until then) | -errno
// (nothing sent). quiet: nobody waits for this datagram's completion (no
// callback), so its error may go unseen, as node:dgram drops it.
Napi::Value JsSend(const Napi::CallbackInfo& info) {
  Instance* inst = instance(info);
  uint32_t slot = u32(info, 0);
  SlotInfo* s = open_slot(info);
  if (s == nullptr) return status(info, -EBADF);
  SockAddr to;
  std::string ip;
  const bool has_to = opt_string(info, 4, &ip);
  if (has_to) {
    int err = addr_from_ip(ip.c_str(), i32(info, 3), &to);
    if (err) return status(info, err);
  }
  // One view (the common datagram) or an array of them. lib/ passes only
  // views; anything else is refused, never read.
  napi_env env = info.Env();
  bool is_array = false;
  napi_is_array(env, info[2], &is_array);
  Napi::Array chunks;
  uint32_t n = 1;
  if (is_array) {
    chunks = info[2].As<Napi::Array>();
    n = chunks.Length();
  }
  IovArray iov(new iovec[n == 0 ? 1 : n]);
  for (uint32_t i = 0; i < n; i++) {
    if (!view_bytes(env, is_array ? static_cast<napi_value>(chunks.Get(i)) : static_cast<napi_value>(info[2]), &iov[i])) {
      return status(info, -EINVAL);
    }
  }
  size_t total = 0;
  for (uint32_t i = 0; i < n; i++) total += iov[i].iov_len;
  const bool quiet = info.Length() > 5 && info[5].ToBoolean().Value();
  if (quiet && offload_datagram(inst, slot, *s, iov.get(), n, total, has_to, to)) {
    return status(info, static_cast<int>(total) + 1);
  }
  if (s->writes_in_flight == 0) {
    inst->writes_direct++;
    s->writes_at_writer = false;  // what the kernel does not take is queued on the socket's own loop
    ssize_t r = udp_try_send(s->fd, iov.get(), static_cast<int>(n), has_to ? &to : nullptr);
    if (r != -EAGAIN) {
      return status(info, r < 0 ? static_cast<int>(r) : static_cast<int>(r) + 1);
    }
  }
  UdpSendPtr req(new UdpSend());
  req->iov = std::move(iov);
  req->cnt = n;
  req->has_to = has_to;
  req->to = to;
  Command cmd;
  cmd.type = kCmdUdpSend;
  cmd.slot = slot;
  cmd.gen = s->gen;
  cmd.udp_send = std::move(req);
  s->writes_in_flight++;
  write_loop(inst, *s).post(std::move(cmd));
  return status(info, 0);
}

// Options: (slot, gen, value) -> 0 | -errno (EBADF with no socket, as libuv's -1 fd).
Napi::Value JsSetBroadcast(const Napi::CallbackInfo& info) {
  SlotInfo* s = open_slot(info);
  return status(info, s == nullptr ? -EBADF : udp_set_broadcast(s->fd, info[2].ToBoolean().Value()));
}
Napi::Value JsSetTTL(const Napi::CallbackInfo& info) {
  SlotInfo* s = open_slot(info);
  return status(info, s == nullptr ? -EBADF : udp_set_ttl(s->fd, i32(info, 2)));
}
Napi::Value JsSetMulticastTTL(const Napi::CallbackInfo& info) {
  SlotInfo* s = open_slot(info);
  return status(info, s == nullptr ? -EBADF : udp_set_multicast_ttl(s->fd, i32(info, 2)));
}
Napi::Value JsSetMulticastLoopback(const Napi::CallbackInfo& info) {
  SlotInfo* s = open_slot(info);
  return status(info, s == nullptr ? -EBADF : udp_set_multicast_loop(s->fd, info[2].ToBoolean().Value()));
}
Napi::Value JsSetMulticastInterface(const Napi::CallbackInfo& info) {
  SlotInfo* s = open_slot(info);
  if (s == nullptr) return status(info, -EBADF);
  std::string iface;
  const bool has = opt_string(info, 2, &iface);
  return status(info, udp_set_multicast_interface(s->fd, has ? iface.c_str() : nullptr));
}

// udpSetMembership(slot, gen, loop, group, iface | null, join) -> 0 | -errno.
// An unbound handle is bound first to the group's family, as libuv does.
Napi::Value JsSetMembership(const Napi::CallbackInfo& info) {
  std::string group, iface;
  opt_string(info, 3, &group);
  const bool has_iface = opt_string(info, 4, &iface);
  const int family = udp_literal_family(group.c_str());
  if (family == 0) return status(info, -EINVAL);
  int fd = -1;
  int err = fd_or_bind_any(info, family, kUdpReuseAddr, &fd);
  if (err) return status(info, err);
  return status(info, udp_set_membership(fd, group.c_str(), has_iface ? iface.c_str() : nullptr,
                                         info[5].ToBoolean().Value()));
}

// udpSetSourceMembership(slot, gen, loop, source, group, iface | null, join).
Napi::Value JsSetSourceMembership(const Napi::CallbackInfo& info) {
  std::string source, group, iface;
  opt_string(info, 3, &source);
  opt_string(info, 4, &group);
  const bool has_iface = opt_string(info, 5, &iface);
  const int family = udp_literal_family(group.c_str());
  if (family == 0 || udp_literal_family(source.c_str()) != family) return status(info, -EINVAL);
  int fd = -1;
  int err = fd_or_bind_any(info, family, kUdpReuseAddr, &fd);
  if (err) return status(info, err);
  return status(info, udp_set_source_membership(fd, source.c_str(), group.c_str(),
                                                has_iface ? iface.c_str() : nullptr,
                                                info[6].ToBoolean().Value()));
}

// udpBufferSize(slot, gen, size, recv) -> size (read, or as set) | -errno.
Napi::Value JsBufferSize(const Napi::CallbackInfo& info) {
  SlotInfo* s = open_slot(info);
  if (s == nullptr) return status(info, -EBADF);
  int out = 0;
  int err = udp_buffer_size(s->fd, info[3].ToBoolean().Value(), i32(info, 2), &out);
  return status(info, err != 0 ? err : out);
}

// udpRecvSyscalls() -> receive system calls made so far (tests: batching).
Napi::Value JsRecvSyscalls(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(udp_recv_syscalls()));
}

}  // namespace

void register_udp_handles(Napi::Env env, Napi::Object exports) {
  const struct { const char* name; Napi::Value (*fn)(const Napi::CallbackInfo&); } fns[] = {
      {"udpBind", JsBind},
      {"udpOpen", JsOpen},
      {"udpConnect", JsConnect},
      {"udpDisconnect", JsDisconnect},
      {"udpSend", JsSend},
      {"udpSetBroadcast", JsSetBroadcast},
      {"udpSetTTL", JsSetTTL},
      {"udpSetMulticastTTL", JsSetMulticastTTL},
      {"udpSetMulticastLoopback", JsSetMulticastLoopback},
      {"udpSetMulticastInterface", JsSetMulticastInterface},
      {"udpSetMembership", JsSetMembership},
      {"udpSetSourceMembership", JsSetSourceMembership},
      {"udpBufferSize", JsBufferSize},
      {"udpRecvSyscalls", JsRecvSyscalls},
  };
  for (const auto& f : fns) exports.Set(f.name, Napi::Function::New(env, f.fn, f.name));
}

}  // namespace pn
