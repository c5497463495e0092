// loop.cc - the I/O thread: commands in, readiness, events out (see loop_core.h).
#include "loop.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>

#include "loop_core.h"
#include "pool.h"
#include "socket_ops.h"
#include "thread.h"

namespace pn {

// ---------------------------------------------------------------- Loop (public)

Loop::~Loop() {
  stop();
  delete core_;
}

int Loop::start(Doorbell bell, void* ctx, SlabSource slabs) {
  return start_core(bell, ctx, slabs, false, nullptr);
}

int Loop::start_driven(Doorbell bell, void* ctx, SlabSource slabs, Doorbell waker) {
  return start_core(bell, ctx, slabs, true, waker);
}

int Loop::start_core(Doorbell bell, void* ctx, SlabSource slabs, bool driven, Doorbell waker) {
  if (core_ != nullptr) return -EALREADY;  // one life per Loop
  LoopCore* core = new (std::nothrow) LoopCore(bell, ctx, slabs);
  if (core == nullptr) return -ENOMEM;
  int err = core->init();
  if (err == 0) err = driven ? core->start_driven(waker) : core->start_thread();
  if (err != 0) {
    delete core;
    return err;
  }
  core_ = core;
  return 0;
}

bool Loop::driven() const { return core_ != nullptr && core_->driven(); }
bool Loop::fence(int timeout_ms) { return core_ != nullptr && core_->fence(timeout_ms); }
WaitStats Loop::wait_stats() const { return core_ != nullptr ? core_->wait_stats() : WaitStats{}; }
int Loop::poll_fd() const { return core_ != nullptr ? core_->poll_fd() : -1; }
void Loop::run_once() {
  if (core_ != nullptr && core_->driven()) core_->run_once();
}
int Loop::driven_timeout_ms() { return core_ != nullptr ? core_->driven_timeout_ms() : -1; }

void Loop::stop() {
  if (core_ != nullptr) core_->stop_and_join();
}

void Loop::post(Command&& cmd) { post(&cmd, 1); }

void Loop::post(Command* cmds, size_t n) {
  if (core_ != nullptr) {
    core_->post(cmds, n);
    return;
  }
  // Never started: nobody will ever own what the commands carry.
  for (size_t i = 0; i < n; i++) LoopCore::discard_command(cmds[i]);
}

void Loop::take_events(std::vector<Event>& out) {
  if (core_ != nullptr) core_->take(out);
}

bool Loop::take_quiet(std::vector<Event>& out) { return core_ != nullptr && core_->take_quiet(out); }

IovArray iov_copy(const iovec* iov, uint32_t n, size_t total) {
  const size_t slots = 1 + (total + sizeof(iovec) - 1) / sizeof(iovec);
  IovArray q(new iovec[slots]);
  char* bytes = reinterpret_cast<char*>(q.get() + 1);
  size_t off = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (iov[i].iov_len == 0) continue;
    memcpy(bytes + off, iov[i].iov_base, iov[i].iov_len);
    off += iov[i].iov_len;
  }
  q[0].iov_base = bytes;
  q[0].iov_len = total;
  return q;
}

void discard_event(Event& ev) {
  if (ev.type == kEvData || ev.type == kEvUdpMessage) {
    if (ev.slab != nullptr) slab_release(ev.slab);
    ev.slab = nullptr;
    ev.data = nullptr;
    ev.len = 0;
  } else if (ev.type == kEvConnection) {
    close_fd(ev.fd);
    ev.fd = -1;
  }
}

// ------------------------------------------------------------ setup / teardown

LoopCore::~LoopCore() {
  stop_and_join();  // no-op when already stopped
}

int LoopCore::init() {
  spin_max_ns_ = spin_limit_ns();
  wait_est_ns_ = spin_max_ns_ / 2;
  return poller_.init();
}

int LoopCore::start_thread() {
  // The thread starts with signals blocked (thread.h).
  return thread_.start(&LoopCore::thread_main, this);
}

void LoopCore::thread_main(void* arg) {
  set_current_thread_name("protonet-io");  // thread.h: spelled per platform
  LoopCore* core = static_cast<LoopCore*>(arg);
  core->loop_thread_ = std::this_thread::get_id();
  core->run();
}

