// handles.h - registers the per-handle functions JS calls.
#pragma once

#include <napi.h>

namespace pn {

// writev()'s answer for a write copied and handed to a loop on another thread
// (write_offload.h): for JS it completed now, as a write made at once (0);
// it tells JS that the process's 'exit' must wait for the loops to send it
// (flushCopied). Part of the contract (addon.cc).
constexpr int kWriteCopied = 2;

void register_handles(Napi::Env env, Napi::Object exports);
}
