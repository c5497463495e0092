// invariant.h - PN_ASSERT: the core's invariants, checked where they are
// assumed, as libuv's assert()s are.
//
// Active where PN_ASSERTS is defined (CMake: PN_ASSERTS=ON or a Debug build;
// the CTest build of scripts/ctest.js, hence the sanitizer, kqueue-shim and
// wine runs, turns it on) and in node-gyp's Debug builds (DEBUG). The release
// addon compiles them away (node-gyp does not define NDEBUG, so NDEBUG is not
// the switch): an assertion costs nothing there and must never have side
// effects. A failed assertion is a bug in protonet: it prints where and aborts.
#pragma once

#if defined(PN_ASSERTS) || defined(DEBUG) || defined(_DEBUG)
#include <cstdio>
#include <cstdlib>

namespace pn {
[[noreturn]] inline void assert_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "protonet: %s:%d: invariant failed: %s\n", file, line, expr);
  std::abort();
}
}  // namespace pn

#define PN_ASSERTS_ON 1
#define PN_ASSERT(cond) ((cond) ? (void)0 : ::pn::assert_failed(#cond, __FILE__, __LINE__))
#else
#define PN_ASSERTS_ON 0
#define PN_ASSERT(cond) ((void)sizeof(!(cond)))
#endif
