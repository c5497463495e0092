// write_offload.h - where the bridge sends writes and datagrams that leave
// the JS thread (WriteBurst in instance.h says which ones do), shared by
// stream writes (handles.cc) and UDP sends (udp_handles.cc).
//
// Threads: JS thread only. The memory handed over is a copy the command owns
// (iov_copy, loop.h), so JS may reuse its buffers at once: for JS such a write or
// datagram completed when it was made, as one the kernel took at once.
#pragma once

#include <cstddef>
#include <cstdint>

#include "instance.h"
#include "platform.h"

namespace pn {

// The loop that takes this socket's queued writes or datagrams and its
// shutdown: the writer while the ones in flight are there, else the socket's
// own loop.
Loop& write_loop(Instance* inst, const SlotInfo& s);

// Where a burst's write goes when nothing of this socket is in flight: with
// I/O threads, the socket's own loop; with a driven loop (no other thread),
// the writer, started on first use, the fd lent to it once with `adopt_type`
// (kCmdAdoptWriter for a stream, kCmdAdoptUdpWriter for UDP). Sets
// writes_at_writer. False when there is nowhere to go (the writer cannot
// start): then the JS thread writes itself.
bool route_burst(Instance* inst, uint32_t slot, SlotInfo& s, int32_t adopt_type);

// kCmdClose for a socket: through the writer first when the fd was lent to
// it (the writer sends or cancels what it holds and answers kEvReleased; the
// bridge then closes the socket on its own loop: bridge.cc), so nothing of
// the writer's can reach the fd after the owner closed it.
void post_close(Instance* inst, const SlotInfo& s, uint32_t slot);

// Waits, at most `wait_ms` per loop, until every loop on a thread of its own
// (the I/O threads, the writer) has handled what was posted to it: the copied
// writes and datagrams sent, or queued behind a full socket buffer. For the
// process's 'exit': for JS those were sent when the call returned, and not
// every runtime stops the loops (which sends them) before the process ends.
// Returns how many loops answered.
int flush_copied(Instance* inst, int wait_ms);

}  // namespace pn
