// udp.cc - the UDP socket state machine (see udp.h), after libuv's
// src/unix/udp.c: receives until EAGAIN or a per-wake budget, many datagrams
// per system call; sends through a queue flushed in batches. The raw calls
// are socket_ops_udp's, so this file is the same on every platform.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "loop_core.h"
#include "socket_ops_udp.h"

namespace pn {

void UdpSendDeleter::operator()(UdpSend* s) const { delete s; }


namespace {

// Per socket, per wake: at most this many datagrams (fairness between
// sockets; libuv reads 32 per wake, Node's flood is what this is for).
constexpr int kUdpWakeBudget = 256;

// PROTONET_UDP_RECV_SLOT (tests only): a smaller receive slice, so that
// tests can send a datagram longer than it and see what a truncated one does.
size_t slot_bytes_from_env() {
  if (const char* env = getenv("PROTONET_UDP_RECV_SLOT")) {
    char* end = nullptr;
    long v = strtol(env, &end, 10);
    if (end != env && *end == '\0' && v >= 1 && v <= static_cast<long>(UdpScratch::kSlotBytes))
      return static_cast<size_t>(v);
  }
  return UdpScratch::kSlotBytes;
}

}  // namespace

void LoopCore::udp_adopt(Udp* u) {
  // Runs of datagrams from one sender may come coalesced (UDP_GRO): one
  // buffer through the kernel instead of one per datagram. Only with
  // receive slices a run always fits in, and never on a lent fd (its owner
  // reads it).
  if (!u->borrowed && slot_bytes_from_env() >= kUdpGroMinCap) udp_enable_gro(u->fd);
  u->gso = udp_can_segment(u->fd);
  udp_update(u);
}

void LoopCore::udp_update(Udp* u) {
  uint32_t want = 0;
  if (u->reading && !u->throttled) want |= kPollReadable;
  if (!u->sq_empty()) want |= kPollWritable;
  int err = set_interest(u, want);
  if (err == 0) return;
  // The poller refused the fd: fail what waited on it so nothing hangs.
  if (want & kPollReadable) {
    u->reading = false;
    emit(kEvUdpRecvError, u, err);
  }
  while (!u->sq_empty()) emit_send_done(u, std::move(u->sq[u->sq_head++]), err);
  u->sq.clear();
  u->sq_head = 0;
  set_interest(u, 0);
}

void LoopCore::emit_send_done(const Udp* u, UdpSendPtr s, int32_t status) {
  PN_ASSERT(s != nullptr);
  emit(kEvUdpSendDone, u, status);
  batch_.back().len = s->copied;
}

void LoopCore::udp_command(Udp* u, Command& cmd) {
  switch (cmd.type) {
    case kCmdReadStart:
      if (u->borrowed) break;  // a lent fd is read by its owner alone
      u->reading = true;
      udp_update(u);
      // An error the socket already holds (a connected socket's ICMP answer
      // to a send made before this command reached the loop) is read after
      // the next poll, when readiness is armed: wine's AFD poll reports such
      // an error only to a poll in flight when it comes, so one that came
      // earlier is found only in SO_ERROR. (Not by a receive: under wine a
      // recvfrom that meets the error swallows it, saying "would block".)
      if (std::find(udp_error_checks_.begin(), udp_error_checks_.end(), u) == udp_error_checks_.end())
        udp_error_checks_.push_back(u);
      return;
    case kCmdReadStop:
      u->reading = false;
      udp_update(u);
      return;
    case kCmdUdpSend: {
      const bool was_empty = u->sq_empty();
      u->sq.push_back(std::move(cmd.udp_send));  // the queue's (udp.h) from here
      // Nothing ahead of it: send when this drain of commands ends, with
      // whatever else it queues (one sendmmsg), rather than wait a poll round.
      if (was_empty && !u->flush_pending) {
        u->flush_pending = true;
        udp_flush_pending_.push_back(u);
      }
      return;
    }
    case kCmdWrite:
      // Stream commands on a UDP socket: a bridge bug, answered so nothing hangs.
      emit(kEvWriteDone, u, -ENOTSUP);
      batch_.back().len = cmd.copied;
      break;
    case kCmdShutdown:
      emit(kEvShutdownDone, u, -ENOTSUP);
      break;
    default:
      break;
  }
  discard_command(cmd);
}

void LoopCore::udp_recv_failed(Udp* u, int err) {
  // libuv hands the error to the callback; on Unix it goes on reading, on
  // Windows it stops first (kUdpRecvErrorStopsReading).
  if (kUdpRecvErrorStopsReading) u->reading = false;
  emit(kEvUdpRecvError, u, err);
}

void LoopCore::udp_check_errors() {
  for (Udp* u : udp_error_checks_) {
    if (!u->reading) continue;  // stopped, or the poll reported the error already
    const int err = udp_pending_error(u->fd);
    if (err < 0) {
      udp_recv_failed(u, err);
      udp_update(u);
    }
  }
  udp_error_checks_.clear();
}

void LoopCore::udp_ready(Udp* u, uint32_t events) {
  // Receive first, as libuv: a connected socket's ICMP error then reaches
  // the reader (recvmsg ECONNREFUSED, as node:dgram reports it), not a send.
  if ((u->interest & kPollReadable) && (events & (kPollReadable | kPollError | kPollPeerClosed)))
    udp_read(u, (events & kPollError) != 0);
  if ((u->interest & kPollWritable) && (events & (kPollWritable | kPollError)) && !u->sq_empty())
    udp_flush(u);
  udp_update(u);
}

size_t LoopCore::udp_outbox_load(const Udp* u, uint64_t epoch) const {
  return u->batch_bytes + (u->pub_epoch == epoch ? u->pub_bytes : 0);
}

bool LoopCore::udp_read(Udp* u, bool poll_error) {
  if (udp_scratch_ == nullptr) {
    std::unique_ptr<UdpScratch> sc(new (std::nothrow) UdpScratch());
    if (sc != nullptr) {
      sc->slot_bytes = slot_bytes_from_env();
      sc->bytes.reset(new (std::nothrow) char[sc->slot_bytes * UdpScratch::kSlots]);
      if (sc->bytes == nullptr) sc.reset();
    }
    if (sc == nullptr) {
      udp_recv_failed(u, -ENOMEM);
      return true;
    }
    udp_scratch_ = std::move(sc);
  }
  UdpRecvSlot slots[UdpScratch::kSlots];
  for (int i = 0; i < UdpScratch::kSlots; i++) {
    slots[i].buf = udp_scratch_->bytes.get() + static_cast<size_t>(i) * udp_scratch_->slot_bytes;
    slots[i].cap = udp_scratch_->slot_bytes;
  }
  const uint64_t epoch = epoch_.load();
  int budget = kUdpWakeBudget;
  bool progress = false;
  while (budget > 0) {
    if (udp_outbox_load(u, epoch) >= Loop::kUdpOutboxBytes) {
      // JS is behind: stop reading until it takes the outbox (the kernel's
      // receive buffer holds what comes meanwhile, and drops the rest, as
      // it would for a slow node:dgram).
      u->throttled = true;
      udp_throttled_.push_back(u);
      throttled_count_.fetch_add(1);  // seq_cst: pairs with take()'s epoch store
      return progress;
    }
    const int want = std::min(budget, UdpScratch::kSlots);
    int got = udp_recv_batch(u->fd, slots, want);
    if (got == -EAGAIN) {
      // The poll said error and no receive returned one: the socket holds it.
      if (poll_error && !progress) got = udp_pending_error(u->fd);
      if (got == -EAGAIN || got == 0) return progress;
    }
    progress = true;
    if (got < 0) {
      udp_recv_failed(u, got);
      return true;
    }
    for (int i = 0; i < got; i++) {
      const UdpRecvSlot& s = slots[i];
      // A coalesced run (UDP_GRO) is cut back into its datagrams here, each
      // delivered as if it had come alone.
      if (s.segment == 0) {
        if (!udp_deliver_one(u, s, s.buf, s.len)) return true;
        continue;
      }
      for (size_t at = 0; at < s.len; at += s.segment) {
        if (!udp_deliver_one(u, s, s.buf + at, std::min(s.segment, s.len - at))) return true;
      }
    }
    budget -= got;
    if (got < want) return true;  // drained: skip the call that would say EAGAIN
  }
  return progress;
}

// One datagram of a receive slot into the batch: false when the loop is out
// of memory (udp_recv_failed has reported it; reading stops).
bool LoopCore::udp_deliver_one(Udp* u, const UdpRecvSlot& s, const char* payload, size_t len) {
  UdpScratch& sc = *udp_scratch_;
  if (s.from.len == 0 || s.from.len != sc.last_from.len ||
      memcmp(&s.from.storage, &sc.last_from.storage, s.from.len) != 0) {
    if (s.from.len == 0 ||
        addr_to_ip(s.from.sa(), sc.last_ip, sizeof sc.last_ip, &sc.last_port, &sc.last_family) != 0) {
      sc.last_ip[0] = '\0';  // no sender (an unnamed peer): an empty address
      sc.last_port = 0;
      sc.last_family = 4;
    }
    sc.last_iplen = strlen(sc.last_ip);
    sc.last_from = s.from;
  }
  const size_t iplen = sc.last_iplen;
  const size_t total = kUdpHeaderFixed + iplen + len;
  // The datagram goes into the loop's shared slab, compactly (header, then
  // payload), so the scratch is free for the next call.
  if (slab_ == nullptr || slab_->size - slab_->used < total) {
    if (slab_ != nullptr) slab_release(slab_);
    slab_ = slab_new(std::max(kReadChunk, total));
    if (slab_ == nullptr) {
      udp_recv_failed(u, -ENOMEM);
      return false;
    }
  }
  char* dst = slab_->bytes() + slab_->used;
  dst[0] = static_cast<char>(sc.last_family);
  dst[1] = static_cast<char>(iplen);
  dst[2] = static_cast<char>((sc.last_port >> 8) & 0xff);
  dst[3] = static_cast<char>(sc.last_port & 0xff);
  memcpy(dst + kUdpHeaderFixed, sc.last_ip, iplen);
  if (len > 0) memcpy(dst + kUdpHeaderFixed + iplen, payload, len);
  Event ev;
  ev.type = kEvUdpMessage;
  ev.slot = u->slot;
  ev.gen = u->gen;
  ev.len = static_cast<uint32_t>(total);
  ev.data = dst;
  ev.slab = slab_;
  slab_ref(slab_);
  slab_->used += (total + 7) & ~static_cast<size_t>(7);
  if (slab_->used > slab_->size) slab_->used = slab_->size;
  batch_.push_back(ev);
  u->batch_bytes += total;
  if (!u->in_batch) {
    u->in_batch = true;
    batch_udps_.push_back(u);
  }
  return true;
}

void LoopCore::udp_flush(Udp* u, bool copied_only) {
  UdpOut out[UdpScratch::kSlots];
  while (!u->sq_empty()) {
    int n = 0;
    for (size_t q = u->sq_head; q < u->sq.size() && n < UdpScratch::kSlots; q++, n++) {
      const UdpSend* s = u->sq[q].get();
      if (copied_only && s->copied == 0) break;
      out[n].iov = s->iov.get();
      out[n].iovcnt = static_cast<int>(s->cnt);
      out[n].to = s->has_to ? &s->to : nullptr;
    }
    if (n == 0) break;
    int sent = udp_send_batch(u->fd, out, n, &u->gso);
    if (sent == -EAGAIN) break;  // wait for writability
    if (sent < 0) {
      // This datagram failed (EMSGSIZE, a connected peer's ECONNREFUSED...);
      // each datagram stands alone, so the next ones are tried.
      emit_send_done(u, std::move(u->sq[u->sq_head++]), sent);
      continue;
    }
    for (int i = 0; i < sent; i++) emit_send_done(u, std::move(u->sq[u->sq_head++]), 0);
  }
  if (u->sq_empty()) {
    u->sq.clear();
    u->sq_head = 0;
  }
}

void LoopCore::udp_flush_pending() {
  for (Udp* u : udp_flush_pending_) {
    u->flush_pending = false;
    udp_flush(u);
    udp_update(u);
  }
  udp_flush_pending_.clear();
}

void LoopCore::udp_close(Udp* u) {
  udp_error_checks_.erase(std::remove(udp_error_checks_.begin(), udp_error_checks_.end(), u), udp_error_checks_.end());
  if (u->flush_pending) {
    udp_flush_pending_.erase(std::find(udp_flush_pending_.begin(), udp_flush_pending_.end(), u));
    u->flush_pending = false;
  }
  // What JS waits for is cancelled, as libuv cancels it (the copied
  // datagrams ahead of it went out first: close_handle).
  while (!u->sq_empty()) emit_send_done(u, std::move(u->sq[u->sq_head++]), -ECANCELED);
  u->sq.clear();
  u->sq_head = 0;
  if (u->throttled) {
    udp_throttled_.erase(std::find(udp_throttled_.begin(), udp_throttled_.end(), u));
    throttled_count_.fetch_sub(1);
  }
  // Commands run between publishes, so u is never in batch_udps_ here.
}

void LoopCore::udp_publish_locked() {
  for (Udp* u : batch_udps_) {
    if (u->pub_epoch != out_epoch_) {
      u->pub_epoch = out_epoch_;
      u->pub_bytes = 0;
    }
    u->pub_bytes += u->batch_bytes;
    u->batch_bytes = 0;
    u->in_batch = false;
  }
  batch_udps_.clear();
}

void LoopCore::udp_resume_throttled(uint64_t epoch) {
  size_t keep = 0;
  for (Udp* u : udp_throttled_) {
    if (udp_outbox_load(u, epoch) < Loop::kUdpOutboxBytes) {
      u->throttled = false;
      throttled_count_.fetch_sub(1);
      udp_update(u);
    } else {
      udp_throttled_[keep++] = u;
    }
  }
  udp_throttled_.resize(keep);
}

void LoopCore::udp_teardown() {
  udp_error_checks_.clear();
  udp_throttled_.clear();
  udp_flush_pending_.clear();
  batch_udps_.clear();
  udp_scratch_.reset();
}

}  // namespace pn
