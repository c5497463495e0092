// platform.h - the few types the core's interfaces share across platforms.
//
// On POSIX this is just the system headers (iovec, ssize_t, IOV_MAX). On
// Windows (mingw-w64 or MSVC) it brings in Winsock and supplies what POSIX
// has and Windows lacks, so loop.h, stream.h and socket_ops.h read the same:
//   - `iovec` {iov_base, iov_len}: Winsock's WSABUF has another layout (and a
//     32-bit length), so socket_ops_win.cc converts at the call;
//   - `ssize_t` and IOV_MAX;
//   - errno values the CRT does not define (libuv's UV_E* on Windows fill the
//     same gap), so err_name() spells every name on every platform. That
//     fallback block (at the end) applies on POSIX too: macOS and the BSDs
//     lack ENONET, EREMOTEIO, EUNATCH, and FreeBSD/OpenBSD ENODATA; Linux has
//     them all, so there it defines nothing.
// A socket is still an `int` in the core: Windows handles (SOCKETs included)
// are documented to have only 32 significant bits, so a SOCKET round-trips
// through int (INVALID_SOCKET <-> -1) and every event/command keeps its shape.
#pragma once

#ifdef _WIN32

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#if !defined(_WIN32_WINNT) || _WIN32_WINNT < 0x0600
#undef _WIN32_WINNT
#define _WIN32_WINNT 0x0600  // Vista: inet_pton/ntop, WSAPoll, GetQueuedCompletionStatusEx
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <cerrno>
#include <cstddef>
#include <sys/types.h>

#if defined(_MSC_VER) && !defined(__MINGW32__)
#include <BaseTsd.h>
typedef SSIZE_T ssize_t;
#endif

struct iovec {
  void* iov_base;
  size_t iov_len;
};

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

namespace pn {
// WSAStartup, once per process (later calls are free). Every socket_ops call
// that creates a socket and Poller::init() run it, so no caller has to.
void net_init();
// A Winsock (or Win32) error code as the negative POSIX errno the core
// returns everywhere (WSAECONNREFUSED -> -ECONNREFUSED), so err_name() and
// the JS side see the same names as on Linux. errors.cc holds the table.
int err_from_wsa(int wsa_error);
// An error libuv has no name for (its UV_UNKNOWN's number): err_name() says
// "UNKNOWN", as Node does for it.
constexpr int kErrUnknown = -4094;
// err_from_wsa() exactly as libuv's uv_translate_sys_error names the code,
// for errors Node reports as libuv gives them (the UDP calls): a Winsock
// code libuv has no name for is kErrUnknown, where err_from_wsa() picks the
// POSIX one (WSAENOPROTOOPT: UNKNOWN, not ENOPROTOOPT).
int err_from_wsa_as_libuv(int wsa_error);
}  // namespace pn

#else  // POSIX

#include <sys/types.h>
#include <sys/uio.h>

#include <cerrno>  // before the errno fallbacks below test what it defines
#include <climits>

#endif

// errno names err_name() spells that a platform may lack: the Windows CRT
// (most of these), macOS and the BSDs (ENONET, EREMOTEIO, EUNATCH; ENODATA on
// FreeBSD/OpenBSD). Values far above any system's errno range, so no case of
// err_name's switch collides with a real one (names that share a value on a
// platform, EAGAIN/EWOULDBLOCK and ENOTSUP/EOPNOTSUPP, are handled there).
// No system returns these, so on a platform lacking a name it is never seen.
#ifndef EHOSTDOWN
#define EHOSTDOWN 3001
#endif
#ifndef ENONET
#define ENONET 3002
#endif
#ifndef ESHUTDOWN
#define ESHUTDOWN 3003
#endif
#ifndef ESOCKTNOSUPPORT
#define ESOCKTNOSUPPORT 3004
#endif
#ifndef EREMOTEIO
#define EREMOTEIO 3005
#endif
#ifndef EUNATCH
#define EUNATCH 3006
#endif
#ifndef EMLINK
#define EMLINK 3007
#endif
#ifndef ENODATA
#define ENODATA 3008
#endif
#ifndef ETXTBSY
#define ETXTBSY 3009
#endif
#ifndef EOVERFLOW
#define EOVERFLOW 3010
#endif
#ifndef ELOOP
#define ELOOP 3011
#endif
