// address.cc - numeric IP text <-> sockaddr, as Node prints and parses it.
#include "address.h"

#ifdef _WIN32
#include "platform.h"
#include <afunix.h>     // sockaddr_un (Windows 10 1803+)
#include <iphlpapi.h>   // if_nametoindex / if_indextoname
#ifndef IF_NAMESIZE
#define IF_NAMESIZE NDIS_IF_MAX_STRING_SIZE
#endif
#else
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/un.h>
#endif

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pn {

int addr_from_ip(const char* ip, int port, SockAddr* out) {
  if (ip == nullptr || port < 0 || port > 65535) return -EINVAL;
  *out = SockAddr{};

  sockaddr_in* a4 = reinterpret_cast<sockaddr_in*>(&out->storage);
  if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<uint16_t>(port));
    out->len = sizeof(sockaddr_in);
    return 0;
  }

  // IPv6, maybe with a zone ("fe80::1%eth0" or "fe80::1%2"). inet_pton does
  // not take the zone, so split it off first.
  char buf[kMaxIpLen];
  size_t n = strlen(ip);
  if (n >= sizeof(buf)) return -EINVAL;
  memcpy(buf, ip, n + 1);
  const char* zone = nullptr;
  if (char* pct = strchr(buf, '%')) {
    *pct = '\0';
    zone = pct + 1;
    if (*zone == '\0') return -EINVAL;
  }
  sockaddr_in6* a6 = reinterpret_cast<sockaddr_in6*>(&out->storage);
  if (inet_pton(AF_INET6, buf, &a6->sin6_addr) != 1) {
    *out = SockAddr{};
    return -EINVAL;
  }
  a6->sin6_family = AF_INET6;
  a6->sin6_port = htons(static_cast<uint16_t>(port));
  if (zone != nullptr) {
    // Like libuv's uv_ip6_addr: an interface name, else a number. An unknown
    // name gives scope 0 rather than an error (the connect then decides).
    char* end = nullptr;
    unsigned long id = strtoul(zone, &end, 10);
    a6->sin6_scope_id = (*end == '\0') ? static_cast<uint32_t>(id) : if_nametoindex(zone);
  }
  out->len = sizeof(sockaddr_in6);
  return 0;
}

int addr_from_path(const char* path, size_t len, SockAddr* out, PathFit fit) {
  *out = SockAddr{};
  if (path == nullptr || len == 0) return -EINVAL;
  sockaddr_un* un = reinterpret_cast<sockaddr_un*>(&out->storage);
  const bool abstract = path[0] == '\0';
#if !defined(__linux__) && !defined(_WIN32)
  // Abstract names (leading NUL) are Linux's (Windows' AF_UNIX has them too);
  // macOS and the BSDs would take the NUL as an empty filesystem path.
  if (abstract) return -EINVAL;
#endif
  if (len > sizeof(un->sun_path)) {
    if (fit == PathFit::kRefuse) return -EINVAL;
    len = sizeof(un->sun_path);
  }
  un->sun_family = AF_UNIX;
  memcpy(un->sun_path, path, len);
  // A filesystem path shorter than sun_path carries its NUL (the rest of
  // storage is zeroed); one that fills it has none, as libuv passes it.
  const size_t nul = !abstract && len < sizeof(un->sun_path) ? 1 : 0;
  out->len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len + nul);
  return 0;
}

int addr_to_ip(const sockaddr* sa, char* ip, size_t ip_len, int* port, int* family) {
  if (sa->sa_family == AF_INET) {
    const sockaddr_in* a4 = reinterpret_cast<const sockaddr_in*>(sa);
    if (inet_ntop(AF_INET, &a4->sin_addr, ip, static_cast<socklen_t>(ip_len)) == nullptr)
      return -errno;
    *port = ntohs(a4->sin_port);
    *family = 4;
    return 0;
  }
  if (sa->sa_family == AF_INET6) {
    const sockaddr_in6* a6 = reinterpret_cast<const sockaddr_in6*>(sa);
    if (inet_ntop(AF_INET6, &a6->sin6_addr, ip, static_cast<socklen_t>(ip_len)) == nullptr)
      return -errno;
    // Node appends the interface to link-local addresses ("fe80::1%eth0").
    if (IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr) && a6->sin6_scope_id > 0) {
      char name[IF_NAMESIZE];
      size_t used = strlen(ip);
      int w;
      if (if_indextoname(a6->sin6_scope_id, name) != nullptr)
        w = snprintf(ip + used, ip_len - used, "%%%s", name);
      else
        w = snprintf(ip + used, ip_len - used, "%%%u", static_cast<unsigned>(a6->sin6_scope_id));
      if (w < 0 || static_cast<size_t>(w) >= ip_len - used) {
        ip[used] = '\0';
        return -ENOSPC;
      }
    }
    *port = ntohs(a6->sin6_port);
    *family = 6;
    return 0;
  }
  return -EAFNOSUPPORT;
}

}  // namespace pn
