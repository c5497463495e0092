// views.h - the bytes of a JS view (a TypedArray, Buffer or DataView) as an
// iovec, for writes and datagrams that are sent from that memory.
//
// Threads: JS thread only (it reads JS values). The iovec points into the
// view's ArrayBuffer: it is valid while JS keeps the view alive, which the
// callers arrange (a copy, an immediate send, or JS holding the chunks until
// the completion).
#pragma once

#include <node_api.h>

#include "platform.h"

namespace pn {

// One call per view: napi_get_typedarray_info gives the data pointer with the
// view's offset applied, where the C++ wrappers would make four calls.
// False (and an empty iovec) when `v` is not a view.
inline bool view_bytes(napi_env env, napi_value v, iovec* out) {
  out->iov_base = nullptr;
  out->iov_len = 0;
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok) return false;
  void* data = nullptr;
  napi_value ab;
  size_t offset = 0;
  if (is_typed) {
    napi_typedarray_type type;
    size_t count = 0;
    if (napi_get_typedarray_info(env, v, &type, &count, &data, &ab, &offset) != napi_ok) return false;
    // Element sizes by napi_typedarray_type: int8, uint8, uint8 clamped,
    // int16, uint16, int32, uint32, float32, float64, bigint64, biguint64,
    // float16 (11, newer Node). An unknown type counts bytes: never past the end.
    static const size_t kSize[] = {1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8, 2};
    out->iov_len = count * (static_cast<size_t>(type) < 12 ? kSize[type] : 1);
  } else {
    bool is_view = false;
    if (napi_is_dataview(env, v, &is_view) != napi_ok || !is_view) return false;
    if (napi_get_dataview_info(env, v, &out->iov_len, &data, &ab, &offset) != napi_ok) return false;
  }
  out->iov_base = data;
  return true;
}

}  // namespace pn
