// address.h - sockaddr <-> {ip, port, family}.
#pragma once

#include <cstddef>

#ifdef _WIN32
#include "platform.h"  // Winsock: sockaddr_storage, socklen_t
#else
#include <sys/socket.h>
#include <netinet/in.h>
#endif

namespace pn {

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;

  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* sa() { return reinterpret_cast<sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
};

// Longest textual IPv6 address with a zone id, plus NUL.
constexpr size_t kMaxIpLen = 64;

// Parses a numeric IPv4 or IPv6 literal (with an optional "%zone" for IPv6).
// Returns 0, or -EINVAL when `ip` is not an IP literal or `port` is outside 0..65535.
int addr_from_ip(const char* ip, int port, SockAddr* out);

// What to do with a Unix socket name longer than sun_path, as libuv's
// uv_pipe_bind2/uv_pipe_connect2 are told: refuse it (UV_PIPE_NO_TRUNCATE,
// Node 22+) or use its first sizeof(sun_path) bytes (older Node).
enum class PathFit { kRefuse, kTruncate };

// A Unix domain socket address. `len` bytes of `path` (a path, or a Linux
// abstract name when path[0] is NUL); a path that fills sun_path exactly needs
// no terminating NUL (the kernel reads at most sizeof(sun_path) bytes).
// Returns 0, or -EINVAL when empty, abstract on macOS/BSD (which have no such
// names), or longer than sun_path with PathFit::kRefuse.
int addr_from_path(const char* path, size_t len, SockAddr* out, PathFit fit = PathFit::kRefuse);

// Formats `sa` as text. `family` receives 4 or 6. Returns 0 or -EAFNOSUPPORT.
int addr_to_ip(const sockaddr* sa, char* ip, size_t ip_len, int* port, int* family);

}  // namespace pn
