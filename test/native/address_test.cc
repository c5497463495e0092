// address_test - IP text <-> sockaddr round trips, as Node formats them.
#ifdef _WIN32
#include "platform.h"
#include <afunix.h>
#include <iphlpapi.h>
#ifndef IF_NAMESIZE
#define IF_NAMESIZE NDIS_IF_MAX_STRING_SIZE
#endif
#else
#include <sys/socket.h>  // before <net/if.h>: the BSDs want it first
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/un.h>
#endif

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "address.h"
#include "check.h"

static std::string round_trip(const char* ip, int port, int want_family) {
  pn::SockAddr a;
  CHECK_EQ(pn::addr_from_ip(ip, port, &a), 0);
  CHECK_EQ(a.len, want_family == 4 ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
  char out[pn::kMaxIpLen];
  int p = -1, family = 0;
  CHECK_EQ(pn::addr_to_ip(a.sa(), out, sizeof(out), &p, &family), 0);
  CHECK_EQ(p, port);
  CHECK_EQ(family, want_family);
  return out;
}

static void test_ipv4_round_trips() {
  CHECK(round_trip("127.0.0.1", 80, 4) == "127.0.0.1");
  CHECK(round_trip("0.0.0.0", 0, 4) == "0.0.0.0");
  CHECK(round_trip("255.255.255.255", 65535, 4) == "255.255.255.255");
  pn::SockAddr a;
  CHECK_EQ(pn::addr_from_ip("10.1.2.3", 8080, &a), 0);
  CHECK_EQ(a.family(), AF_INET);
}

static void test_ipv6_round_trips() {
  CHECK(round_trip("::1", 443, 6) == "::1");
  CHECK(round_trip("::", 1, 6) == "::");
  CHECK(round_trip("2001:db8:0:0:0:0:0:1", 2, 6) == "2001:db8::1");  // canonical form
  CHECK(round_trip("::ffff:1.2.3.4", 3, 6) == "::ffff:1.2.3.4");
}

static void test_ipv6_zone() {
  // Link-local with a zone: Node prints the interface name after '%'.
  char name[IF_NAMESIZE];
  if (if_indextoname(1, name) == nullptr) return;  // no interface 1: nothing to check
  std::string want = std::string("fe80::1%") + name;
  CHECK(round_trip("fe80::1%1", 9, 6) == want);
  CHECK(round_trip(want.c_str(), 9, 6) == want);
  pn::SockAddr a;
  CHECK_EQ(pn::addr_from_ip("fe80::1%1", 9, &a), 0);
  CHECK_EQ(reinterpret_cast<sockaddr_in6*>(&a.storage)->sin6_scope_id, 1);
}

static void test_rejects_non_literals_and_bad_ports() {
  pn::SockAddr a;
  const char* bad[] = {"", "localhost", "1.2.3", "1.2.3.256", "::1%", ":::", "1.2.3.4 ", "::g"};
  for (const char* ip : bad) CHECK_EQ(pn::addr_from_ip(ip, 80, &a), -EINVAL);
  CHECK_EQ(pn::addr_from_ip("127.0.0.1", -1, &a), -EINVAL);
  CHECK_EQ(pn::addr_from_ip("127.0.0.1", 65536, &a), -EINVAL);
  CHECK_EQ(pn::addr_from_ip(nullptr, 80, &a), -EINVAL);
  std::string long_ip(200, '1');
  CHECK_EQ(pn::addr_from_ip(long_ip.c_str(), 80, &a), -EINVAL);
}

static void test_unknown_family() {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  char out[pn::kMaxIpLen];
  int port, family;
  CHECK_EQ(pn::addr_to_ip(reinterpret_cast<sockaddr*>(&un), out, sizeof(out), &port, &family),
           -EAFNOSUPPORT);
}

static void test_unix_paths() {
  pn::SockAddr a;
  const char path[] = "/tmp/protonet-test.sock";
  CHECK_EQ(pn::addr_from_path(path, sizeof(path) - 1, &a), 0);
  CHECK_EQ(a.family(), AF_UNIX);
  const sockaddr_un* un = reinterpret_cast<const sockaddr_un*>(&a.storage);
  CHECK(strcmp(un->sun_path, path) == 0);
  CHECK_EQ(static_cast<size_t>(a.len), offsetof(sockaddr_un, sun_path) + sizeof(path));
  // Linux abstract name: leading NUL, no terminator counted.
  const char abstract[] = "\0protonet";
#if defined(__linux__) || defined(_WIN32)
  CHECK_EQ(pn::addr_from_path(abstract, sizeof(abstract) - 1, &a), 0);
  CHECK_EQ(static_cast<size_t>(a.len), offsetof(sockaddr_un, sun_path) + sizeof(abstract) - 1);
#else
  fprintf(stderr, "  (abstract name skipped: Linux-only, refused with EINVAL here)\n");
  CHECK_EQ(pn::addr_from_path(abstract, sizeof(abstract) - 1, &a), -EINVAL);
#endif
  // A path that fills sun_path exactly (no room for a NUL) is taken whole.
  const size_t full = sizeof(un->sun_path);
  std::string long_path(full, 'x');
  CHECK_EQ(pn::addr_from_path(long_path.data(), long_path.size(), &a), 0);
  CHECK_EQ(static_cast<size_t>(a.len), offsetof(sockaddr_un, sun_path) + full);
  CHECK(memcmp(un->sun_path, long_path.data(), full) == 0);
  // One byte more: refused (libuv's UV_PIPE_NO_TRUNCATE), or cut to sun_path.
  long_path += "yz";
  CHECK_EQ(pn::addr_from_path(long_path.data(), long_path.size(), &a), -EINVAL);
  CHECK_EQ(pn::addr_from_path(long_path.data(), long_path.size(), &a, pn::PathFit::kTruncate), 0);
  CHECK_EQ(static_cast<size_t>(a.len), offsetof(sockaddr_un, sun_path) + full);
  CHECK(memcmp(un->sun_path, long_path.data(), full) == 0);
  CHECK_EQ(pn::addr_from_path("", 0, &a), -EINVAL);
}

int main() {
  TEST(unix_paths);
  TEST(ipv4_round_trips);
  TEST(ipv6_round_trips);
  TEST(ipv6_zone);
  TEST(rejects_non_literals_and_bad_ports);
  TEST(unknown_family);
  return 0;
}
