// bridge.cc - the doorbell and the batch dispatcher.
//
// Loops never call into JS. When a loop's outbox goes from empty to non-empty
// it rings the doorbell: one non-blocking call of the environment's single
// threadsafe function. On the JS thread, bridge_call_js takes the outboxes of
// all loops at once and delivers them in runs: one call into JS per run of
// consecutive events of one handle, with
//   (records: Int32Array of [type, slot, gen, value] per event,
//    count: number, buffers: Buffer[] for the kEvData events in order, or
//    undefined when there are none). The records array is reused. Small
//    reads are copied into a pool Buffer kept across batches instead
//    (record type kRecDataPooled); a kRecPoolAt record says which Buffer and
//    at which offset the batch's next pooled read starts; JS slices in order.
// Node drains nextTicks and microtasks after each call, as after each libuv
// callback; lib/registry.ts routes the records to the handles.
#include "bridge.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace pn {

void bridge_post_local(Instance* inst, const Event& ev) {
  inst->local_events.push_back(ev);
  napi_call_threadsafe_function(inst->tsfn, nullptr, napi_tsfn_nonblocking);
}

void bridge_turn_ended(Instance* inst) {
  inst->in_turn = false;
  if (inst->deferred) {
    inst->deferred = false;
    napi_call_threadsafe_function(inst->tsfn, nullptr, napi_tsfn_nonblocking);
  }
}

void bridge_ring_driven(void* ctx) { static_cast<Instance*>(ctx)->rang_driven = true; }

void bridge_ring(void* ctx) {
  auto* inst = static_cast<Instance*>(ctx);
  // Non-blocking with an unbounded queue: never waits. Fails only once the
  // function is closing (environment teardown), when nobody is listening.
  napi_call_threadsafe_function(inst->tsfn, nullptr, napi_tsfn_nonblocking);
}

