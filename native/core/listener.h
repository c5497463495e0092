// listener.h - a listening socket on a Loop, and what its accept() failures
// mean on this platform.
//
// Threads: a Listener belongs to its loop thread (LoopCore owns it from
// kCmdAdoptListener until kEvClosed); accept_failure_action() is pure.
//
// Out of descriptors (EMFILE/ENFILE), as node:net behaves through libuv:
//   - POSIX: the loop sheds the backlog with its spare descriptor
//     (fd_reserve.h): each waiting connection is accepted and closed at once,
//     nothing is reported, and the listener stays armed, so it serves again
//     as soon as descriptors free up. Only when there is no spare to give up
//     (it could not be opened, or another thread took its slot) is the error
//     reported (node:net's server then emits 'error', syscall 'accept'); the
//     listener then leaves the poller and retries on a timer instead of
//     spinning on a backlog it cannot take.
//   - Windows: no spare (socket_ops.h: open_spare_fd). As libuv's Windows
//     side, which stops accepting when it cannot create the socket for the
//     next connection, the error is reported and the listener stops.
#pragma once

#include <cstdint>

#include "handle.h"

namespace pn {

struct Listener : Handle {
  Listener(int f, uint32_t s, uint32_t g) : Handle(HandleKind::kListener, f, s, g) {}

  // Out of fds with no spare to shed with, or out of memory: accepting again
  // at once would spin, so the listener leaves the poller until retry_at_ms
  // (monotonic).
  bool paused = false;
  int64_t retry_at_ms = 0;
  // The pause error is reported once per episode (until accept() says EAGAIN
  // again), not on every retry.
  bool pause_reported = false;
  // accept() failed in a way that will never heal (EBADF, EINVAL...), or
  // (Windows) ran out of sockets: off the poller for good.
  bool dead = false;
};

// What the listener does after accept() failed with `err` (a positive errno).
enum class AcceptFailure {
  kDrained,  // EAGAIN: the backlog is empty; an fd shortage is over
  kSkip,     // that connection is gone (ECONNABORTED, EINTR): try the next
  kShed,     // out of descriptors: shed the backlog with the spare (POSIX)
  kPause,    // out of memory: report once, retry on a timer
  kStop,     // the listener is broken (or Windows is out of sockets): report, stop
  kReport,   // a network error passed on from one connection: report, go on
};
AcceptFailure accept_failure_action(int err);

// Whether this platform sheds (kShed happens), so a loop that listens should
// hold a spare descriptor.
#ifdef _WIN32
constexpr bool kAcceptSheds = false;
#else
constexpr bool kAcceptSheds = true;
#endif

}  // namespace pn
