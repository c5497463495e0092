// listener.cc - accept() on a listening socket, like libuv's uv__server_io
// (listener.h says what each failure means on each platform).
#include <cerrno>

#include "loop_core.h"
#include "socket_ops.h"

namespace pn {

AcceptFailure accept_failure_action(int err) {
  switch (err) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
      return AcceptFailure::kDrained;
    case EINTR:
    case ECONNABORTED:  // the peer gave up while queued: nothing to report
      return AcceptFailure::kSkip;
    case EMFILE:
    case ENFILE:
      return kAcceptSheds ? AcceptFailure::kShed : AcceptFailure::kStop;
    case ENOBUFS:
    case ENOMEM:
      // Windows says WSAENOBUFS when it runs out of sockets.
      return kAcceptSheds ? AcceptFailure::kPause : AcceptFailure::kStop;
    case EBADF:
    case EINVAL:
    case ENOTSOCK:
    case EFAULT:
      return AcceptFailure::kStop;  // not a listening socket any more
    default:
      // Network errors passed on from the new connection (EPROTO, EPERM,
      // ENETDOWN...): that connection is gone, the next one may be fine.
      return AcceptFailure::kReport;
  }
}

void LoopCore::listener_adopt(Listener* l) {
  // The spare is taken while descriptors are plentiful (one was just had for
  // the listener). If even that fails, the first shortage tries again.
  if (kAcceptSheds) (void)reserve_.take();
  listener_update(l);
}

void LoopCore::listener_update(Listener* l) {
  int err = set_interest(l, (l->paused || l->dead) ? 0u : static_cast<uint32_t>(kPollReadable));
  if (err == 0) return;
  emit(kEvAcceptError, l, err);
  l->dead = true;
  set_interest(l, 0);
}

void LoopCore::listener_ready(Listener* l) {
  // A budget per wake keeps one busy listener from starving the loop's
  // sockets; connections shed count against it too.
  int budget = kAcceptBudget;
  while (budget > 0) {
    budget--;
    int fd = sock_accept(l->fd);
    if (fd >= 0) {
      Event ev;
      ev.type = kEvConnection;
      ev.slot = l->slot;
      ev.gen = l->gen;
      ev.fd = fd;
      batch_.push_back(ev);
      continue;
    }
    if (!listener_failed(l, -fd, &budget)) return;
  }
}

bool LoopCore::listener_failed(Listener* l, int err, int* budget) {
  switch (accept_failure_action(err)) {
    case AcceptFailure::kDrained:
      // Caught up with the queue. Only now is an fd shortage over: Linux
      // allocates the fd before looking at the queue, so at the limit even
      // an empty queue says EMFILE (a success alone proves nothing).
      l->pause_reported = false;
      return false;
    case AcceptFailure::kSkip:
      return true;
    case AcceptFailure::kShed: {
      int end = listener_shed(l, err, budget);
      // Budget spent with connections still queued: the listener stays
      // armed (level-triggered), the next wake sheds on.
      if (end == 0) return false;
      if (accept_failure_action(end) != AcceptFailure::kShed) return listener_failed(l, end, budget);
      // No spare to give up: what libuv reports too. Wait, as for kPause.
      listener_pause_reported(l, end);
      return false;
    }
    case AcceptFailure::kPause:
      // The pending connection stays queued and the poller keeps saying
      // "readable": accepting again at once would spin.
      listener_pause_reported(l, err);
      return false;
    case AcceptFailure::kStop:
      emit(kEvAcceptError, l, -err);
      l->dead = true;
      listener_update(l);
      return false;
    case AcceptFailure::kReport:
      emit(kEvAcceptError, l, -err);
      return true;
  }
  return false;
}

int LoopCore::listener_shed(Listener* l, int err, int* budget) {
  if (*budget == 0) return 0;  // this wake is spent; the next one sheds
  // Nothing to give up, and still none to be had: the shortage stands.
  if (reserve_.take() != 0) return err;
  reserve_.release();
  // The freed slot takes one connection at a time; closing it at once frees
  // the slot for the next. Another thread may take the slot first (the fd
  // limit is per process): then accept() says EMFILE again and we stop.
  int end = 0;
  while (*budget > 0) {
    (*budget)--;
    int fd = sock_accept(l->fd);
    if (fd >= 0) {
      close_fd(fd);
      continue;
    }
    if (accept_failure_action(-fd) != AcceptFailure::kSkip) {
      end = -fd;
      break;
    }
  }
  // Fails only if the slot was taken meanwhile; the next shortage retries.
  (void)reserve_.take();
  return end;
}

void LoopCore::listener_pause_reported(Listener* l, int err) {
  if (!l->pause_reported) emit(kEvAcceptError, l, -err);
  l->pause_reported = true;
  listener_pause(l, kAcceptRetryMs);
}

void LoopCore::listener_pause(Listener* l, int64_t retry_ms) {
  if (!l->paused) paused_.push_back(l);
  l->paused = true;
  l->retry_at_ms = now_ms() + retry_ms;
  listener_update(l);
}

void LoopCore::run_listener_timers() {
  int64_t now = now_ms();
  size_t keep = 0;
  for (Listener* l : paused_) {
    if (l->retry_at_ms <= now) {
      l->paused = false;
      listener_update(l);
    } else {
      paused_[keep++] = l;
    }
  }
  paused_.resize(keep);
}

}  // namespace pn