int LoopCore::start_driven(Loop::Doorbell waker) {
  if (poller_.pollable_fd() < 0) return -ENOTSUP;
  loop_thread_ = std::this_thread::get_id();
  waker_ = waker;
  // No busy polling: the driving thread has its own work between runs.
  spin_max_ns_ = 0;
  driven_ = true;
  driven_live_ = true;
  // "Asleep" between runs, so post() and take() ring the poller's wake-up,
  // which makes poll_fd() readable and the driver call run_once().
  sleeping_.store(true);
  return 0;
}

void LoopCore::run_once() {
  // One pass of run() with a zero timeout: nothing here may block the
  // driving thread. Parking and spinning are thread-only strategies.
  if (!driven_live_) return;
  PN_ASSERT(on_loop_thread());
  sleeping_.store(false);
  drain_commands();
  resume_throttled();
  PollEvent events[kMaxPollEvents];
  int n = poller_.wait(events, kMaxPollEvents, 0);
  for (int i = 0; i < n; i++) dispatch(events[i]);
  if (udp_checks_due()) udp_check_errors();
  if (!paused_.empty()) run_listener_timers();
  publish();
  lagging_ = false;
  // Back to "asleep", then the same re-check as before a blocking wait: a
  // post from another thread in between must not be lost (see wake()).
  sleeping_.store(true);
  if (must_not_sleep() && sleeping_.exchange(false)) wake_now();
}

void LoopCore::stop_and_join() {
  if (driven_live_) {
    // No thread to join: the caller is the driving thread, between runs.
    driven_live_ = false;
    PN_ASSERT(on_loop_thread());
    teardown();
    return;
  }
  if (!thread_.started()) return;
  Command stop;
  stop.type = kCmdStop;
  post(&stop, 1);
  thread_.join();
  loop_thread_ = std::this_thread::get_id();  // the loop thread is gone: its state is ours
  teardown();
}

void LoopCore::discard_command(Command& cmd) {
  switch (cmd.type) {
    case kCmdAdoptConnecting:
    case kCmdAdoptConnected:
    case kCmdAdoptListener:
      close_fd(cmd.fd);
      cmd.fd = -1;
      close_fd(cmd.spare_fd);
      cmd.spare_fd = -1;
      break;
    case kCmdWrite:
      cmd.iov.reset();
      break;
    case kCmdAdoptUdp:
      close_fd(cmd.fd);
      cmd.fd = -1;
      break;
    case kCmdUdpSend:
      cmd.udp_send.reset();
      break;
    default:
      break;
  }
}

// Runs after the thread is joined: everything is ours, nothing is delivered.
void LoopCore::teardown() {
  for (auto& kv : handles_) {
    // Queued writes' arrays go with their Stream.
    if (!kv.second->borrowed) close_fd(kv.second->fd);
  }
  handles_.clear();
  throttled_.clear();
  paused_.clear();
  batch_streams_.clear();
  udp_teardown();
  throttled_count_.store(0);
  for (Event& ev : batch_) discard_event(ev);
  batch_.clear();
  for (Command& c : work_) discard_command(c);
  work_.clear();

  std::vector<Command> cmds;
  {
    std::lock_guard<std::mutex> lock(cmd_mu_);
    closed_ = true;
    cmds.swap(cmds_);
  }
  for (Command& c : cmds) discard_command(c);

  std::vector<Event> events;
  {
    std::lock_guard<std::mutex> lock(out_mu_);
    events.swap(outbox_);
  }
  for (Event& ev : events) discard_event(ev);

  if (slab_ != nullptr) slab_release(slab_);
  slab_ = nullptr;
  reserve_.release();
}

// ------------------------------------------------------------- any thread

void LoopCore::post(Command* cmds, size_t n) {
  {
    std::lock_guard<std::mutex> lock(cmd_mu_);
    if (!closed_) {
      for (size_t i = 0; i < n; i++) cmds_.push_back(std::move(cmds[i]));
      n = 0;
    }
  }
  if (n == 0) {
    wake();
    return;
  }
  // Stopped: the loop will never see these.
  for (size_t i = 0; i < n; i++) discard_command(cmds[i]);
}

void LoopCore::wake() {
  // Dekker with run(): the loop stores sleeping_=true and then re-checks the
  // queue (under cmd_mu_) and the epoch; a producer publishes first and loads
  // sleeping_ after. One of the two sees the other, so no wake-up is lost.
  // exchange() makes only the first of several producers pay the syscall.
  if (sleeping_.load() && sleeping_.exchange(false)) wake_now();
}

