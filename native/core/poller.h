// poller.h - readiness notification, one backend per platform.
//
// Level-triggered with explicit interest masks, like Redis's ae.h: the loop
// says what it wants (READABLE while JS wants data, WRITABLE only while a write
// queue is non-empty or a connect is pending) and wait() reports what is ready.
// Exactly one backend .cc is compiled per platform (poller_epoll.cc on Linux);
// there are no virtual calls.
#pragma once

#include <cstdint>

namespace pn {

enum PollFlags : uint32_t {
  kPollReadable = 1u << 0,
  kPollWritable = 1u << 1,
  // The peer sent FIN (EPOLLRDHUP / EV_EOF / AFD_POLL_DISCONNECT). Reported
  // apart from readability so a half-closed socket is told from a readable one;
  // data may still be queued before the EOF.
  kPollPeerClosed = 1u << 2,
  // Error or full hang-up (EPOLLERR / EPOLLHUP): always reported, not maskable.
  kPollError = 1u << 3,
};

struct PollEvent {
  void* data;       // what add()/modify() registered
  uint32_t events;  // PollFlags
};

class Poller {
 public:
  Poller() = default;
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  int init();  // 0 or -errno; also sets up the wake-up source
  // Any thread: makes a wait() in progress (or the next one) return. Cheap to
  // call when already woken (the backends coalesce: an eventfd counter, an
  // EVFILT_USER trigger, one completion packet). The wake-up itself is consumed
  // inside wait() and never reported as an event.
  void wake();
  // `interest` is a mask of kPollReadable | kPollWritable (peer-closed is
  // watched together with readable). An fd with interest 0 stays registered
  // but reports only errors/hang-ups.
  int add(int fd, uint32_t interest, void* data);
  int modify(int fd, uint32_t interest, void* data);
  int remove(int fd);
  // Waits up to timeout_ms (-1 forever, 0 poll). Returns the number of events
  // written to `out` (at most `max`), or -errno (never -EINTR: that is 0).
  int wait(PollEvent* out, int max, int timeout_ms);

 private:
  int fd_ = -1;       // epoll / kqueue descriptor
  int wake_fd_ = -1;  // epoll: the eventfd that wake() writes
};

}  // namespace pn
