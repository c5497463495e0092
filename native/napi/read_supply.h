// read_supply.h - buffers the JS engine allocated, lent to the loops for big
// reads (read_slab.h "lent slabs").
//
// Why: a read handed to JS as an external buffer costs V8 a weak global
// handle, which keeps the buffer alive through every young-generation
// collection; a bulk stream then builds up "external memory pressure" that
// only full mark-compact collections relieve (measured: 9 to 11 of them per
// GiB received, against none for node:net, whose read buffers the JS engine
// allocates itself). A buffer made with napi_create_buffer is plain JS memory:
// when JS drops it, a scavenge frees it.
//
// The JS thread keeps a few such Buffers ready (strong napi_refs, so they
// cannot go away while a loop holds them); a loop takes one for one whole read
// of a streaming socket; the bridge hands that Buffer to JS as it is and drops
// its ref. A buffer taken but not read into comes back to the spares.
#pragma once

#include <node_api.h>

#include <mutex>
#include <vector>

#include "read_slab.h"

namespace pn {

class ReadSupply {
 public:
  // Loop threads (a SlabSource, with the ReadSupply as ctx): a spare slab,
  // holding the taker's reference, or null.
  static ReadSlab* take(void* supply);

  // JS thread: drops the refs of slabs every holder has released, and tops
  // the spares up to `want`. Called once per delivered batch.
  void tend(napi_env env, size_t want);

  // JS thread: whether `s` is one of ours, and its Buffer (the whole slab).
  static bool owns(const ReadSlab* s) { return s->give_back == &ReadSupply::give_back; }
  static napi_value buffer(napi_env env, const ReadSlab* s);

  // JS thread, once no loop runs any more: drops every ref and slab.
  void clear(napi_env env);

 private:
  static void give_back(ReadSlab* s);  // any thread: the last release of a slab
  void drop(napi_env env, ReadSlab* s);

  std::mutex mu_;
  std::vector<ReadSlab*> spare_;     // guarded by mu_: ready for a loop
  std::vector<ReadSlab*> released_;  // guarded by mu_: read into, released by all
  std::vector<ReadSlab*> scratch_;   // JS thread only
};

}  // namespace pn
