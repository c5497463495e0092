// loop.h - one I/O thread: a poller, a wake-up, a command queue and an outbox.
//
// The JS thread never touches a socket the loop owns except through the
// one-shot calls in socket_ops.h. Everything else is a Command posted here;
// the loop's answers are Events collected in an outbox, which the bridge takes
// as a whole (take_events) after the loop rings the doorbell. The doorbell rings
// only when the outbox goes from empty to non-empty, so a busy JS thread gets
// one call per batch, not one per event.
//
// Handles are named by (slot, gen): the JS side allocates them and never reuses
// a slot with the same generation, so a command or event for a closed handle is
// recognised by its stale generation and dropped.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <memory>
#include <vector>

#include "platform.h"
#include "poller.h"
#include "read_slab.h"

namespace pn {

enum EventType : int32_t {
  kEvConnect = 1,       // status: 0 or -errno of the non-blocking connect
  kEvData = 2,          // data/len: bytes read, inside `slab` (its reference moves with the event)
  kEvEof = 3,           // peer sent FIN and every byte before it was delivered
  kEvReadError = 4,     // status: -errno of a failed read (ECONNRESET...); reading stopped
  kEvWriteDone = 5,     // status: 0 or -errno; one per CmdWrite, in order;
                        // len: the command's `copied` (when non-zero the event
                        // is quiet: it rings no doorbell by itself)
  kEvShutdownDone = 6,  // status: 0 or -errno; after every earlier write completed
  kEvConnection = 7,    // listener accepted `fd` (ownership moves with the event)
  kEvAcceptError = 8,   // status: -errno from accept() that is not transient
  kEvClosed = 9,        // the handle's fd is closed; the last event for (slot, gen)
  kEvReleased = 10,     // a kCmdAdoptWriter/kCmdAdoptUdpWriter handle is gone (kCmdClose); its fd stays open
  // --- UDP (udp.h) ---
  kEvUdpMessage = 11,    // data/len/slab as kEvData: a header naming the sender,
                         // then the payload (udp.h); status: 0
  kEvUdpRecvError = 12,  // status: -errno of a failed receive (ECONNREFUSED...);
                         // reading goes on, as libuv's
  kEvUdpSendDone = 13,   // status: 0 or -errno; one per kCmdUdpSend, in order;
                         // len: the datagram's `copied` (non-zero: quiet, as
                         // a copied kEvWriteDone)
};

struct Event {
  int32_t type = 0;
  uint32_t slot = 0;
  uint32_t gen = 0;
  int32_t status = 0;
  int32_t fd = -1;       // kEvConnection
  uint32_t len = 0;      // kEvData
  char* data = nullptr;  // kEvData: `len` bytes inside `slab`
  ReadSlab* slab = nullptr;  // kEvData: one reference, released by the consumer
};

// Frees what an event owns (its slab reference, or an accepted fd) when it
// will not be delivered, e.g. at teardown.
void discard_event(Event& ev);

enum CommandType : int32_t {
  kCmdAdoptConnecting = 1,  // fd from stream_connect_start; answer kEvConnect
  kCmdAdoptConnected = 2,   // accepted fd; `flag` = start reading at once
  kCmdAdoptListener = 3,    // fd from stream_listen; accept and post kEvConnection.
                            // spare_fd (or -1): from open_spare_fd, taken by the
                            // caller at listen time; the loop keeps it as its
                            // spare (fd_reserve.h) if it has none yet, else closes it
  kCmdReadStart = 4,
  kCmdReadStop = 5,
  kCmdWrite = 6,            // iov/iovcnt: caller keeps the memory alive until kEvWriteDone
                            // (`copied`: a tag echoed in that event's len)
  kCmdShutdown = 7,         // FIN after queued writes; answer kEvShutdownDone
  kCmdClose = 8,            // cancel queued writes (kEvWriteDone -ECANCELED each,
                            // kEvShutdownDone -ECANCELED if pending), close fd, kEvClosed
  kCmdStop = 9,             // internal: end the thread
  kCmdAdoptWriter = 10,     // fd is another loop's connected socket, lent for
                            // writing only: this loop writes and shuts down,
                            // never reads or closes it; kCmdClose cancels its
                            // queued writes and answers kEvReleased (not kEvClosed)
  // --- UDP (udp.h); kCmdReadStart/kCmdReadStop/kCmdClose apply too ---
  kCmdAdoptUdp = 11,        // fd: a bound (maybe connected) UDP socket
  kCmdUdpSend = 12,         // udp_send: one datagram; answer kEvUdpSendDone
  kCmdAdoptUdpWriter = 13,  // fd is another loop's UDP socket, lent for sending
                            // only: this loop sends, never reads or closes it;
                            // kCmdClose sends what was copied (UdpSend::copied),
                            // cancels the rest and answers kEvReleased
  kCmdFence = 14,           // internal: Loop::fence() waits for it
};

// A kCmdWrite's iovec array (new[]'d): owned by the command, then by the
// loop's write queue, freed when the write completes, fails or is cancelled.
using IovArray = std::unique_ptr<iovec[]>;

// A copy of the `total` bytes of iov[0..n) as one IovArray: a single iovec
// whose bytes follow it in the same allocation, so whoever frees the array
// frees the bytes (a write or datagram the bridge copied: nobody else keeps
// its memory alive).
IovArray iov_copy(const iovec* iov, uint32_t n, size_t total);

// A kCmdUdpSend's datagram (udp.h), owned by the command until the loop
// queues it. The deleter is in udp.cc, where UdpSend is complete.
struct UdpSend;
struct UdpSendDeleter {
  void operator()(UdpSend* s) const;
};
using UdpSendPtr = std::unique_ptr<UdpSend, UdpSendDeleter>;

// Move-only: a command owns what it carries (an iovec array, an fd to adopt)
// until a loop takes it, or discards it (fds closed, arrays freed).
struct Command {
  Command() = default;
  Command(Command&&) = default;
  Command& operator=(Command&&) = default;
  Command(const Command&) = delete;
  Command& operator=(const Command&) = delete;

