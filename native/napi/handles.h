// handles.h - registers the per-handle functions JS calls.
#pragma once

#include <napi.h>

namespace pn {
void register_handles(Napi::Env env, Napi::Object exports);
}
