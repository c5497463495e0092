// udp_handles.h - registers the UDP functions JS calls (lib/udp_handle.ts).
#pragma once

#include <napi.h>

namespace pn {
void register_udp_handles(Napi::Env env, Napi::Object exports);
}
