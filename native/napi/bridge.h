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

// JS thread, from setImmediate after a batch: the event-loop turn is over, so
// the next batch may be taken; re-rings a doorbell deferred meanwhile.
void bridge_turn_ended(Instance* inst);

// Packs the per-event record layout shared with lib/binding.ts.
constexpr int kRecordInts = 4;  // [type, slot, gen, value]

// Record type (JS only, never a loop event): a small read copied into the
// batch's shared pool Buffer (bridge.cc make_pooled); value = its length.
constexpr int32_t kRecDataPooled = 100;

}  // namespace pn