namespace {

// External buffers keep their slab alive; the finalizer lets it go.
void release_slab(napi_env, void* /*data*/, void* hint) { slab_release(static_cast<ReadSlab*>(hint)); }

// The event's bytes were copied out: a lent slab (read into once, referenced
// by this event alone) goes back to the spares as good as new instead of
// being dropped (ReadSupply::give_back).
void release_copied(ReadSlab* slab) {
  if (slab == nullptr) return;
  if (ReadSupply::owns(slab)) slab->used = 0;
  slab_release(slab);
}

// Reads below this size are copied into the JS heap (the one copy of those
// bytes: the loop read them straight into a shared slab). Larger ones are
// handed over in place as external buffers, which cost V8 a weak handle and a
// finalizer (thousands of instructions: measured) and pin their slab (at most
// kReadChunk / kCopyBelow = 4 times the bytes held) while JS keeps them.
constexpr uint32_t kCopyBelow = 16 * 1024;

// How long one event-loop turn may keep taking fresh batches (bridge_call_js).
constexpr int64_t kTurnBudgetNs = 1000 * 1000;

// Spare JS-allocated read buffers kept per loop (read_supply.h): a bulk flow
// takes up to kReadBudget / 64 KiB = 4 per wake-up.
constexpr size_t kSpareBuffersPerLoop = 6;

// Small reads are copied into a pool Buffer of this many bytes, kept from
// batch to batch until full (each read copied once), and JS hands out
// slices: one buffer allocation per pool instead of one per read, or per
// batch, which in a many-connection echo cost more than the reads
// themselves (malloc, backing store, and the prototype switch
// napi_create_buffer does; in ping-pong, one per message). A slice kept by
// JS pins its pool, as a slice of Buffer.allocUnsafe's 8 KiB pool does.
constexpr uint32_t kPoolBytes = 16 * 1024;

// Bytes for JS: a stream's read or a UDP datagram (with its sender header).
bool carries_bytes(const Event& ev) { return ev.type == kEvData || ev.type == kEvUdpMessage; }
bool pooled(const Event& ev) { return carries_bytes(ev) && ev.len < kCopyBelow; }

// Replaces the instance's pool with a fresh kPoolBytes Buffer (the old one
// lives on in the slices JS holds). False if there is no memory for one.
bool new_pool(napi_env env, Instance* inst) {
  void* data = nullptr;
  napi_value buf = nullptr;
  if (napi_create_buffer(env, kPoolBytes, &data, &buf) != napi_ok || buf == nullptr) return false;
  if (inst->pool_ref != nullptr) napi_delete_reference(env, inst->pool_ref);
  inst->pool_ref = nullptr;
  if (napi_create_reference(env, buf, 1, &inst->pool_ref) != napi_ok) {
    inst->pool_data = nullptr;
    inst->pool_size = inst->pool_off = 0;
    return false;
  }
  inst->pool_data = static_cast<char*>(data);
  inst->pool_size = kPoolBytes;
  inst->pool_off = 0;
  return true;
}

napi_value make_buffer(napi_env env, Event& ev) {
  napi_value buf = nullptr;
  ReadSlab* slab = ev.slab;
  ev.slab = nullptr;
  // A whole read into a buffer JS allocated: hand that Buffer over (JS trims
  // it to the bytes read with subarray), no copy, no finalizer.
  if (slab != nullptr && ReadSupply::owns(slab) && ev.len >= kCopyBelow &&
      (buf = ReadSupply::buffer(env, slab)) != nullptr) {
    slab_release(slab);
    ev.data = nullptr;
    return buf;
  }
  if (ev.len >= kCopyBelow &&
      napi_create_external_buffer(env, ev.len, ev.data, release_slab, slab, &buf) == napi_ok) {
    ev.data = nullptr;
    return buf;
  }
  // Small, or external buffers not allowed here (V8 sandbox builds): copy.
  void* copy = nullptr;
  if (napi_create_buffer_copy(env, ev.len, ev.data, &copy, &buf) != napi_ok) buf = nullptr;
  release_copied(slab);
  ev.data = nullptr;
  return buf;
}

// Bridge-side bookkeeping that must happen as events are taken, before JS
// sees them: write counts for the try-write fast path, slot release, and the
// second step of closing a socket lent to the writer. False for an event JS
// must not see.
bool account(Instance* inst, const Event& ev) {
  if (ev.type == kEvReleased) {
    // The writer let go of the fd (handles.cc post_close): now its own loop
    // may close it.
    if (ev.slot < inst->slots.size() && inst->slots[ev.slot].gen == ev.gen) {
      SlotInfo& s = inst->slots[ev.slot];
      s.lent_to_writer = false;
      s.writes_at_writer = false;
      post_bare(inst->pool.loop(static_cast<int>(s.loop)), kCmdClose, ev.slot, ev.gen);
    }
    return false;
  }
  if (ev.type == kEvUdpSendDone && ev.len > 0 && inst->udp_copied_in_flight > 0) {
    inst->udp_copied_in_flight--;  // udp_handles.cc: whatever became of the socket
  }
  if (ev.slot >= inst->slots.size()) return true;
  SlotInfo& s = inst->slots[ev.slot];
  if (s.gen != ev.gen) return true;
  if (ev.type == kEvUdpSendDone) {
    if (s.writes_in_flight > 0) s.writes_in_flight--;  // udp_handles.cc: sends queued
    if (ev.len > 0) {
      // A copied datagram: JS saw it sent when it was made; its error, as
      // one of a send nobody waits for in node:dgram, goes nowhere.
      s.copied_in_flight -= ev.len;
      return false;
    }
  } else if (ev.type == kEvWriteDone) {
    if (s.writes_in_flight > 0) s.writes_in_flight--;
    if (ev.len > 0) {
      // A copied write: JS saw it complete when it was made. A failure shows
      // as node:net's would after a write the kernel took: on the next write
      // or read.
      s.copied_in_flight -= ev.len;
      return false;
    }
    if (s.held_in_flight > 0) s.held_in_flight--;
  } else if (ev.type == kEvClosed) {
    s = SlotInfo{};
  }
  return true;
}

// Moves every loop's pending events (the writer's last) into `out`.
void take_all(Instance* inst, std::vector<Event>& out) {
  for (int i = 0; i < inst->pool.size(); i++) inst->pool.loop(i).take_events(out);
  if (inst->writer != nullptr) inst->writer->take_events(out);
}

// The Int32Array the records are written into, reused from call to call (JS
// reads it during the call and copies what it must keep); replaced by a
// bigger one when a run does not fit.
napi_value records_array(napi_env env, Instance* inst, size_t n) {
  napi_value arr = nullptr;
  if (inst->records_ref != nullptr && n * kRecordInts <= inst->records_cap &&
      napi_get_reference_value(env, inst->records_ref, &arr) == napi_ok && arr != nullptr) {
    return arr;
  }
  size_t cap = inst->records_cap == 0 ? 256 : inst->records_cap;
  while (cap < n * kRecordInts) cap *= 2;
  void* raw = nullptr;
  napi_value ab = nullptr;
  napi_ref ref = nullptr;
  // The instance keeps its old array until a new one exists in full.
  if (napi_create_arraybuffer(env, cap * sizeof(int32_t), &raw, &ab) != napi_ok ||
      napi_create_typedarray(env, napi_int32_array, cap, ab, 0, &arr) != napi_ok ||
      napi_create_reference(env, arr, 1, &ref) != napi_ok) {
    return nullptr;
  }
  if (inst->records_ref != nullptr) napi_delete_reference(env, inst->records_ref);
  inst->records_ref = ref;
  inst->records_cap = cap;
  inst->records_data = static_cast<int32_t*>(raw);
  return arr;
}

}  // namespace

