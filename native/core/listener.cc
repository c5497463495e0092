// listener.cc - accept() on a listening socket, like libuv's uv__server_io.
#include <cerrno>

#include "loop_core.h"
#include "socket_ops.h"

namespace pn {

void LoopCore::listener_adopt(Listener* l) { listener_update(l); }

void LoopCore::listener_update(Listener* l) {
  int err = set_interest(l, (l->paused || l->dead) ? 0u : static_cast<uint32_t>(kPollReadable));
  if (err == 0) return;
  emit(kEvAcceptError, l, err);
  l->dead = true;
  set_interest(l, 0);
}

void LoopCore::listener_ready(Listener* l) {
  // A budget per wake keeps one busy listener from starving the loop's sockets.
  for (int i = 0; i < kAcceptBudget; i++) {
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
    int err = -fd;
    switch (err) {
      case EAGAIN:
#if EWOULDBLOCK != EAGAIN
      case EWOULDBLOCK:
#endif
        // Caught up with the queue. Only now is an fd shortage over: Linux
        // allocates the fd before looking at the queue, so at the limit even
        // an empty queue says EMFILE (a success alone proves nothing).
        l->pause_reported = false;
        return;
      case EINTR:
      case ECONNABORTED:  // the peer gave up while queued: nothing to report
        continue;
      case EMFILE:
      case ENFILE:
      case ENOBUFS:
      case ENOMEM:
        // The pending connection stays queued and epoll keeps saying
        // "readable": accepting again at once would spin. Report once, then
        // leave the poller and retry after a pause.
        if (!l->pause_reported) emit(kEvAcceptError, l, -err);
        l->pause_reported = true;
        listener_pause(l, kAcceptRetryMs);
        return;
      case EBADF:
      case EINVAL:
      case ENOTSOCK:
      case EFAULT:
        // Not a listening socket any more: this will never heal.
        emit(kEvAcceptError, l, -err);
        l->dead = true;
        listener_update(l);
        return;
      default:
        // Network errors passed on from the new connection (EPROTO, EPERM,
        // ENETDOWN...): that connection is gone, the next one may be fine.
        emit(kEvAcceptError, l, -err);
        continue;
    }
  }
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
