// read_slab.h - reference-counted read buffers shared by several reads.
//
// A loop reads into the free tail of its current slab, so consecutive reads
// (of any of its sockets) pack into one allocation with no copy on the I/O
// thread. Each kEvData event holds a reference on the slab its bytes live in;
// whoever consumes the event (the bridge, or discard_event) releases it, from
// any thread. A slab is freed when the loop has moved on to a new one and
// every event in it has been released.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace pn {

struct ReadSlab {
  std::atomic<uint32_t> refs{1};  // the loop's own reference, plus one per event
  size_t used = 0;
  size_t size = 0;
  char* bytes() { return reinterpret_cast<char*>(this + 1); }
};

// A slab with `size` bytes of room, holding the caller's reference; null
// when out of memory.
ReadSlab* slab_new(size_t size);
void slab_ref(ReadSlab* s);
// Drops one reference; frees the slab on the last.
void slab_release(ReadSlab* s);

}  // namespace pn
