// loop_core.h - the inside of a Loop (private to native/core).
//
// Threads: post() and take() run on any thread and touch only the members in
// the "shared" block (each under its mutex, or atomic). Everything else belongs
// to the loop thread alone, from start_thread() until join().
//
// One iteration of run(), like libuv's uv_run and Redis's aeProcessEvents:
//   1. drain commands (swap the queue out under the lock, handle them unlocked)
//   2. let throttled sockets read again if the bridge took the outbox
//   3. wait for readiness (not at all if step 1 produced events to publish)
//   4. handle ready handles: read, flush writes, accept
//   5. publish this iteration's events under one lock; ring the doorbell only
//      if the outbox was empty, so a busy bridge sees one call per batch.
#pragma once

#include "platform.h"

#include <atomic>
#include <climits>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "fd_reserve.h"
#include "handle.h"
#include "invariant.h"
#include "listener.h"
#include "loop.h"
#include "poller.h"
#include "stream.h"
#include "udp.h"
#include "thread.h"

namespace pn {

class LoopCore {
 public:
  LoopCore(Loop::Doorbell bell, void* ctx, SlabSource slabs)
      : bell_(bell), ctx_(ctx), slab_source_(slabs) {}
  ~LoopCore();
  LoopCore(const LoopCore&) = delete;
  LoopCore& operator=(const LoopCore&) = delete;

  int init();          // poller + wake-up fd; 0 or -errno
  int start_thread();  // 0 or -errno
  // Driven instead of threaded (Loop::start_driven): no thread; run_once()
  // does one non-blocking iteration on the caller's thread.
  int start_driven(Loop::Doorbell waker);  // 0 or -errno
  bool driven() const { return driven_; }
  bool fence(int timeout_ms);
  int poll_fd() const { return poller_.pollable_fd(); }
  void run_once();
  int driven_timeout_ms() { return next_timeout_ms(); }
  // Posts kCmdStop, joins, then closes and frees everything left (the loop
  // thread is gone, so no locking games). Later posts are discarded.
  void stop_and_join();

  // Any thread.
  void post(Command* cmds, size_t n);  // moves from cmds
  void take(std::vector<Event>& out);
  bool take_quiet(std::vector<Event>& out);

  WaitStats wait_stats() const {
    return WaitStats{waits_spun_.load(std::memory_order_relaxed), waits_slept_.load(std::memory_order_relaxed)};
  }

  static void discard_command(Command& cmd);
  static int64_t now_ms();  // CLOCK_MONOTONIC

 private:
  static void thread_main(void* arg);
  void run();
  void wake();  // any thread: poller_.wake() (or waker_) if the loop sleeps
  void wake_now();  // the signal itself, once wake() decided it is needed

  // --- loop thread: loop.cc ---
  bool drain_commands();  // false once kCmdStop was seen
  void handle_command(Command& cmd);
  void adopt(const Command& cmd);
  void close_handle(Handle* h);
  void park_until_taken(int timeout_ms);
  int spin_poll(PollEvent* events, int64_t wait_start);
  void note_wait(int64_t waited_ns);
  static int64_t spin_limit_ns();
  static int64_t now_ns();
  bool must_not_sleep();
  int next_timeout_ms();
  void dispatch(const PollEvent& pe);
  void publish();
  void teardown();
  // Debug builds: the loop's own state is touched only by the thread that
  // runs it (its I/O thread, the driving thread, or the owner after join).
  bool on_loop_thread() const { return loop_thread_ == std::this_thread::get_id(); }
  void emit(int32_t type, const Handle* h, int32_t status) {
    PN_ASSERT(on_loop_thread());
    Event ev;
    ev.type = type;
    ev.slot = h->slot;
    ev.gen = h->gen;
    ev.status = status;
    batch_.push_back(ev);
  }
  // Registers, re-registers or deregisters so the poller holds `want`
  // (0 = off the poller). 0 or -errno from epoll_ctl.
  int set_interest(Handle* h, uint32_t want);