namespace {

// from_uv: called from our own libuv callback (bridge_deliver_now) rather
// than from the threadsafe function, which opens a callback scope for us.
void deliver(napi_env env, napi_value js_dispatch, Instance* inst, bool from_uv) {

  std::vector<Event>& evs = inst->events;
  if (inst->next_event >= evs.size()) {
    // Node's threadsafe function runs every queued call in one go (up to a
    // thousand), and under load the loops ring again while JS handles a
    // batch: timers and setImmediate would starve behind a chain of batches.
    // So a turn takes one fresh batch; a later ring waits for JS to say the
    // turn ended (setImmediate -> turnEnded), as Node polls once per turn.
    // JS-thread completions (a shutdown done at once) are exempt: libuv
    // completes those within the same turn, before setImmediate callbacks.
    evs.clear();
    inst->next_event = 0;
    // JS-thread completions first: they happened before anything a loop can
    // have seen as their consequence (our FIN before the peer's EOF).
    evs.swap(inst->local_events);
    // Within the first kTurnBudgetNs of a turn, a ring that arrived during the
    // previous batch is served at once (a ping-pong reply landing while JS
    // still runs: no extra turn, no extra wake-up); after it, it waits.
    // A driven loop (driven_loop.h) needs none of this: it delivers only
    // from its own libuv callbacks, at most once per phase, like Node's I/O.
    const bool driven = inst->pump != nullptr;
    const int64_t now = driven ? 0 : std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch()).count();
    if (!driven && inst->in_turn && now - inst->turn_start_ns >= kTurnBudgetNs) {
      inst->deferred = true;
    } else {
      take_all(inst, evs);
      // Only a delivered batch makes JS arm the turnEnded hook.
      if (!driven && !inst->in_turn && !evs.empty()) {
        inst->in_turn = true;
        inst->turn_start_ns = now;
      }
    }
    if (evs.empty()) return;
  }

