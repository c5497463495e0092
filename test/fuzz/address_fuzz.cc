// address_fuzz - libFuzzer harness for addr_from_ip / addr_to_ip / addr_from_path.
// Input: 2 bytes of port, then the text to parse. A literal that parses must
// format back to text that parses to the same socket address.
#include <cstdint>
#include <cstring>
#include <string>

#include <netinet/in.h>

#include "address.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Ports above 0x7fff are shifted out of range (and one negative) to hit the -EINVAL path.
  int port = data[0] << 8 | data[1];
  if (port == 0xffff) port = -1;
  else if (port & 0x8000) port += 70000;
  std::string ip(reinterpret_cast<const char*>(data + 2), size - 2);  // may hold NULs

  pn::SockAddr a;
  int err = pn::addr_from_ip(ip.c_str(), port, &a);
  if (err == 0) {
    if (port < 0 || port > 65535) __builtin_trap();
    char text[pn::kMaxIpLen];
    int p2 = -1, fam = 0;
    if (pn::addr_to_ip(a.sa(), text, sizeof text, &p2, &fam) != 0) __builtin_trap();
    if (p2 != port || (fam != 4 && fam != 6)) __builtin_trap();
    if (strnlen(text, sizeof text) >= sizeof text) __builtin_trap();
    pn::SockAddr b;
    if (pn::addr_from_ip(text, p2, &b) != 0) __builtin_trap();
    // The text carries a zone for link-local addresses only (as Node prints them).
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    if (fam == 6 && !IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr)) a6->sin6_scope_id = 0;
    if (a.len != b.len || memcmp(&a.storage, &b.storage, a.len) != 0) __builtin_trap();
  } else if (err != -22 /* EINVAL */) {
    __builtin_trap();
  }

  pn::SockAddr u;
  err = pn::addr_from_path(reinterpret_cast<const char*>(data + 2), size - 2, &u);
  if (err == 0 && (u.len == 0 || u.len > sizeof(u.storage))) __builtin_trap();
  return 0;
}
