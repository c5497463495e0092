// udp.h - state of one UDP socket on a Loop, and the datagrams it sends.
//
// Threads: a Udp belongs to its loop thread (LoopCore owns it from
// kCmdAdoptUdp until kEvClosed). A UdpSend is made on the JS thread, owned
// by its kCmdUdpSend command, then by the loop until its kEvUdpSendDone.
//
// The state machine is small, as libuv's uv_udp_t: the socket is bound (or
// connected) before the loop sees it, so there is no connecting state.
//   reading (recvStart/recvStop): readable interest while JS wants datagrams,
//     unless throttled (too many bytes waiting in the outbox);
//   sending: a FIFO of datagrams, flushed in batches (udp_send_batch) when a
//     drain of commands ends or the socket turns writable; each
//     completes on its own (a datagram's error does not stick, unlike a
//     stream's), kEvUdpSendDone per datagram, in order;
//   closing (kCmdClose): queued datagrams complete with -ECANCELED, then
//     kEvClosed.
//
// A received datagram reaches JS as one kEvUdpMessage whose bytes are a
// header naming the sender, then the payload (the record encoding in
// docs/ARCHITECTURE.md, "Events: loop to JS"):
//   byte 0      address family: 4 or 6
//   byte 1      L: length of the address text
//   bytes 2-3   sender's port, big-endian
//   bytes 4..   the address as text (L bytes, Node's spelling: "::1",
//               "fe80::1%eth0"), then the payload.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "address.h"
#include "handle.h"
#include "loop.h"
#include "platform.h"
#include "socket_ops_udp.h"

namespace pn {

// The header before each datagram's payload (above).
constexpr size_t kUdpHeaderFixed = 4;
constexpr size_t kUdpHeaderMax = kUdpHeaderFixed + kMaxIpLen;

// One datagram to send. `iov` points at memory the caller keeps alive until
// kEvUdpSendDone (JS keeps the chunks); the array itself is owned here. A
// copied datagram (copied > 0, its byte count) carries its bytes in the array
// itself, after the first element: JS saw it sent when it was made, so its
// completion is quiet and a close sends it rather than cancel it.
struct UdpSend {
  IovArray iov;
  uint32_t cnt = 0;
  uint32_t copied = 0;
  bool has_to = false;   // false: the connected peer
  SockAddr to;
};

struct Udp : Handle {
  Udp(int f, uint32_t s, uint32_t g) : Handle(HandleKind::kUdp, f, s, g) {}

  bool reading = false;
  bool throttled = false;  // too many bytes waiting in the outbox: not reading
  // Datagrams were queued by this drain of commands: flushed together once
  // the drain ends (LoopCore::udp_flush_pending), so sends posted together
  // go out in one sendmmsg. Listed in LoopCore::udp_flush_pending_.
  bool flush_pending = false;
  // Runs of datagrams to one destination go as one buffer (udp_send_batch):
  // set on adoption where the socket can (udp_can_segment), cleared for good
  // if the kernel refuses a run.
  bool gso = false;

  // Send queue: a vector with a head index, as Stream's write queue.
  std::vector<UdpSendPtr> sq;
  size_t sq_head = 0;
  bool sq_empty() const { return sq_head == sq.size(); }

  // Outbox accounting (as Stream's; see LoopCore::udp_outbox_load).
  size_t batch_bytes = 0;
  size_t pub_bytes = 0;
  uint64_t pub_epoch = 0;
  bool in_batch = false;  // listed in LoopCore::batch_udps_
};

// The loop's receive scratch: kSlots slices of kSlotBytes each, one datagram
// per slice, filled by one udp_recv_batch call. Allocated on a loop's first
// UDP read; the datagrams are copied out (header first) into the loop's
// shared slab right away, so the scratch is reused by the next call.
struct UdpScratch {
  // 64 KiB as Node's udp_wrap offers libuv: no UDP payload over IPv4 or
  // IPv6 without jumbograms is longer, so nothing is cut short in practice;
  // a longer datagram is delivered cut to this size with no error, as Node.
  static constexpr size_t kSlotBytes = 64 * 1024;
  static constexpr int kSlots = 32;
  std::unique_ptr<char[]> bytes;  // kSlots * slot_bytes
  size_t slot_bytes = kSlotBytes;
  // The text of the last sender's address: a flood or a stream of game
  // inputs comes from few peers, and formatting an address each time cost
  // more than comparing it (udp_read).
  SockAddr last_from;  // len 0: none yet
  char last_ip[kMaxIpLen] = {};
  size_t last_iplen = 0;
  int last_port = 0;
  int last_family = 0;
};

}  // namespace pn