  // By default the whole batch is one JS call: nextTicks and microtasks are
  // drained once per batch, so work a listener queues for socket A runs after
  // socket B's events of the same batch (Node drains after every I/O
  // callback; it promises no order across sockets). This costs fanin
  // throughput a third when done Node's way (measured: 0.44 vs 0.68 of
  // node:net), so it is opt-in: with PROTONET_EXACT_ORDER=1 each run of one
  // handle's events is its own call, and the rest of the batch continues as
  // the next threadsafe-function item, which Node dispatches right after
  // draining (same loop phase).
  const size_t first = inst->next_event;
  size_t last = evs.size();
  if (inst->exact_order) {
    last = first + 1;
    while (last < evs.size() && evs[last].slot == evs[first].slot && evs[last].gen == evs[first].gen) last++;
  }
  inst->next_event = last;
  if (last < evs.size()) napi_call_threadsafe_function(inst->tsfn, nullptr, napi_tsfn_nonblocking);

  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) {
    for (size_t i = first; i < last; i++) discard_event(evs[i]);
    return;
  }

  inst->supply.tend(env, kSpareBuffersPerLoop * static_cast<size_t>(inst->pool.size()));

  const size_t n = last - first;
  // A pooled read may be preceded by a kRecPoolAt record: at most two each.
  napi_value records = records_array(env, inst, 2 * n);
  napi_value undefined = nullptr, count = nullptr, global = nullptr;
  if (records == nullptr || napi_get_undefined(env, &undefined) != napi_ok ||
      napi_get_global(env, &global) != napi_ok) {
    // No memory in the JS heap for even the batch's frame: nothing is lost,
    // the batch is tried again on a later call.
    inst->next_event = first;
    napi_call_threadsafe_function(inst->tsfn, nullptr, napi_tsfn_nonblocking);
    napi_close_handle_scope(env, scope);
    return;
  }

  int32_t* rec = inst->records_data;
  size_t k = 0;  // records written
  uint32_t nbuf = 0;
  napi_value first_buffer = undefined, more_buffers = undefined;
  // Appends to the batch's Buffers; false (nothing appended) if napi cannot.
  // Most batches carry at most one (the pool, or one big read), and V8 makes
  // an array and stores into it by the slow generic path: the first goes
  // alone as its own argument, an array holds the rest.
  auto push_buffer = [&](napi_value buf) {
    if (buf == nullptr) return false;
    if (nbuf == 0) {
      first_buffer = buf;
    } else {
      napi_value arr = more_buffers;
      if (nbuf == 1 && napi_create_array(env, &arr) != napi_ok) return false;
      if (napi_set_element(env, arr, nbuf - 1, buf) != napi_ok) return false;
      more_buffers = arr;
    }
    nbuf++;
    return true;
  };
  auto push_record = [&](int32_t type, uint32_t slot, uint32_t gen, int32_t value) {
    rec[k * kRecordInts + 0] = type;
    rec[k * kRecordInts + 1] = static_cast<int32_t>(slot);
    rec[k * kRecordInts + 2] = static_cast<int32_t>(gen);
    rec[k * kRecordInts + 3] = value;
    k++;
  };
  const char* announced = nullptr;  // the pool the last kRecPoolAt named
  for (size_t i = 0; i < n; i++) {
    Event& ev = evs[first + i];
    if (!account(inst, ev)) continue;
    int32_t type = ev.type;
    int32_t value = ev.status;
    if (carries_bytes(ev)) {
      value = static_cast<int32_t>(ev.len);
      bool in_pool = false;
      if (pooled(ev) && (inst->pool_room() >= ev.len || new_pool(env, inst))) {
        in_pool = announced == inst->pool_data;
        if (!in_pool) {
          napi_value pool = nullptr;
          if (napi_get_reference_value(env, inst->pool_ref, &pool) == napi_ok && push_buffer(pool)) {
            push_record(kRecPoolAt, 0, 0, static_cast<int32_t>(inst->pool_off));
            announced = inst->pool_data;
            in_pool = true;
          }
        }
      }
      if (in_pool) {
        memcpy(inst->pool_data + inst->pool_off, ev.data, ev.len);
        inst->pool_off += ev.len;
        release_copied(ev.slab);
        ev.slab = nullptr;
        ev.data = nullptr;
        type = ev.type == kEvData ? kRecDataPooled : kRecUdpMessagePooled;
      } else if (!push_buffer(make_buffer(env, ev))) {
        // Big, or no pool: a Buffer of its own, and none could be made. The
        // bytes are gone, so this socket's stream ends in an error here
        // rather than a later record being paired with the wrong Buffer.
        discard_event(ev);
        type = ev.type == kEvData ? kEvReadError : kEvUdpRecvError;
        value = -ENOMEM;
      }
    } else if (ev.type == kEvConnection) {
      value = ev.fd;  // JS adopts it or closes it
    }
    push_record(type, ev.slot, ev.gen, value);
  }
  if (napi_create_uint32(env, static_cast<uint32_t>(k), &count) != napi_ok) {
    // The events are accounted for and their bytes copied out: they cannot
    // be tried again. Without even a number to pass, JS is beyond reach.
    napi_close_handle_scope(env, scope);
    return;
  }

  napi_value argv[4] = {records, count, first_buffer, more_buffers};
  if (inst->delivering == 0) inst->write_burst.delivered();
  inst->delivering++;
  napi_status st = from_uv
      ? napi_make_callback(env, inst->async_context, global, js_dispatch, 4, argv, nullptr)
      : napi_call_function(env, global, js_dispatch, 4, argv, nullptr);
  inst->delivering--;
  if (st == napi_pending_exception) {
    // A listener threw. The dispatcher has already saved the events it did
    // not reach; report the error the way Node reports an exception from any
    // I/O callback: as an uncaught exception.
    napi_value err;
    if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
}

}  // namespace

void bridge_take_quiet(Instance* inst) {
  std::vector<Event>& quiet = inst->quiet_events;
  auto drain = [&](Loop& loop) {
    if (!loop.take_quiet(quiet)) return;
    for (Event& ev : quiet) {
      // Quiet events are copied writes' completions: nothing to deliver.
      if (account(inst, ev)) discard_event(ev);
    }
    quiet.clear();
  };
  for (int i = 0; i < inst->pool.size(); i++) drain(inst->pool.loop(i));
  if (inst->writer != nullptr) drain(*inst->writer);
}

void bridge_call_js(napi_env env, napi_value js_dispatch, void* context, void* /*data*/) {
  auto* inst = static_cast<Instance*>(context);
  // Node passes env == NULL after the function is finalized, Deno a live env
  // with a null callback: either way there is nobody to deliver to.
  if (env == nullptr || js_dispatch == nullptr || inst == nullptr || inst->stopped) return;
  deliver(env, js_dispatch, inst, false);
}

void bridge_deliver_now(Instance* inst) {
  if (!inst->rang_driven) return;
  inst->rang_driven = false;
  napi_env env = inst->env;
  if (inst->stopped || inst->dispatch_ref == nullptr || inst->async_context == nullptr) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn = nullptr;
  if (napi_get_reference_value(env, inst->dispatch_ref, &fn) == napi_ok && fn != nullptr)
    deliver(env, fn, inst, true);
  napi_close_handle_scope(env, scope);
}

}  // namespace pn