  // --- loop thread: stream.cc ---
  void stream_adopt(Stream* t, bool connecting, bool reading);
  void stream_ready(Stream* t, uint32_t events);
  void stream_finish_connect(Stream* t);
  void stream_read_start(Stream* t);
  void stream_read_stop(Stream* t);
  void stream_write(Stream* t, IovArray iov, uint32_t cnt, uint32_t copied);
  void emit_write_done(const Stream* t, const WriteReq& r, int32_t status) {
    emit(kEvWriteDone, t, status);
    batch_.back().len = r.copied;
  }
  void stream_shutdown(Stream* t);
  void stream_close(Stream* t);  // cancels queued work; the fd is closed by close_handle
  bool stream_read(Stream* t, bool peer_closed);
  void push_data(Stream* t, char* data, size_t n, ReadSlab* s);
  ssize_t read_lent(Stream* t, size_t* room);
  bool stream_flush(Stream* t);
  void stream_complete_heads(Stream* t);
  void stream_fail_writes(Stream* t, int err);
  void stream_maybe_shutdown(Stream* t);
  void stream_update(Stream* t);
  uint32_t stream_want(const Stream* t) const;
  size_t outbox_load(const Stream* t, uint64_t epoch) const;
  void stream_throttle(Stream* t);
  void resume_throttled();

  // --- loop thread: listener.cc ---
  void listener_adopt(Listener* l);
  void listener_ready(Listener* l);
  // accept() failed with `err` (positive errno): acts on it as listener.h
  // says; true if accepting may go on in this wake. Spends `budget` on
  // connections it sheds.
  bool listener_failed(Listener* l, int err, int* budget);
  // Out of descriptors (`err`): gives up the spare, accepts and closes each
  // queued connection (within `budget`), takes the spare back. 0 when the
  // budget ran out first, else the errno that ended it (EAGAIN: backlog
  // empty; `err` itself when there is no spare).
  int listener_shed(Listener* l, int err, int* budget);
  void listener_pause_reported(Listener* l, int err);  // report once, then pause
  void listener_pause(Listener* l, int64_t retry_ms);
  void listener_update(Listener* l);
  void run_listener_timers();

  // --- loop thread: udp.cc (the hooks in loop.cc call only these) ---
  void udp_adopt(Udp* u);
  void udp_command(Udp* u, Command& cmd);  // read start/stop, send
  void udp_ready(Udp* u, uint32_t events);
  void udp_close(Udp* u);  // cancels queued sends; the fd is closed by close_handle
  void udp_publish_locked();  // publish(), under out_mu_: outbox accounting
  void udp_resume_throttled(uint64_t epoch);
  bool udp_throttled() const { return !udp_throttled_.empty(); }
  void udp_teardown();  // scratch memory
  void udp_flush_pending();  // drain_commands(), at its end
  bool udp_read(Udp* u, bool poll_error);
  bool udp_deliver_one(Udp* u, const UdpRecvSlot& s, const char* payload, size_t len);
  void udp_recv_failed(Udp* u, int err);  // a receive error: reported, reading stopped on Windows
  void udp_check_errors();  // after a poll: udp_error_checks_
  bool udp_checks_due() const { return !udp_error_checks_.empty(); }
  // Sends queued datagrams until the kernel would block; copied_only stops
  // at the first one JS waits for.
  void udp_flush(Udp* u, bool copied_only = false);
  void udp_update(Udp* u);
  size_t udp_outbox_load(const Udp* u, uint64_t epoch) const;
  void emit_send_done(const Udp* u, UdpSendPtr s, int32_t status);  // s is freed after

  // ===== shared =====
  Loop::Doorbell bell_;
  void* ctx_;
  SlabSource slab_source_;  // lends whole-read slabs (may be null)
  Thread thread_;                // owner thread only (start/stop)
  bool driven_ = false;          // started by start_driven(), never a thread
  bool driven_live_ = false;     // driven and not yet stopped
  Loop::Doorbell waker_ = nullptr;  // driven: the driver's own wake-up (may be null)

  std::mutex cmd_mu_;
  std::vector<Command> cmds_;  // guarded by cmd_mu_
  bool closed_ = false;        // guarded by cmd_mu_: stopped, discard posts

  std::mutex out_mu_;
  std::vector<Event> outbox_;  // guarded by out_mu_
  // Guarded by out_mu_: the doorbell rang for what the outbox holds and no
  // take() has happened since (quiet events alone ring nothing).
  bool rung_ = false;
  uint64_t out_epoch_ = 0;     // guarded by out_mu_; +1 per take that took something

