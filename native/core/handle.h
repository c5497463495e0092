// handle.h - what a Loop keeps per (slot, gen): the base of Stream, Listener and Udp.
#pragma once

#include <cstdint>
#include <memory>

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

// Deletes a Handle as what it is (Stream or Listener, by kind): handles have
// no virtual destructor, as they have no virtual calls (loop.cc).
struct HandleDeleter {
  void operator()(Handle* h) const;
};
// A loop's ownership of one handle.
using HandlePtr = std::unique_ptr<Handle, HandleDeleter>;

// A handle's id as its poller registration carries it: (gen, slot) in one
// 64-bit token, never a pointer. Generations are below 2^31 (JS's int32
// records), so no handle's token is the poller's own kPollWakeToken.
inline uint64_t handle_token(uint32_t slot, uint32_t gen) {
  return (static_cast<uint64_t>(gen) << 32) | slot;
}

// The live handle a poller event names, or null when the event outlived it
// (its slot is empty, or holds a newer generation): such an event is dropped.
template <class Handles>
Handle* handle_for_token(const Handles& handles, uint64_t token) {
  auto it = handles.find(static_cast<uint32_t>(token));
  if (it == handles.end() || it->second->gen != static_cast<uint32_t>(token >> 32)) return nullptr;
  return it->second.get();
}

}  // namespace pn
