// listener.h - a listening socket on a Loop.
#pragma once

#include <cstdint>

#include "handle.h"

namespace pn {

struct Listener : Handle {
  Listener(int f, uint32_t s, uint32_t g) : Handle(HandleKind::kListener, f, s, g) {}

  // Out of fds (EMFILE/ENFILE) or memory: accepting again at once would spin,
  // so the listener leaves the poller until retry_at_ms (monotonic).
  bool paused = false;
  int64_t retry_at_ms = 0;
  // The pause error is reported once per episode (until accept() says EAGAIN
  // again), not on every retry.
  bool pause_reported = false;
  // accept() failed in a way that will never heal (EBADF, EINVAL...).
  bool dead = false;
};

}  // namespace pn