void LoopCore::wake_now() {
  if (waker_ != nullptr) {
    waker_(ctx_);
    return;
  }
  if (parked_.load()) {
    std::lock_guard<std::mutex> lock(park_mu_);
    park_signal_ = true;
    park_cv_.notify_one();
  } else {
    poller_.wake();
  }
}

bool LoopCore::take_quiet(std::vector<Event>& out) {
  std::lock_guard<std::mutex> lock(out_mu_);
  if (rung_ || outbox_.empty()) return false;
  out.insert(out.end(), outbox_.begin(), outbox_.end());
  outbox_.clear();
  epoch_.store(++out_epoch_);
  return true;
}

void LoopCore::take(std::vector<Event>& out) {
  bool took;
  {
    std::lock_guard<std::mutex> lock(out_mu_);
    rung_ = false;
    took = !outbox_.empty();
    if (took) {
      if (out.empty()) {
        out.swap(outbox_);  // hands back the caller's (cleared) capacity
      } else {
        out.insert(out.end(), outbox_.begin(), outbox_.end());
        outbox_.clear();
      }
      epoch_.store(++out_epoch_);
    }
  }
  // Throttled sockets wait for exactly this: let the loop re-arm them.
  // A parked loop waits for exactly this too.
  if (took && (throttled_count_.load() > 0 || parked_.load())) wake();
}

// ------------------------------------------------------------- loop thread

void LoopCore::run() {
  PollEvent events[kMaxPollEvents];
  for (;;) {
    if (!drain_commands()) return;
    resume_throttled();

    // Events produced by commands (immediate write completions, closes...)
    // must not wait behind a blocking poll: then only peek at readiness.
    int timeout = batch_.empty() && !udp_checks_due() ? next_timeout_ms() : 0;
    if (timeout != 0 && lagging_ && writers_ == 0) {
      // The JS thread is behind: rather than wake for every socket that
      // becomes readable (a context switch per message under load), sleep
      // until it takes the outbox, then read everything ready in one pass.
      park_until_taken(timeout);
      timeout = 0;
    }
    lagging_ = false;
    int n = 0;
    const bool waits = timeout != 0 && spin_max_ns_ > 0;
    const int64_t wait_start = waits ? now_ns() : 0;
    if (waits) n = spin_poll(events, wait_start);
    if (n > 0) waits_spun_.fetch_add(1, std::memory_order_relaxed);
    if (n == 0) {
      if (timeout != 0) {
        sleeping_.store(true);
        if (must_not_sleep()) {
          sleeping_.store(false);
          timeout = 0;
        } else {
          waits_slept_.fetch_add(1, std::memory_order_relaxed);
        }
      }
      n = poller_.wait(events, kMaxPollEvents, timeout);
      if (timeout != 0) sleeping_.store(false);
    }
    if (waits) note_wait(now_ns() - wait_start);

    // No handle is freed while this batch is dispatched (only commands close
    // handles), so the registration pointers stay valid.
    for (int i = 0; i < n; i++) dispatch(events[i]);
    if (udp_checks_due()) udp_check_errors();
    if (!paused_.empty()) run_listener_timers();
    publish();
  }
}

int LoopCore::spin_poll(PollEvent* events, int64_t wait_start) {
  // Busy polling: rather than sleep, the loop peeks at the poller (a
  // zero-timeout poll) for as long as its waits have lately lasted, so the
  // next message of a request/response exchange finds it awake and the
  // sleeping thread's wake-up (a context switch, 5-10 us of CPU across cores
  // here, more in a slow hour) leaves the path of every message. How long to
  // spin follows the waits themselves (note_wait), not a constant: one fitted
  // to a fast hour misses every message in a slow one, where a round trip
  // takes longer than the spin. Waits longer than the limit (sparse traffic,
  // idle sockets, a 60 Hz tick) are not spun for at all.
  if (wait_est_ns_ > spin_max_ns_) return 0;
  int64_t span = 2 * wait_est_ns_;
  if (span < kSpinMinNs) span = kSpinMinNs;
  if (span > spin_max_ns_) span = spin_max_ns_;
  const int64_t until = wait_start + span;
  for (;;) {
    int n = poller_.wait(events, kMaxPollEvents, 0);
    if (n != 0) return n < 0 ? 0 : n;
    if (must_not_sleep()) return 0;
    if (now_ns() >= until) return 0;
    // Lets a runnable thread on this core (the JS thread, the peer) go first.
    yield_thread();
  }
}

