// read_slab.h - reference-counted read buffers shared by several reads.
//
// A loop reads into the free tail of its current slab, so consecutive reads
// (of any of its sockets) pack into one allocation with no copy on the I/O
// thread. Each kEvData event holds a reference on the slab its bytes live in;
// whoever consumes the event (the bridge, or discard_event) releases it, from
// any thread. A slab is freed when the loop has moved on to a new one and
// every event in it has been released.
//
// A slab may also be lent by whoever consumes the events (the bridge lends
// buffers the JS engine allocated, so a big read lands where JS will see it
// with no copy and nothing for the garbage collector to track): then its
// bytes are not the slab's own, and the last release hands it back to the
// lender instead of freeing it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace pn {

struct ReadSlab {
  std::atomic<uint32_t> refs{1};  // the loop's own reference, plus one per event
  size_t used = 0;
  size_t size = 0;
  char* data = nullptr;  // `size` bytes: right after this header, or the lender's
  // Lent slabs only: called (any thread) on the last release instead of free.
  void (*give_back)(ReadSlab*) = nullptr;
  void* lender = nullptr;  // the lender's own
  void* token = nullptr;   // the lender's own
  char* bytes() { return data; }
};

// A source of lent slabs for a loop (may return null: none to spare).
using SlabSource = ReadSlab* (*)(void* ctx);

// A slab with `size` bytes of room, holding the caller's reference; null
// when out of memory.
ReadSlab* slab_new(size_t size);
void slab_ref(ReadSlab* s);
// Drops one reference; on the last, frees the slab or gives it back to its lender.
void slab_release(ReadSlab* s);

}  // namespace pn
