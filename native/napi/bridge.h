// bridge.h - loop events -> one threadsafe-function call -> one JS dispatch.
#pragma once

#include <node_api.h>

#include "instance.h"

namespace pn {

// Loop::Doorbell: called on a loop thread when its outbox becomes non-empty.
void bridge_ring(void* instance);

// JS thread: queues an event produced on the JS thread itself and rings the
// doorbell, so it is delivered as a later, separate call into JS.
void bridge_post_local(Instance* inst, const Event& ev);

// The threadsafe function's call_js callback (JS thread): takes every loop's
// outbox and calls the JS dispatcher once with a packed record array.
void bridge_call_js(napi_env env, napi_value js_dispatch, void* context, void* data);

// Loop::Doorbell of a driven loop (driven_loop.h): called inside run_once()
// on the JS thread itself, it only notes the news; bridge_deliver_now() then
// delivers it without the threadsafe function's round trip through libuv.
void bridge_ring_driven(void* instance);

// JS thread, from a libuv callback of our own (no JS on the stack): delivers
// what the doorbell announced as bridge_call_js does, through
// napi_make_callback so nextTicks and microtasks drain after it as after
// any I/O callback.
void bridge_deliver_now(Instance* inst);

// JS thread, anywhere (no JS is called): takes from every loop whose outbox
// holds only quiet completions (Loop::take_quiet) and accounts for them.
void bridge_take_quiet(Instance* inst);

// JS thread, from setImmediate after a batch: the event-loop turn is over, so
// the next batch may be taken; re-rings a doorbell deferred meanwhile.
void bridge_turn_ended(Instance* inst);

// Packs the per-event record layout shared with lib/binding.ts.
constexpr int kRecordInts = 4;  // [type, slot, gen, value]

// Record type (JS only, never a loop event): a small read copied into the
// instance's pool Buffer (bridge.cc); value = its length.
constexpr int32_t kRecDataPooled = 100;
// Record type (JS only): the next buffer of the batch is the pool the
// following kRecDataPooled reads are in, starting at offset `value`.
constexpr int32_t kRecPoolAt = 101;
// Record type (JS only): a UDP datagram (kEvUdpMessage: sender header, then
// payload) copied into the pool Buffer, as kRecDataPooled; value = its length.
constexpr int32_t kRecUdpMessagePooled = 102;

}  // namespace pn