void LoopCore::note_wait(int64_t waited_ns) {
  // A moving average over the last few waits, spun or slept (a slept one
  // includes the wake-up): one long gap lifts it above the limit for a few
  // waits only, and a run of short ones brings the spinning back. Waits far
  // beyond the limit count as no more than four limits, so that an idle
  // minute is forgotten after a handful of waits, not dozens.
  if (waited_ns > 4 * spin_max_ns_) waited_ns = 4 * spin_max_ns_;
  wait_est_ns_ += (waited_ns - wait_est_ns_) / 4;
}

int64_t LoopCore::spin_limit_ns() {
  // PROTONET_SPIN_US: the longest spin in microseconds, 0 for none.
  if (const char* env = getenv("PROTONET_SPIN_US")) {
    char* end = nullptr;
    long us = strtol(env, &end, 10);
    if (end != env && *end == '\0' && us >= 0 && us <= 100000) return us * 1000;
  }
  // On one core a spinning loop only delays the thread it waits for.
  return online_cpus() > 1 ? kSpinDefaultNs : 0;
}

int64_t LoopCore::now_ns() { return monotonic_ns(); }

void LoopCore::park_until_taken(int timeout_ms) {
  // Same handshake as the poller sleep (see wake()), with parked_ telling
  // producers to signal the condition variable instead of the poller, and
  // take() waking a parked loop even when nothing is throttled.
  parked_.store(true);
  sleeping_.store(true);
  if (must_not_sleep() || epoch_.load() != lag_epoch_) {
    sleeping_.store(false);
    parked_.store(false);
    return;
  }
  {
    std::unique_lock<std::mutex> lock(park_mu_);
    auto signalled = [this] { return park_signal_; };
    // Bounded: accepts and peer hang-ups still make progress every few ms
    // while the JS thread is busy for long (a blocking call, a long tick).
    if (timeout_ms < 0 || timeout_ms > kParkMaxMs) timeout_ms = kParkMaxMs;
    park_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), signalled);
    // A signal from a producer that lost the race with an earlier cancel is
    // consumed here too: at worst one spurious early return, never a lost one.
    park_signal_ = false;
  }
  sleeping_.store(false);
  parked_.store(false);
}

bool LoopCore::must_not_sleep() {
  {
    std::lock_guard<std::mutex> lock(cmd_mu_);
    if (!cmds_.empty()) return true;
  }
  return (!throttled_.empty() || udp_throttled()) && epoch_.load() != seen_epoch_;
}

int LoopCore::next_timeout_ms() {
  if (paused_.empty()) return -1;
  int64_t now = now_ms();
  int64_t first = paused_[0]->retry_at_ms;
  for (Listener* l : paused_)
    if (l->retry_at_ms < first) first = l->retry_at_ms;
  // +1: never wake a hair early and spin once on a not-yet-due timer.
  return first <= now ? 0 : static_cast<int>(first - now) + 1;
}

int64_t LoopCore::now_ms() { return now_ns() / 1000000; }

bool LoopCore::drain_commands() {
  {
    std::lock_guard<std::mutex> lock(cmd_mu_);
    work_.swap(cmds_);
  }
  for (Command& cmd : work_) handle_command(cmd);
  work_.clear();
  if (!udp_flush_pending_.empty()) udp_flush_pending();
  if (fences_pending_ > 0) {
    std::lock_guard<std::mutex> lock(fence_mu_);
    fences_done_ += static_cast<uint64_t>(fences_pending_);
    fences_pending_ = 0;
    fence_cv_.notify_all();
  }
  return !stopping_;
}

bool LoopCore::fence(int timeout_ms) {
  if (driven_ || on_loop_thread()) return false;
  uint64_t seen;
  {
    std::lock_guard<std::mutex> lock(fence_mu_);
    seen = fences_done_;
  }
  {
    std::lock_guard<std::mutex> lock(cmd_mu_);
    if (closed_) return false;  // stopped: nothing will answer
    Command cmd;
    cmd.type = kCmdFence;
    cmds_.push_back(std::move(cmd));
  }
  wake();
  std::unique_lock<std::mutex> lock(fence_mu_);
  return fence_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return fences_done_ > seen; });
}