  int32_t type = 0;
  uint32_t slot = 0;
  uint32_t gen = 0;
  int32_t fd = -1;
  bool flag = false;
  IovArray iov;          // kCmdWrite: the array; the loop takes it
  uint32_t iovcnt = 0;
  uint32_t copied = 0;   // kCmdWrite: echoed in its kEvWriteDone (the bridge's
                         // count of bytes it copied into the iov array itself).
                         // Non-zero: nobody waits for the completion, so it
                         // waits in the outbox for the next take instead of
                         // ringing the doorbell (Loop::take_quiet)
  int32_t spare_fd = -1;  // kCmdAdoptListener: owned by the command, like fd
  UdpSendPtr udp_send;   // kCmdUdpSend: the datagram; the loop takes it
};

class LoopCore;  // loop_core.h: the implementation, private to native/core

// How a loop thread's waits for readiness ended (see LoopCore::spin_poll):
// caught by busy polling, or by sleeping in the poller. Counted since start.
struct WaitStats {
  uint64_t spun = 0;   // readiness (or a command) arrived while spinning
  uint64_t slept = 0;  // the loop slept in the poller (after a spin, or none)
};

class Loop {
 public:
  using Doorbell = void (*)(void* ctx);

  Loop() = default;
  ~Loop();  // stops the thread if running
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Starts the thread. `bell(ctx)` is called from the loop thread whenever the
  // outbox goes from empty to non-empty. `slabs(ctx)`, if given, lends a slab
  // for one whole read of a socket that is streaming (read_slab.h); without
  // one, or when it has none, reads go into the loop's own shared slabs.
  // Returns 0 or -errno.
  int start(Doorbell bell, void* ctx, SlabSource slabs = nullptr);
  // Starts without a thread of its own: the caller runs the loop on its
  // thread (in Node, the JS thread's libuv loop: napi/driven_loop.cc) by
  // calling run_once() whenever poll_fd() polls readable or
  // driven_timeout_ms() has passed. Everything else works as with start().
  // 0, -errno, or -ENOTSUP where the poller cannot be nested (IOCP).
  //
  // `waker(ctx)`, if given, replaces the poller's own wake-up (a syscall and
  // a readable poll_fd()) for telling the driver that run_once() is due
  // because of a post() or take(): the driver then schedules the run itself
  // (in Node: a libuv idle handle, so commands posted by one callback run
  // before the event loop next blocks, for free). Only with a waker, post()
  // and take_events() must come from the driving thread.
  int start_driven(Doorbell bell, void* ctx, SlabSource slabs = nullptr, Doorbell waker = nullptr);
  bool driven() const;
  // Driven loops only, on the driving thread.
  int poll_fd() const;          // readable while run_once() has work
  void run_once();              // commands, ready sockets, publish; never blocks
  int driven_timeout_ms();      // -1, or when run_once() is due anyway (listener retry)
  // Stops and joins the thread, closes every fd it owns, discards pending
  // commands and events. Safe to call twice. Any thread but the loop's own
  // (a driven loop: its driving thread, outside run_once()).
  void stop();

