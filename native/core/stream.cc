// stream.cc - the connected-socket state machine (see stream.h), after libuv's
// src/unix/stream.c: reads until EAGAIN or a budget, writes gathered with one
// sendmsg, FIN once the write queue drains, first error sticks. The raw calls
// are socket_ops' sock_* functions, so this file is the same on every platform.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "loop_core.h"
#include "socket_ops.h"

namespace pn {

void LoopCore::stream_adopt(Stream* t, bool connecting, bool reading) {
  if (connecting) {
    t->connecting = true;
  } else {
    t->connected = true;
    t->reading = reading;
  }
  stream_update(t);
}

uint32_t LoopCore::stream_want(const Stream* t) const {
  if (t->connecting) return kPollWritable;
  if (!t->connected) return 0;
  uint32_t want = 0;
  if (t->reading && !t->eof && !t->read_failed && !t->throttled) want |= kPollReadable;
  if (!t->wq_empty() && t->write_err == 0) want |= kPollWritable;
  return want;
}

void LoopCore::stream_update(Stream* t) {
  uint32_t want = t->stalled ? 0 : stream_want(t);
  int err = set_interest(t, want);
  if (err == 0) return;
  // The poller refused the fd (ENOMEM, ENOSPC from max_user_watches...): fail
  // whatever was waiting on it, so nothing hangs, then leave the poller.
  if (t->connecting) {
    t->connecting = false;
    emit(kEvConnect, t, err);
    stream_fail_writes(t, err);
  } else {
    if (want & kPollReadable) {
      t->read_failed = true;
      emit(kEvReadError, t, err);
    }
    if (want & kPollWritable) stream_fail_writes(t, err);
  }
  set_interest(t, 0);
}

void LoopCore::stream_ready(Stream* t, uint32_t events) {
  if (t->connecting) {
    stream_finish_connect(t);
    return;
  }
  // Reads first, as libuv does: after a reset the read reports ECONNRESET and
  // a queued write then fails on its own (EPIPE).
  bool progress = false;
  if ((t->interest & kPollReadable) && (events & (kPollReadable | kPollPeerClosed | kPollError)))
    progress |= stream_read(t, (events & kPollPeerClosed) != 0);
  if ((t->interest & kPollWritable) && (events & (kPollWritable | kPollError)) &&
      !t->wq_empty() && t->write_err == 0)
    progress |= stream_flush(t);

  if ((events & kPollError) && !progress) {
    // An error/hang-up that neither a read nor a write turned into news. Take
    // the pending error if there is one; otherwise leave the poller until the
    // next command, since level-triggered epoll would report it forever.
    int err = sock_error(t->fd);
    if (err != 0 && (t->interest & kPollReadable) && !t->throttled) {
      t->read_failed = true;
      emit(kEvReadError, t, err);
    } else if (err != 0 && !t->wq_empty()) {
      stream_fail_writes(t, err);
    } else if (!t->throttled) {
      t->stalled = true;
    }
    // A throttled socket is out of the poller already; resume_throttled()
    // re-arms it and the read then drains what is left and finds the EOF.
  }
  stream_update(t);
}

void LoopCore::stream_finish_connect(Stream* t) {
  PN_ASSERT(t->connecting && !t->connected);
  int err = sock_error(t->fd);
  t->connecting = false;
  if (err == 0) {
    t->connected = true;
    emit(kEvConnect, t, 0);
    stream_flush(t);  // writes and a shutdown may have been queued meanwhile
  } else {
    emit(kEvConnect, t, err);
    stream_fail_writes(t, err);
  }
  // A failed socket leaves the poller, but its fd stays open until kCmdClose:
  // the bridge may still use the fd number on its own thread until then.
  stream_update(t);
}

void LoopCore::stream_read_start(Stream* t) {
  t->reading = true;
  t->stalled = false;
  stream_update(t);
}

void LoopCore::stream_read_stop(Stream* t) {
  t->reading = false;
  t->outbox_cap = Loop::kOutboxInitialBytes;  // JS is full: small batches again
  stream_update(t);
}

size_t LoopCore::outbox_load(const Stream* t, uint64_t epoch) const {
  // Published bytes count only while no take() happened since they were
  // published (pub_epoch is the outbox epoch at publish time).
  return t->batch_bytes + (t->pub_epoch == epoch ? t->pub_bytes : 0);
}

void LoopCore::stream_throttle(Stream* t) {
  t->throttled = true;
  throttled_.push_back(t);
  throttled_count_.fetch_add(1);  // seq_cst: pairs with take()'s epoch store
}

void LoopCore::resume_throttled() {
  uint64_t epoch = epoch_.load();
  if (epoch == seen_epoch_) return;
  seen_epoch_ = epoch;
  udp_resume_throttled(epoch);
  size_t keep = 0;
  for (Stream* t : throttled_) {
    // JS took a full batch and has not stopped reading: a bigger batch next.
    if (t->reading && t->outbox_cap < Loop::kOutboxBytesPerSocket) t->outbox_cap *= 2;
    if (outbox_load(t, epoch) < t->outbox_cap) {
      t->throttled = false;
      t->stalled = false;  // a hang-up seen while throttled must be read now
      throttled_count_.fetch_sub(1);
      stream_update(t);
    } else {
      throttled_[keep++] = t;  // its bytes went out after the take: wait for the next
    }
  }
  throttled_.resize(keep);
}

// One kEvData for n bytes at `data` in slab `s`, whose reference passes to
// the event.
void LoopCore::push_data(Stream* t, char* data, size_t n, ReadSlab* s) {
  Event ev;
  ev.type = kEvData;
  ev.slot = t->slot;
  ev.gen = t->gen;
  ev.len = static_cast<uint32_t>(n);
  ev.data = data;
  ev.slab = s;
  batch_.push_back(ev);
  t->batch_bytes += n;
  if (!t->in_batch) {
    t->in_batch = true;
    batch_streams_.push_back(t);
  }
}

// A streaming socket reads into slabs lent to it alone: one readv() fills up
// to kLentPerRead of them in order, and each filled one is handed over as it
// lies (one Buffer per slab, as node:net hands one per 64 KiB read), so a
// bulk stream makes a quarter of the read() calls. The loop never touches
// that memory again. kNoLent when no slab was to spare; else what the readv
// returned, with `room` set to the bytes it could have read.
ssize_t LoopCore::read_lent(Stream* t, size_t* room) {
  ReadSlab* lent[kLentPerRead];
  iovec iov[kLentPerRead];
  int cnt = 0;
  *room = 0;
  while (cnt < kLentPerRead && (lent[cnt] = slab_source_(ctx_)) != nullptr) {
    iov[cnt].iov_base = lent[cnt]->bytes();
    iov[cnt].iov_len = lent[cnt]->size;
    *room += lent[cnt]->size;
    cnt++;
  }
  if (cnt == 0) return kNoLent;
  ssize_t n = cnt == 1 ? sock_read(t->fd, lent[0]->bytes(), lent[0]->size) : sock_readv(t->fd, iov, cnt);
  size_t left = n > 0 ? static_cast<size_t>(n) : 0;
  for (int i = 0; i < cnt; i++) {
    size_t part = left < lent[i]->size ? left : lent[i]->size;
    left -= part;
    if (part == 0) {
      slab_release(lent[i]);  // unused: back to its lender as it was
      continue;
    }
    lent[i]->used = part;  // the loop's reference passes to the event
    push_data(t, lent[i]->bytes(), part, lent[i]);
  }
  return n;
}

bool LoopCore::stream_read(Stream* t, bool peer_closed) {
  const uint64_t epoch = epoch_.load();
  size_t total = 0;
  for (;;) {
    if (outbox_load(t, epoch) >= t->outbox_cap) {
      stream_throttle(t);
      return total > 0;
    }
    size_t room = 0;
    ssize_t n = t->streaming && slab_source_ != nullptr ? read_lent(t, &room) : kNoLent;
    if (n == kNoLent) {
      if (slab_ == nullptr || slab_->size - slab_->used < kMinReadRoom) {
        // Retire the current slab (its events keep it alive) and start anew.
        if (slab_ != nullptr) slab_release(slab_);
        slab_ = slab_new(kReadChunk);
        if (slab_ == nullptr) {
          t->read_failed = true;
          emit(kEvReadError, t, -ENOMEM);
          return true;
        }
      }
      char* dst = slab_->bytes() + slab_->used;
      room = slab_->size - slab_->used;
      n = sock_read(t->fd, dst, room);
      if (n > 0) {
        // No copy here: the event points into the slab and holds a reference.
        slab_ref(slab_);
        push_data(t, dst, static_cast<size_t>(n), slab_);
        // Keep the next read 8-byte aligned.
        slab_->used += (static_cast<size_t>(n) + 7) & ~static_cast<size_t>(7);
        if (slab_->used > slab_->size) slab_->used = slab_->size;
      }
    }
    if (n > 0) {
      t->streaming = static_cast<size_t>(n) >= kWholeReadMin;
      total += static_cast<size_t>(n);
      if (total >= Loop::kReadBudget) return true;  // fairness: others get a turn
      // A short read drained the socket: skip the read() that would say EAGAIN.
      // After a FIN, read on to the 0 so EOF is not a whole iteration late.
      if (static_cast<size_t>(n) < room && !peer_closed) return true;
      continue;
    }
    if (n == 0) {
      t->eof = true;
      emit(kEvEof, t, 0);
      return true;
    }
    if (n == -EAGAIN) return total > 0;
    t->read_failed = true;
    emit(kEvReadError, t, static_cast<int32_t>(n));
    return true;
  }
}

// Emits kEvWriteDone(0) for every request at the head that has nothing left.
void LoopCore::stream_complete_heads(Stream* t) {
  while (!t->wq_empty()) {
    WriteReq& r = t->wq[t->wq_head];
    while (r.idx < r.cnt && r.iov[r.idx].iov_len == 0) r.idx++;
    if (r.idx < r.cnt) break;
    emit_write_done(t, r, 0);
    r.iov.reset();
    t->wq_head++;
  }
  if (t->wq_empty()) {
    t->wq.clear();
    t->wq_head = 0;
  }
}

bool LoopCore::stream_flush(Stream* t) {
  bool progress = false;
  stream_complete_heads(t);
  while (!t->wq_empty()) {
    // One request: send its iovecs in place. Several: gather them (up to
    // IOV_MAX) so many small writes cost one syscall.
    WriteReq& head = t->wq[t->wq_head];
    iovec* iov;
    size_t cnt = 0;
    size_t asked = 0;
    if (t->wq_head + 1 == t->wq.size() || head.cnt - head.idx >= IOV_MAX) {
      iov = head.iov.get() + head.idx;
      cnt = std::min<size_t>(head.cnt - head.idx, IOV_MAX);
      for (size_t i = 0; i < cnt; i++) asked += iov[i].iov_len;
    } else {
      iov = gather_;
      for (size_t q = t->wq_head; q < t->wq.size() && cnt < IOV_MAX; q++) {
        const WriteReq& r = t->wq[q];
        for (uint32_t j = r.idx; j < r.cnt && cnt < IOV_MAX; j++) {
          if (r.iov[j].iov_len == 0) continue;
          gather_[cnt++] = r.iov[j];
          asked += r.iov[j].iov_len;
        }
      }
    }
    ssize_t n = sock_sendv(t->fd, iov, static_cast<int>(cnt));
    if (n < 0) {
      if (n == -EAGAIN) break;
      stream_fail_writes(t, static_cast<int>(n));
      return true;
    }
    progress = true;
    // Advance the queue by n bytes, editing iovecs in place (the loop owns the
    // arrays, not the bytes).
    size_t left = static_cast<size_t>(n);
    size_t q = t->wq_head;
    while (left > 0) {
      WriteReq& r = t->wq[q];
      if (r.idx == r.cnt) {
        q++;
        continue;
      }
      iovec& v = r.iov[r.idx];
      if (left >= v.iov_len) {
        left -= v.iov_len;
        v.iov_len = 0;
        r.idx++;
      } else {
        v.iov_base = static_cast<char*>(v.iov_base) + left;
        v.iov_len -= left;
        left = 0;
      }
    }
    stream_complete_heads(t);
    if (static_cast<size_t>(n) < asked) break;  // kernel buffer full: wait for EPOLLOUT
  }
  stream_maybe_shutdown(t);
  return progress;
}

void LoopCore::stream_fail_writes(Stream* t, int err) {
  t->write_err = err;
  for (size_t i = t->wq_head; i < t->wq.size(); i++) {
    emit_write_done(t, t->wq[i], err);
    t->wq[i].iov.reset();
  }
  t->wq.clear();
  t->wq_head = 0;
  for (; t->shutdowns > 0; t->shutdowns--) emit(kEvShutdownDone, t, err);
}

void LoopCore::stream_maybe_shutdown(Stream* t) {
  if (t->shutdowns == 0 || !t->wq_empty() || !t->connected) return;
  PN_ASSERT(!t->connecting);
  int status = t->write_err;
  if (status == 0) status = shutdown_write(t->fd);
  for (; t->shutdowns > 0; t->shutdowns--) emit(kEvShutdownDone, t, status);
}

void LoopCore::stream_write(Stream* t, IovArray iov, uint32_t cnt, uint32_t copied) {
  PN_ASSERT(iov != nullptr || cnt == 0);
  t->stalled = false;
  WriteReq req{std::move(iov), cnt, 0, copied};
  if (t->write_err != 0) {
    // The first error sticks: later writes fail at once, in order.
    emit_write_done(t, req, t->write_err);
    return;
  }
  bool was_empty = t->wq_empty();
  t->wq.push_back(std::move(req));
  // Nothing ahead of it: write now rather than wait a poll round for EPOLLOUT.
  if (was_empty && t->connected) stream_flush(t);
  stream_update(t);
}

void LoopCore::stream_shutdown(Stream* t) {
  t->stalled = false;
  t->shutdowns++;
  if (t->write_err != 0) {
    for (; t->shutdowns > 0; t->shutdowns--) emit(kEvShutdownDone, t, t->write_err);
  } else {
    stream_maybe_shutdown(t);
  }
  stream_update(t);
}

void LoopCore::stream_close(Stream* t) {
  for (size_t i = t->wq_head; i < t->wq.size(); i++) {
    emit_write_done(t, t->wq[i], -ECANCELED);
    t->wq[i].iov.reset();
  }
  t->wq.clear();
  t->wq_head = 0;
  for (; t->shutdowns > 0; t->shutdowns--) emit(kEvShutdownDone, t, -ECANCELED);
  if (t->throttled) {
    throttled_.erase(std::find(throttled_.begin(), throttled_.end(), t));
    throttled_count_.fetch_sub(1);
  }
  // Commands run between publishes, so t is never in batch_streams_ here.
}

}  // namespace pn
