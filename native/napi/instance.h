// instance.h - per-environment state of the addon.
//
// One Instance per Node-API environment (main thread, each worker, each
// Deno/Bun realm): its own I/O threads, its own doorbell and its own view of
// the handles JS opened. Only the JS thread of that environment touches the
// fields below, except `pool` (whose loops run their own threads) and `tsfn`
// (called from loop threads through the doorbell).
#pragma once

#include <node_api.h>

#include <chrono>
#include <climits>
#include <cstdint>
#include <memory>
#include <vector>

#include "address.h"
#include "loop.h"
#include "pool.h"
#include "read_supply.h"

namespace pn {

// What the bridge knows of a handle JS opened, indexed by JS's slot number.
//
// The fd rule: the JS thread may make one-shot calls on `fd` (names, options,
// the try-write, shutdown) only while the handle is live: open and not
// closing, which Instance::live() checks and every function of handles.cc
// that touches an fd goes through. A loop closes the fd while it handles
// kCmdClose, which JS posts right after setting `closing`: from then on the
// number may already be closed and reused by another socket, long before
// kEvClosed reaches JS and frees the slot.
struct SlotInfo {
  int fd = -1;
  uint32_t gen = 0;
  uint32_t loop = 0;
  uint32_t writes_in_flight = 0;  // kCmdWrite posted, kEvWriteDone not yet taken
  // Of those: writes JS waits for (their memory is JS's, their kEvWriteDone
  // goes to JS), and the bytes of the others, which the bridge copied and
  // JS saw complete at once (handles.cc Writev).
  uint32_t held_in_flight = 0;
  uint32_t copied_in_flight = 0;
  bool closing = false;           // kCmdClose posted
  bool listener = false;
  // Writes may go to the instance's writer loop (WriteBurst, driven mode):
  // lent_to_writer once the fd was lent there (kCmdAdoptWriter), until its
  // close; writes_at_writer says where the writes in flight are (all of them
  // are in one place, so their order holds).
  bool lent_to_writer = false;
  bool writes_at_writer = false;
  // A UDP socket's connected peer, kept by udpConnect: a copied datagram
  // names it, so one sent after a disconnect() in the same turn still goes
  // where JS sent it (udp_handles.cc).
  std::unique_ptr<SockAddr> udp_peer;
};

struct DrivenPump;  // driven_loop.cc

// Posts a command that carries nothing but its handle's (slot, gen).
inline void post_bare(Loop& loop, int32_t type, uint32_t slot, uint32_t gen) {
  Command cmd;
  cmd.type = type;
  cmd.slot = slot;
  cmd.gen = gen;
  loop.post(std::move(cmd));
}

// Whether a write should skip the JS thread's own try-write and go to a loop
// on another thread. A lone write (a reply, a request) is cheapest written at
// once: a hop to another thread would add a wake-up to its latency. Replies
// to a batch of delivered events (an echo or HTTP server under load) stay on
// the JS thread too: the hand-off per write cost more than the system call
// it moved (fan-in measured ~45% more server CPU per message and a third
// less throughput on 2 cores). What pays is a burst across sockets that no
// event asked for (a broadcast tick from a timer): each write's system call,
// on loopback the receiver's TCP processing too, is JS-thread time that
// another thread can spend instead while JS goes on. So outside event
// delivery, the first kDirect writes of a burst are written at once and the
// rest go to a loop whole. A burst: writes less than kGapNs apart.
// Consecutive writes to one socket stay on the JS thread, as node:net's would.
//
// UDP datagrams differ in two ways (udp_handles.cc). Each one is a system
// call of its own, with the receiver's delivery on loopback, whoever sends
// it, so consecutive sends to one socket leave the JS thread too. And the
// replies to a batch of delivered datagrams go to a loop together, in one
// command drain and one sendmmsg there, all but the first kDirectInDelivery
// of each delivery: a lone reply (a ping-pong) stays a direct send.
struct WriteBurst {
  static constexpr int kDirect = 4;
  static constexpr int kDirectInDelivery = 1;
  static constexpr int64_t kGapNs = 50 * 1000;
  bool enabled = true;  // PROTONET_WRITE_OFFLOAD=0 turns it off
  int64_t last_ns = 0;
  uint32_t last_slot = UINT32_MAX;
  int run = 0;
  int delivery_sends = 0;  // datagrams sent in the current delivery (reset by delivered())

  // Called for each write with nothing in flight; `starts` is set when this
  // write begins a new burst.
  bool offload(uint32_t slot, bool* starts) {
    if (!enabled) return false;
    bool same = slot == last_slot;
    last_slot = slot;
    return in_burst(starts) && !same;
  }