  // Any thread. Never blocks on I/O; wakes the loop only if it is sleeping.
  // The loop takes the commands (moved from).
  void post(Command&& cmd);
  void post(Command* cmds, size_t n);

  // Any thread (the bridge's JS thread): moves every pending event into `out`
  // (appended, in order) and lets throttled sockets read again.
  void take_events(std::vector<Event>& out);
  // The same, but only when no doorbell is pending, i.e. the outbox holds
  // quiet events alone (kEvWriteDone of copied writes), which a caller that
  // cannot deliver events right now may take and account for. False if it
  // took nothing.
  bool take_quiet(std::vector<Event>& out);

  // Any thread but the loop's own; threaded loops only (false for a driven
  // one): waits up to `timeout_ms` until the loop has handled every command
  // posted before this call and sent what they queued as far as the kernel
  // takes it without waiting. True if it has. For a process that is exiting
  // (napi/udp_handles.cc): what JS saw sent must have gone out.
  bool fence(int timeout_ms);

  // Any thread: how this loop's waits ended so far (threaded loops only;
  // a driven loop never waits).
  WaitStats wait_stats() const;

  // Per-socket cap on bytes sitting in the outbox; above it the socket stops
  // reading until the outbox is taken, so JS memory stays bounded. The cap
  // starts at kOutboxInitialBytes and doubles each time JS takes the outbox
  // while the socket keeps reading (a bulk flow earns big batches), up to
  // kOutboxBytesPerSocket; kCmdReadStop (JS's buffer is full) resets it, so a
  // paused reader holds little more than one small batch. Two wakes' reads
  // (kReadBudget) fit under the cap: with a budget and a cap of 256 and
  // 512 KiB, bulk receive was 3-6% slower in every runtime (bench/ab.js,
  // 2 GiB runs), with more wake-ups per byte.
  static constexpr size_t kOutboxBytesPerSocket = 1024 * 1024;
  static constexpr size_t kOutboxInitialBytes = 64 * 1024;
  // Per-socket, per-wake read budget (fairness between sockets).
  static constexpr size_t kReadBudget = 512 * 1024;
  // A UDP socket's fixed outbox cap: datagrams JS has not taken yet; above
  // it the kernel's receive buffer holds (or drops) what comes, as it would
  // for a slow node:dgram.
  static constexpr size_t kUdpOutboxBytes = 512 * 1024;

 private:
  // Implementation state (poller, wake-up fd, command queue, outbox, the
  // handles this loop owns keyed by slot) is the implementer's to shape;
  // only the public interface above is the contract with the bridge.
  //
  // Kept behind a pointer so the bridge never compiles against it. It lives
  // from start() to the destructor, so post() after stop() is still safe (the
  // command is discarded: adopted fds closed, iov arrays freed). A plain
  // owning pointer (deleted in ~Loop) because `Loop() = default` is inline and
  // LoopCore is incomplete here.
  LoopCore* core_ = nullptr;
  // start() and start_driven(): the same set-up, with or without a thread.
  int start_core(Doorbell bell, void* ctx, SlabSource slabs, bool driven, Doorbell waker);
};

}  // namespace pn
