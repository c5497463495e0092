// host_fd_type.h - what the host Node's guessHandleType(fd) says of an fd.
#pragma once

namespace pn {

// "TCP", "PIPE", "UDP", "TTY", "FILE" or "UNKNOWN", as Node's guessHandleType.
// On Windows an fd is a descriptor of node.exe's C runtime, which this
// addon's runtime (another CRT) cannot see: the host's own uv_guess_handle
// types it, as node:dgram's bind({ fd }) does (it never says UDP there).
// Elsewhere descriptors are the process's: the core's guess_handle_type.
const char* host_fd_type(int fd);

}  // namespace pn