void LoopCore::handle_command(Command& cmd) {
  PN_ASSERT(on_loop_thread());
  switch (cmd.type) {
    case kCmdAdoptConnecting:
    case kCmdAdoptConnected:
    case kCmdAdoptListener:
    case kCmdAdoptWriter:
    case kCmdAdoptUdp:
    case kCmdAdoptUdpWriter:
      adopt(cmd);
      cmd.fd = -1;
      cmd.spare_fd = -1;
      return;
    case kCmdStop:
      stopping_ = true;
      return;
    case kCmdFence:
      fences_pending_++;
      return;
    default:
      break;
  }

  auto it = handles_.find(cmd.slot);
  if (it == handles_.end() || it->second->gen != cmd.gen) {
    // A command for a handle that is gone (or a newer one in the same slot).
    discard_command(cmd);
    return;
  }
  Handle* h = it->second.get();
  if (cmd.type == kCmdClose) {
    close_handle(h);
    return;
  }
  if (h->kind == HandleKind::kUdp) {
    udp_command(static_cast<Udp*>(h), cmd);
    return;
  }
  if (cmd.type == kCmdUdpSend) {
    // A datagram for a stream or listener: a bridge bug, answered so nothing hangs.
    emit(kEvUdpSendDone, h, -ENOTSUP);
    discard_command(cmd);
    return;
  }
  if (h->kind != HandleKind::kStream) {
    // Stream commands on a listener: a bridge bug, answered so nothing hangs.
    if (cmd.type == kCmdWrite) {
      emit(kEvWriteDone, h, -ENOTCONN);
      batch_.back().len = cmd.copied;
    }
    if (cmd.type == kCmdShutdown) emit(kEvShutdownDone, h, -ENOTCONN);
    discard_command(cmd);
    return;
  }
  Stream* t = static_cast<Stream*>(h);
  switch (cmd.type) {
    case kCmdReadStart:
      if (t->borrowed) break;  // a lent fd is read by its owner alone
      stream_read_start(t);
      break;
    case kCmdReadStop:
      stream_read_stop(t);
      break;
    case kCmdWrite:
      stream_write(t, std::move(cmd.iov), cmd.iovcnt, cmd.copied);
      break;
    case kCmdShutdown:
      stream_shutdown(t);
      break;
    default:
      discard_command(cmd);
      break;
  }
}

void LoopCore::adopt(const Command& cmd) {
  PN_ASSERT(cmd.fd >= 0);
  if (cmd.type == kCmdAdoptListener) reserve_.adopt(cmd.spare_fd);
  if (handles_.count(cmd.slot) != 0) {
    // The slot is still live: the bridge reused it before kEvClosed. Keeping
    // the old handle is the only safe choice; the new fd must not leak (a
    // lent one is not ours to close).
    if (cmd.type != kCmdAdoptWriter && cmd.type != kCmdAdoptUdpWriter) close_fd(cmd.fd);
    return;
  }
  if (cmd.type == kCmdAdoptUdp || cmd.type == kCmdAdoptUdpWriter) {
    Udp* u = new Udp(cmd.fd, cmd.slot, cmd.gen);
    u->borrowed = cmd.type == kCmdAdoptUdpWriter;
    handles_.emplace(cmd.slot, HandlePtr(u));
    udp_adopt(u);
    return;
  }
  if (cmd.type == kCmdAdoptListener) {
    Listener* l = new Listener(cmd.fd, cmd.slot, cmd.gen);
    handles_.emplace(cmd.slot, HandlePtr(l));
    listener_adopt(l);
    return;
  }
  Stream* t = new Stream(cmd.fd, cmd.slot, cmd.gen);
  handles_.emplace(cmd.slot, HandlePtr(t));
  if (cmd.type == kCmdAdoptWriter) {
    t->borrowed = true;
    stream_adopt(t, false, false);
    return;
  }
  stream_adopt(t, cmd.type == kCmdAdoptConnecting, cmd.flag);
}

void HandleDeleter::operator()(Handle* h) const {
  if (h->kind == HandleKind::kStream) delete static_cast<Stream*>(h);
  else if (h->kind == HandleKind::kUdp) delete static_cast<Udp*>(h);  // its queued sends with it
  else delete static_cast<Listener*>(h);
}

