// driven_loop.h - runs a driven Loop (Loop::start_driven) on the JS thread's
// own libuv loop, so a socket's readiness wakes the thread that runs its
// callbacks, as with node:net: no hop from an I/O thread to the JS thread.
//
// Node only. libuv is looked up in the host process at run time (never
// linked), so the same binary still loads where there is none (Bun, Deno):
// there the caller keeps its I/O threads.
#pragma once

#include <node_api.h>

namespace pn {

struct Instance;

// Watches inst->pool.loop(0)'s poll_fd() from env's libuv loop and calls its
// run_once() whenever it is readable (and when its listener timer is due).
// False, with nothing left behind, when that is not possible here.
bool driven_attach(Instance* inst, napi_env env);

// The driven loop's waker (Loop::start_driven): schedules run_once() for the
// JS thread's next idle phase. JS thread only.
void driven_wake(void* instance);

// Stops watching (JS thread). Call before the pool stops.
void driven_detach(Instance* inst);

}  // namespace pn
