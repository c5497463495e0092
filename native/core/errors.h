// errors.h - portable error names for the negative errno values the core returns.
//
// Every core function reports failure libuv-style: 0 (or a count) on success, a
// negative errno on failure. Names are the POSIX ones ("ECONNREFUSED"), which is
// what Node's `err.code` carries; the JS side maps the name to Node's own errno
// number for the platform, so the core never needs to know libuv's numbering.
#pragma once

#include <cstddef>

namespace pn {

// One errno the core may return (negative) and its name. The addon exports
// the whole table to JS (native/napi/addon.cc), which compares errors by name
// through it instead of repeating numbers.
struct ErrEntry {
  int err;
  const char* name;
};
extern const ErrEntry kErrTable[];
extern const size_t kErrTableSize;

// Name of a negative errno ("ECONNREFUSED"); "UNKNOWN" when it is not one we know.
const char* err_name(int err);

// Negative errno of the calling thread's last failure (-errno on POSIX).
int last_error();

}  // namespace pn