  // Mirror of out_epoch_ readable without the lock, and the number of throttled
  // sockets: take() wakes the loop only when someone waits for the outbox to drain.
  std::atomic<uint64_t> epoch_{0};
  std::atomic<int> throttled_count_{0};
  // True while the loop is in (or about to enter) a blocking wait: producers
  // wake the poller only then, so a busy loop is woken with no syscall.
  std::atomic<bool> sleeping_{false};
  // The loop sleeps on park_cv_ (not the poller) until the JS thread takes
  // the outbox: set while sleeping_ is, for wake() to pick the right signal.
  std::atomic<bool> parked_{false};
  std::mutex park_mu_;
  std::condition_variable park_cv_;
  // Written by the loop thread, read by anyone (wait_stats()).
  std::atomic<uint64_t> waits_spun_{0};
  std::atomic<uint64_t> waits_slept_{0};
  bool park_signal_ = false;  // guarded by park_mu_
  // Loop::fence(): kCmdFence commands handled so far, counted after the
  // drain of commands that brought them ended (its datagrams sent).
  std::mutex fence_mu_;
  std::condition_variable fence_cv_;
  uint64_t fences_done_ = 0;  // guarded by fence_mu_

  // ===== loop thread only =====
  // Which thread that is: set by thread_main, start_driven and, for the
  // teardown after join, stop_and_join (for PN_ASSERT only).
  std::thread::id loop_thread_;
  Poller poller_;
  int fences_pending_ = 0;  // kCmdFence seen in this drain of commands
  bool stopping_ = false;
  std::unordered_map<uint32_t, HandlePtr> handles_;  // by slot
  std::vector<Command> work_;        // commands being handled (swapped with cmds_)
  std::vector<Event> batch_;         // this iteration's events
  std::vector<Stream*> batch_streams_;     // sockets with kEvData bytes in batch_
  std::vector<Stream*> throttled_;      // sockets paused by outbox backpressure
  std::vector<Listener*> paused_;    // listeners waiting out ENOMEM & co.
  FdReserve reserve_;                // the spare listener_shed gives up (POSIX)
  uint64_t seen_epoch_ = 0;          // epoch_ when throttled_ was last re-checked
  int64_t spin_max_ns_ = 0;     // busy-poll limit (spin_poll), 0 = never spin
  int64_t wait_est_ns_ = 0;     // how long the loop's recent waits lasted (note_wait)
  int writers_ = 0;                  // handles with kPollWritable interest
  bool lagging_ = false;             // last publish found a rung outbox not yet taken
  uint64_t lag_epoch_ = 0;           // out_epoch_ at that publish
  ReadSlab* slab_ = nullptr;         // reads go into its free tail (read_slab.h)
  iovec gather_[IOV_MAX];            // scratch for writes spanning several requests
  std::vector<Udp*> batch_udps_;     // UDP sockets with kEvUdpMessage bytes in batch_
  std::vector<Udp*> udp_throttled_;  // UDP sockets paused by outbox backpressure
  std::vector<Udp*> udp_flush_pending_;  // UDP sockets with sends queued by this drain
  // UDP sockets that started reading in this drain: their pending error is
  // read once the poll that follows has armed their readiness (udp.cc).
  std::vector<Udp*> udp_error_checks_;
  std::unique_ptr<UdpScratch> udp_scratch_;  // receive slices (udp.h), on first UDP read

  static constexpr size_t kReadChunk = 64 * 1024;  // slab size and largest single read
  // A slab with less room than this is retired: a read must be able to fill
  // a typical kernel skb batch, or bulk transfers would read in slivers.
  static constexpr size_t kMinReadRoom = 16 * 1024;
  // A read at least this big marks its socket as streaming: its next read
  // goes into a lent slab of its own when the source has one to spare.
  static constexpr size_t kWholeReadMin = 32 * 1024;
  // Lent slabs one read of a streaming socket fills at most (read_lent).
  static constexpr int kLentPerRead = 4;
  static constexpr ssize_t kNoLent = -(1 << 30);  // read_lent: nothing lent
  static constexpr int kMaxPollEvents = 256;
  static constexpr int kAcceptBudget = 128;
  static constexpr int kAcceptRetryMs = 100;
  static constexpr int kParkMaxMs = 2;  // longest park_until_taken() sleep
  static constexpr int64_t kSpinDefaultNs = 500 * 1000;
  static constexpr int64_t kSpinMinNs = 20 * 1000;
};

}  // namespace pn
