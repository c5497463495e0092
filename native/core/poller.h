// poller.h - readiness notification, one backend per platform.
//
// Level-triggered with explicit interest masks, like Redis's ae.h: the loop
// says what it wants (READABLE while JS wants data, WRITABLE only while a write
// queue is non-empty or a connect is pending) and wait() reports what is ready.
// Exactly one backend .cc is compiled per platform (poller_epoll.cc on Linux);
// there are no virtual calls.
#pragma once

#include <cstdint>

#ifdef _WIN32
#include <atomic>
#include <unordered_map>
#include <vector>
#endif

namespace pn {

enum PollFlags : uint32_t {
  kPollReadable = 1u << 0,
  kPollWritable = 1u << 1,
  // The peer sent FIN (EPOLLRDHUP / EV_EOF / AFD_POLL_DISCONNECT). Reported
  // apart from readability so a half-closed socket is told from a readable one;
  // data may still be queued before the EOF. Only with readable interest, and
  // always together with kPollReadable (a read then returns data or 0).
  kPollPeerClosed = 1u << 2,
  // Error or full hang-up (EPOLLERR / EPOLLHUP, EV_EOF with an error): not
  // maskable while any interest is set.
  kPollError = 1u << 3,
};
// What every backend guarantees (test/native/poller_test.cc pins it):
//  - level-triggered: a condition is reported by every wait() until it ends;
//  - at most ONE PollEvent per registered fd per wait(), its flags merged
//    (kqueue's separate READ/WRITE kevents are folded into one);
//  - a peer reset (RST) reaches a reader as kPollError, or as kPollPeerClosed
//    with kPollReadable (epoll and kqueue give all three); the read that
//    follows returns -ECONNRESET. A writer sees kPollWritable or kPollError
//    and the send or SO_ERROR that follows names the failure (also how a
//    refused connect shows);
//  - interest 0 reports nothing for a healthy socket. Whether it still
//    reports errors is backend-specific (epoll: yes; kqueue: no filter is
//    armed), so callers must not rely on it: the loop remove()s instead.

// What a registration is known by: an opaque 64-bit value the caller picks
// (a Loop passes its handle's (slot, gen) id, never a pointer, so an event
// that outlived its handle names a generation that is gone and is dropped).
// kPollWakeToken is the backends' own (the wake-up source) and never reported.
using PollToken = uint64_t;
constexpr PollToken kPollWakeToken = ~PollToken{0};

struct PollEvent {
  PollToken token;  // what add()/modify() registered
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
  // (modify() can re-arm it) but see above on what it reports. remove()
  // before closing the fd.
  int add(int fd, uint32_t interest, PollToken token);
  int modify(int fd, uint32_t interest, PollToken token);
  int remove(int fd);
  // Waits up to timeout_ms (-1 forever, 0 poll). Returns the number of events
  // written to `out` (at most `max`), or -errno (never -EINTR: that is 0).
  int wait(PollEvent* out, int max, int timeout_ms);
  // A descriptor that polls readable while wait() has something to report
  // (events or a wake-up), for nesting this poller in another event loop
  // (Loop::start_driven); -1 where there is none (IOCP).
  int pollable_fd() const;

 private:
#ifdef _WIN32
  // poller_iocp.cc: a completion port, one \Device\Afd handle that every
  // AFD poll request goes through, and each socket's poll in flight.
  struct Sock;
  static bool reap(Sock* s);
  int arm(Sock* s);
  void queue(Sock* s);
  // Adds s's events to this wait's output, merged with an entry it already
  // has there (a named pipe can be ready at re-arm and by a completion).
  void report(Sock* s, uint32_t events, PollEvent* out, int* k, int max);
  void* iocp_ = nullptr;  // HANDLE
  void* afd_ = nullptr;   // HANDLE
  std::unordered_map<int, Sock*> socks_;
  std::vector<Sock*> rearm_;      // to (re-)submit at the next wait()
  int in_flight_ = 0;             // polls submitted and not yet completed
  std::atomic<bool> woken_{false};  // a wake-up packet is queued
  uint64_t wait_no_ = 0;            // counts wait() calls, for report()
#else
  int fd_ = -1;       // epoll / kqueue descriptor
  int wake_fd_ = -1;  // epoll: the eventfd that wake() writes; kqueue without
                      // EVFILT_USER (OpenBSD): the wake-up pipe's write end
  [[maybe_unused]] int wake_rd_ = -1;  // kqueue without EVFILT_USER: the pipe's read end
#endif
};

}  // namespace pn
