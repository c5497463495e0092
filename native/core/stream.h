// stream.h - state of one connected (or connecting) stream socket (TCP or Unix) on a Loop.
//
// The state machine, in the order things happen:
//   connecting --SO_ERROR 0--> connected --read 0--> eof (reads over, writes go on)
//              --SO_ERROR e--> failed (fd stays open until kCmdClose)
// Reading is a wish (reading, from readStart/readStop) gated by eof, a read
// error and outbox backpressure (throttled). Writing is a FIFO of requests,
// flushed with one sendmsg gathering several requests; the first error sticks.
#pragma once

#include "platform.h"

#include <cstddef>
#include <cstdint>
#include <vector>

#include "handle.h"
#include "loop.h"

namespace pn {

struct WriteReq {
  IovArray iov;  // from the kCmdWrite; advanced in place
  uint32_t cnt;
  uint32_t idx;  // first iovec not fully written
  uint32_t copied;  // Command::copied, echoed in kEvWriteDone's len
};

struct Stream : Handle {
  Stream(int f, uint32_t s, uint32_t g) : Handle(HandleKind::kStream, f, s, g) {}

  bool connecting = false;
  bool connected = false;
  bool reading = false;      // JS wants data (readStart)
  bool eof = false;          // read() gave 0: no more reads, ever
  bool read_failed = false;  // read() gave an error: no more reads
  bool streaming = false;    // the last read was big (LoopCore::kWholeReadMin)
  bool throttled = false;    // too many bytes waiting in the outbox
  size_t outbox_cap = Loop::kOutboxInitialBytes;  // grows while JS keeps up
  bool stalled = false;      // error/hang-up reported but nothing to do: off the poller
                             // until the next command for this socket
  int write_err = 0;         // first write error (or connect error); sticky
  uint32_t shutdowns = 0;    // kCmdShutdown waiting for the write queue to drain

  // Write queue: a vector with a head index, so steady state never allocates.
  std::vector<WriteReq> wq;
  size_t wq_head = 0;
  bool wq_empty() const { return wq_head == wq.size(); }

  // Outbox accounting for backpressure (see LoopCore::outbox_load).
  size_t batch_bytes = 0;   // kEvData bytes in this iteration's unpublished batch
  size_t pub_bytes = 0;     // kEvData bytes published while the outbox epoch was pub_epoch
  uint64_t pub_epoch = 0;
  bool in_batch = false;    // listed in LoopCore::batch_streams_
};

}  // namespace pn
