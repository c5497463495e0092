// pool.h - the I/O threads.
//
// A fixed set of Loops started together. The JS side picks the loop for each
// new handle (round robin) and remembers it, so a command always goes straight
// to the loop that owns the handle with no shared lookup table.
#pragma once

#include <memory>
#include <vector>

#include "loop.h"

namespace pn {

// Cores the OS has online (at least 1).
int online_cpus();

class Pool {
 public:
  // Number of loops to start: PROTONET_IO_THREADS if set to 0..64 (0: no
  // I/O thread, one loop driven by the host's event loop), else a
  // default for the machine's core count (one loop per two cores, at least 1,
  // at most 4: the JS thread needs a core of its own).
  static int default_size();
  // Whether PROTONET_IO_THREADS holds a valid count (default_size() then
  // returns it rather than the machine's default).
  static bool size_from_env();

  ~Pool();
  // 0 or -errno (nothing left running); see Loop::start.
  int start(int n, Loop::Doorbell bell, void* ctx, SlabSource slabs = nullptr);
  // One loop and no thread: the caller drives loop(0) (Loop::start_driven).
  int start_driven(Loop::Doorbell bell, void* ctx, SlabSource slabs = nullptr,
                   Loop::Doorbell waker = nullptr);
  void stop();                                       // stops and joins every loop
  int size() const { return static_cast<int>(loops_.size()); }
  Loop& loop(int i) { return *loops_[i]; }

 private:
  // Makes a Loop, starts it with `start(loop)` (0 or -errno) and keeps it.
  template <typename Start>
  int add_loop(Start start);

  std::vector<std::unique_ptr<Loop>> loops_;
};

}  // namespace pn