void LoopCore::close_handle(Handle* h) {
  PN_ASSERT(on_loop_thread());
  auto it = handles_.find(h->slot);
  PN_ASSERT(it != handles_.end() && it->second.get() == h);
  // Owned here until the end of this function: its last events name it.
  HandlePtr owned = std::move(it->second);
  handles_.erase(it);
  if (h->registered) poller_.remove(h->fd);
  h->registered = false;
  if (h->interest & kPollWritable) writers_--;
  h->interest = 0;
  // Copied datagrams were sent as far as JS knows (Node's try-send had handed
  // them to the kernel): they go out before the fd is let go of, as far as
  // the kernel takes them without waiting.
  if (h->kind == HandleKind::kUdp) udp_flush(static_cast<Udp*>(h), true);
  if (!h->borrowed) close_fd(h->fd);
  if (h->kind == HandleKind::kStream) {
    Stream* t = static_cast<Stream*>(h);
    stream_close(t);  // kEvWriteDone/kEvShutdownDone(-ECANCELED) first
    emit(h->borrowed ? kEvReleased : kEvClosed, h, 0);
  } else if (h->kind == HandleKind::kUdp) {
    Udp* u = static_cast<Udp*>(h);
    udp_close(u);  // kEvUdpSendDone(-ECANCELED) first
    emit(h->borrowed ? kEvReleased : kEvClosed, h, 0);
  } else {
    Listener* l = static_cast<Listener*>(h);
    for (size_t i = 0; i < paused_.size(); i++) {
      if (paused_[i] == l) {
        paused_[i] = paused_.back();
        paused_.pop_back();
        break;
      }
    }
    emit(kEvClosed, h, 0);
  }
}

int LoopCore::set_interest(Handle* h, uint32_t want) {
  if (want == 0) {
    if (h->registered) poller_.remove(h->fd);
    h->registered = false;
    if (h->interest & kPollWritable) writers_--;
    h->interest = 0;
    return 0;
  }
  if (!h->registered) {
    int err = poller_.add(h->fd, want, handle_token(h->slot, h->gen));
    if (err != 0) return err;
    h->registered = true;
  } else if (h->interest != want) {
    int err = poller_.modify(h->fd, want, handle_token(h->slot, h->gen));
    if (err != 0) return err;
  }
  if ((h->interest ^ want) & kPollWritable) writers_ += (want & kPollWritable) ? 1 : -1;
  h->interest = want;
  return 0;
}

void LoopCore::dispatch(const PollEvent& pe) {
  PN_ASSERT(on_loop_thread());
  Handle* h = handle_for_token(handles_, pe.token);
  if (h == nullptr) return;  // stale: its handle closed since the wait
  if (h->kind == HandleKind::kStream)
    stream_ready(static_cast<Stream*>(h), pe.events);
  else if (h->kind == HandleKind::kUdp)
    udp_ready(static_cast<Udp*>(h), pe.events);
  else
    listener_ready(static_cast<Listener*>(h));
}

void LoopCore::publish() {
  if (batch_.empty()) return;
  bool loud = false;
  for (const Event& ev : batch_) {
    // Completions of copied writes and datagrams (len != 0) are quiet.
    if ((ev.type != kEvWriteDone && ev.type != kEvUdpSendDone) || ev.len == 0) {
      loud = true;
      break;
    }
  }
  bool was_rung;
  uint64_t out_epoch_seen_at_publish;
  {
    std::lock_guard<std::mutex> lock(out_mu_);
    const bool was_empty = outbox_.empty();
    was_rung = rung_;
    if (loud) rung_ = true;
    out_epoch_seen_at_publish = out_epoch_;
    if (was_empty) {
      outbox_.swap(batch_);
    } else {
      outbox_.insert(outbox_.end(), batch_.begin(), batch_.end());
    }
    // Bytes published under one epoch are all taken by the next take().
    for (Stream* t : batch_streams_) {
      if (t->pub_epoch != out_epoch_) {
        t->pub_epoch = out_epoch_;
        t->pub_bytes = 0;
      }
      t->pub_bytes += t->batch_bytes;
      t->batch_bytes = 0;
      t->in_batch = false;
    }
    udp_publish_locked();
  }
  batch_.clear();
  batch_streams_.clear();
  // The JS thread had not yet taken the previous batch: it is the bottleneck.
  lagging_ = was_rung;
  if (lagging_) lag_epoch_ = out_epoch_seen_at_publish;
  // One ring per take: only the first loud batch since then rings. stop()
  // joins this thread, so the bell never rings after stop() returns.
  if (loud && !was_rung && !stopping_ && bell_ != nullptr) bell_(ctx_);
}

}  // namespace pn
