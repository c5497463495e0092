// handle.h - what a Loop keeps per (slot, gen): the base of Stream, Listener and Udp.
#pragma once

#include <cstdint>

namespace pn {

enum class HandleKind : uint8_t { kStream, kListener, kUdp };

struct Handle {
  Handle(HandleKind k, int f, uint32_t s, uint32_t g) : kind(k), fd(f), slot(s), gen(g) {}

  HandleKind kind;
  int fd;
  uint32_t slot;
  uint32_t gen;
  // What the poller has for this fd. Interest 0 means "not registered at all":
  // a level-triggered EPOLLHUP on an fd nobody listens to would spin the loop.
  uint32_t interest = 0;
  bool registered = false;
  // The fd belongs to another loop (kCmdAdoptWriter): never read, never closed here.
  bool borrowed = false;
};

}  // namespace pn