  // A delivery starts: what is written from here (in its listeners, or
  // just after, from their promise jobs with I/O threads) answers it, and
  // begins no burst.
  void delivered() {
    delivery_sends = 0;
    run = 0;
  }

  // Called for each datagram nobody waits for; `delivering`: made by a
  // listener of delivered events.
  bool offload_datagram(bool delivering, bool* starts) {
    if (!enabled) return false;
    if (delivering) return ++delivery_sends > kDirectInDelivery;
    return in_burst(starts);
  }

 private:
  bool in_burst(bool* starts) {
    int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now().time_since_epoch()).count();
    run = now - last_ns < kGapNs ? run + 1 : 1;
    *starts = run == 1;
    last_ns = now;
    return run > kDirect;
  }
};

struct Instance {
  napi_env env = nullptr;
  Pool pool;
  // Driven mode only: a loop on a thread of its own that bursts of writes
  // are handed to (WriteBurst), started on first use; its sockets' fds are
  // lent by the driven loop, which alone reads and closes them.
  std::unique_ptr<Loop> writer;
  bool writer_failed = false;  // it could not start: write on the JS thread
  // Writes made on the JS thread, and writes handed to a loop in a burst.
  uint64_t writes_direct = 0;
  uint64_t writes_offloaded = 0;
  // Copied datagrams of every socket not yet known sent (udp_handles.cc):
  // while any are, the next datagram nobody waits for follows them.
  uint64_t udp_copied_in_flight = 0;
  // Set when the pool is one loop driven by this environment's libuv loop
  // (driven_loop.h) instead of I/O threads.
  DrivenPump* pump = nullptr;
  bool rang_driven = false;  // the driven loop published during run_once()
  // For calling the dispatcher from our own libuv callbacks (bridge_deliver_now).
  napi_ref dispatch_ref = nullptr;
  napi_async_context async_context = nullptr;
  napi_threadsafe_function tsfn = nullptr;
  bool stopped = false;
  bool tsfn_refed = true;
  std::vector<SlotInfo> slots;
  // Events taken from the loops, delivered as one batch per JS call (one run
  // of one handle's events per call with exact_order); next_event is the
  // first not yet delivered.
  std::vector<Event> events;
  size_t next_event = 0;
  bool exact_order = false;  // PROTONET_EXACT_ORDER=1: one JS call per handle's run
  WriteBurst write_burst;
  // Depth of JS calls delivering loop events (bridge.cc): writes made there
  // answer the events being delivered and stay on the JS thread (WriteBurst).
  int delivering = 0;
  // One fresh batch per event-loop turn (see bridge_call_js): set when a batch
  // is delivered, cleared by JS from setImmediate (turnEnded); `deferred` marks
  // a doorbell that arrived meanwhile and must be rung again then.
  bool in_turn = false;
  bool deferred = false;
  int64_t turn_start_ns = 0;  // when the turn's first batch was taken
  // The reused records Int32Array (see bridge.cc) and its backing store.
  napi_ref records_ref = nullptr;
  size_t records_cap = 0;  // in int32s
  int32_t* records_data = nullptr;
  // The pool Buffer small reads are copied into (bridge.cc), kept across
  // batches until full: its ref, bytes, size and first free byte.
  napi_ref pool_ref = nullptr;
  char* pool_data = nullptr;
  uint32_t pool_size = 0;
  uint32_t pool_off = 0;
  uint32_t pool_room() const { return pool_size - pool_off; }
  // Completions that happened on the JS thread itself (a shutdown done at
  // once). They are delivered through the doorbell like loop events, so the
  // callback runs as a separate I/O callback would in Node: after the current
  // callback's nextTicks and microtasks, never synchronously.
  std::vector<Event> local_events;
  // Scratch for bridge_take_quiet.
  std::vector<Event> quiet_events;
  // JS-allocated buffers lent to the loops for big reads (read_supply.h).
  ReadSupply supply;

  // The one way to a handle's SlotInfo from JS's (slot, gen): null unless
  // the handle is live (open, this generation, and not closing). See the fd
  // rule above.
  SlotInfo* live(uint32_t slot, uint32_t gen) {
    if (slot >= slots.size()) return nullptr;
    SlotInfo& s = slots[slot];
    return (s.fd >= 0 && s.gen == gen && !s.closing) ? &s : nullptr;
  }
  SlotInfo& claim(uint32_t slot) {
    if (slot >= slots.size()) slots.resize(slot + 1);
    return slots[slot];
  }
};

}  // namespace pn
