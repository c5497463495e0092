// fd_reserve.h - one descriptor a loop holds back for when the process runs
// out of them, so a listener can still take its backlog off the kernel.
//
// At the descriptor limit accept() fails with EMFILE/ENFILE and leaves the
// connection queued; its client would wait until descriptors free up. With a
// spare descriptor in hand the loop can give it up, accept each waiting
// connection into the freed slot and close it at once (the client sees its
// connection end), then take the spare back. libuv does the same for
// node:net (its loop's emfile_fd); see LoopCore::listener_shed.
//
// Threads: owned by one LoopCore and touched on its loop thread only (and by
// teardown, after that thread is gone).
//
// One per loop, not one per process: each loop sheds on its own thread, and
// a shared spare would need a lock held across close, accept and re-open, and
// could be given up by one loop while another is still counting on it. The
// cost is one descriptor per loop that listens (at most Pool's few loops).
#pragma once

#include "socket_ops.h"

namespace pn {

class FdReserve {
 public:
  FdReserve() = default;
  ~FdReserve() { release(); }
  FdReserve(const FdReserve&) = delete;
  FdReserve& operator=(const FdReserve&) = delete;

  bool held() const { return fd_ >= 0; }
  // Opens the spare unless it is already held. 0, or -errno (-EMFILE when
  // the process is still at its limit; -ENOTSUP where there is no spare to
  // hold, see open_spare_fd).
  int take() {
    if (held()) return 0;
    int fd = open_spare_fd();
    if (fd < 0) return fd;
    fd_ = fd;
    return 0;
  }
  // Keeps `fd` (from open_spare_fd, or -1 for none) as the spare if none is
  // held yet, else closes it: a caller that can run before the loop (the
  // JS thread at listen time) takes the spare early, as libuv does when the
  // handle is made, so filling the table right after listen() cannot beat it.
  void adopt(int fd) {
    if (held()) {
      close_fd(fd);
      return;
    }
    fd_ = fd;
  }
  // Closes the spare (if held), freeing its slot in the descriptor table.
  void release() {
    if (fd_ >= 0) close_fd(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

}  // namespace pn
