// host_fd_type.cc - see host_fd_type.h.
#include "host_fd_type.h"

#include "platform.h"
#include "socket_ops.h"

namespace pn {

#ifdef _WIN32
const char* host_fd_type(int fd) {
  // Looked up in node.exe by name (it exports libuv), not linked: a host
  // without it (another runtime) gets the core's own guess.
  using GuessFn = int (*)(int);
  static const GuessFn guess = reinterpret_cast<GuessFn>(
      reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(nullptr), "uv_guess_handle")));
  if (guess == nullptr) return guess_handle_type(fd);
  // uv_handle_type's numbers (uv.h), named as Node's guessHandleType names them.
  switch (guess(fd)) {
    case 7: return "PIPE";  // UV_NAMED_PIPE
    case 12: return "TCP";
    case 14: return "TTY";
    case 15: return "UDP";
    case 17: return "FILE";
    default: return "UNKNOWN";
  }
}
#else
const char* host_fd_type(int fd) { return guess_handle_type(fd); }
#endif

}  // namespace pn
