// bridge.cc - the doorbell and the batch dispatcher.
//
// Loops never call into JS. When a loop's outbox goes from empty to non-empty
// it rings the doorbell: one non-blocking call of the environment's single
// threadsafe function. On the JS thread, bridge_call_js takes the outboxes of
// all loops at once and makes ONE call into JS with
//   (records: Int32Array of [type, slot, gen, value] per event,
//    count: number, buffers: Buffer[] for the kEvData events in order).
// Node drains nextTicks and microtasks once after that call; see
// lib/dispatcher.ts for how the JS side keeps per-socket order.
#include "bridge.h"

#include <cstdlib>
#include <cstring>

namespace pn {

void bridge_post_local(Instance* inst, const Event& ev) {
  inst->local_events.push_back(ev);
  napi_call_threadsafe_function(inst->tsfn, nullptr, napi_tsfn_nonblocking);
}

void bridge_ring(void* ctx) {
  auto* inst = static_cast<Instance*>(ctx);
  // Non-blocking with an unbounded queue: never waits. Fails only once the
  // function is closing (environment teardown), when nobody is listening.
  napi_call_threadsafe_function(inst->tsfn, nullptr, napi_tsfn_nonblocking);
}

namespace {

void free_data(napi_env, void* data, void*) { std::free(data); }

// Hands a loop-allocated read buffer to JS without copying it; where external
// buffers are not allowed (V8 sandbox builds) falls back to one copy.
napi_value make_buffer(napi_env env, Event& ev) {
  napi_value buf = nullptr;
  if (ev.len == 0) {
    napi_create_buffer(env, 0, nullptr, &buf);
    std::free(ev.data);
  } else if (napi_create_external_buffer(env, ev.len, ev.data, free_data, nullptr, &buf) != napi_ok) {
    void* copy = nullptr;
    napi_create_buffer_copy(env, ev.len, ev.data, &copy, &buf);
    std::free(ev.data);
  }
  ev.data = nullptr;
  return buf;
}

// Bridge-side bookkeeping that must happen as events are taken, before JS
// sees them: write counts for the try-write fast path and slot release.
void account(Instance* inst, const Event& ev) {
  if (ev.slot >= inst->slots.size()) return;
  SlotInfo& s = inst->slots[ev.slot];
  if (s.gen != ev.gen) return;
  if (ev.type == kEvWriteDone) {
    if (s.writes_in_flight > 0) s.writes_in_flight--;
  } else if (ev.type == kEvClosed) {
    s = SlotInfo{};
  }
}

}  // namespace

void bridge_call_js(napi_env env, napi_value js_dispatch, void* context, void* /*data*/) {
  auto* inst = static_cast<Instance*>(context);
  // Node passes env == NULL after the function is finalized, Deno a live env
  // with a null callback: either way there is nobody to deliver to.
  if (env == nullptr || js_dispatch == nullptr || inst == nullptr || inst->stopped) return;

  std::vector<Event>& evs = inst->events;
  evs.clear();
  // JS-thread completions first: they happened before anything a loop can
  // have seen as their consequence (our FIN before the peer's EOF).
  evs.swap(inst->local_events);
  for (int i = 0; i < inst->pool.size(); i++) inst->pool.loop(i).take_events(evs);
  if (evs.empty()) return;

  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) {
    for (Event& ev : evs) discard_event(ev);
    return;
  }

  const size_t n = evs.size();
  void* raw = nullptr;
  napi_value ab, records, buffers, count;
  napi_create_arraybuffer(env, n * kRecordInts * sizeof(int32_t), &raw, &ab);
  napi_create_typedarray(env, napi_int32_array, n * kRecordInts, ab, 0, &records);
  napi_create_array(env, &buffers);
  napi_create_uint32(env, static_cast<uint32_t>(n), &count);

  auto* rec = static_cast<int32_t*>(raw);
  uint32_t nbuf = 0;
  for (size_t i = 0; i < n; i++) {
    Event& ev = evs[i];
    account(inst, ev);
    int32_t value = ev.status;
    if (ev.type == kEvData) {
      value = static_cast<int32_t>(ev.len);
      napi_set_element(env, buffers, nbuf++, make_buffer(env, ev));
    } else if (ev.type == kEvConnection) {
      value = ev.fd;  // JS adopts it or closes it
    }
    rec[i * kRecordInts + 0] = ev.type;
    rec[i * kRecordInts + 1] = static_cast<int32_t>(ev.slot);
    rec[i * kRecordInts + 2] = static_cast<int32_t>(ev.gen);
    rec[i * kRecordInts + 3] = value;
  }
  evs.clear();

  napi_value global, argv[3] = {records, count, buffers};
  napi_get_global(env, &global);
  napi_status st = napi_call_function(env, global, js_dispatch, 3, argv, nullptr);
  if (st == napi_pending_exception) {
    // A listener threw. The dispatcher has already saved the events it did
    // not reach; report the error the way Node reports an exception from any
    // I/O callback: as an uncaught exception.
    napi_value err;
    if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
}

}  // namespace pn
