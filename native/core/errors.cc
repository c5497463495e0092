// errors.cc - errno -> name, as Node's err.code spells it.
//
// The names follow libuv's uv_err_name(), because that is what Node puts in
// err.code: e.g. EOPNOTSUPP (== ENOTSUP on Linux) is reported as "ENOTSUP".
#include "errors.h"

#include <cerrno>

#include "platform.h"  // errno names a platform lacks (Windows CRT, macOS/BSD)

namespace pn {

// The table: every errno the core may return, by the name libuv gives it.
// Sockets and networking first (what this core actually returns), then the
// rest of libuv's table (files, pipes, Unix paths).
const ErrEntry kErrTable[] = {
#define PN_ERR(e) {-(e), #e},
    PN_ERR(EACCES)
    PN_ERR(EADDRINUSE)
    PN_ERR(EADDRNOTAVAIL)
    PN_ERR(EAFNOSUPPORT)
    PN_ERR(EAGAIN)  // == EWOULDBLOCK on Linux
    PN_ERR(EALREADY)
    PN_ERR(EBADF)
    PN_ERR(ECANCELED)
    PN_ERR(ECONNABORTED)
    PN_ERR(ECONNREFUSED)
    PN_ERR(ECONNRESET)
    PN_ERR(EDESTADDRREQ)
    PN_ERR(EHOSTDOWN)
    PN_ERR(EHOSTUNREACH)
    PN_ERR(EINPROGRESS)
    PN_ERR(EINTR)
    PN_ERR(EINVAL)
    PN_ERR(EISCONN)
    PN_ERR(EMFILE)
    PN_ERR(EMSGSIZE)
    PN_ERR(ENETDOWN)
    PN_ERR(ENETRESET)
    PN_ERR(ENETUNREACH)
    PN_ERR(ENFILE)
    PN_ERR(ENOBUFS)
    PN_ERR(ENOMEM)
    PN_ERR(ENONET)
    PN_ERR(ENOPROTOOPT)
    PN_ERR(ENOTCONN)
    PN_ERR(ENOTSOCK)
    PN_ERR(ENOTSUP)  // == EOPNOTSUPP on Linux; libuv names it ENOTSUP
    PN_ERR(EPERM)
    PN_ERR(EPIPE)
    PN_ERR(EPROTO)
    PN_ERR(EPROTONOSUPPORT)
    PN_ERR(EPROTOTYPE)
    PN_ERR(ESHUTDOWN)
    PN_ERR(ESOCKTNOSUPPORT)
    PN_ERR(ETIMEDOUT)
    PN_ERR(E2BIG)
    PN_ERR(EBUSY)
    PN_ERR(EEXIST)
    PN_ERR(EFAULT)
    PN_ERR(EFBIG)
    PN_ERR(EILSEQ)
    PN_ERR(EIO)
    PN_ERR(EISDIR)
    PN_ERR(ELOOP)
    PN_ERR(EMLINK)
    PN_ERR(ENAMETOOLONG)
    PN_ERR(ENODATA)
    PN_ERR(ENODEV)
    PN_ERR(ENOENT)
    PN_ERR(ENOSPC)
    PN_ERR(ENOSYS)
    PN_ERR(ENOTDIR)
    PN_ERR(ENOTEMPTY)
    PN_ERR(ENOTTY)
    PN_ERR(ENXIO)
    PN_ERR(EOVERFLOW)
    PN_ERR(ERANGE)
    PN_ERR(EREMOTEIO)
    PN_ERR(EROFS)
    PN_ERR(ESPIPE)
    PN_ERR(ESRCH)
    PN_ERR(ETXTBSY)
    PN_ERR(EUNATCH)
    PN_ERR(EXDEV)
#undef PN_ERR
};
const size_t kErrTableSize = sizeof(kErrTable) / sizeof(kErrTable[0]);

const char* err_name(int err) {
  for (size_t i = 0; i < kErrTableSize; i++) {
    if (kErrTable[i].err == err) return kErrTable[i].name;
  }
  // Aliases libuv folds into one name where a platform has two numbers.
#if EWOULDBLOCK != EAGAIN
  if (err == -EWOULDBLOCK) return "EAGAIN";
#endif
#if EOPNOTSUPP != ENOTSUP
  if (err == -EOPNOTSUPP) return "ENOTSUP";
#endif
  return "UNKNOWN";
}

int last_error() { return -errno; }

#ifdef _WIN32
// Winsock and Win32 codes -> POSIX, as libuv's uv_translate_sys_error does it,
// so a refused connect is "ECONNREFUSED" on Windows too.
int err_from_wsa(int code) {
  switch (code) {
    case 0: return 0;
    case WSAEINTR: return -EINTR;
    case WSAEBADF: case ERROR_INVALID_HANDLE: return -EBADF;
    case WSAENOTSOCK: return -ENOTSOCK;
    case WSAEACCES: case ERROR_ACCESS_DENIED: return -EACCES;
    case WSAEFAULT: case ERROR_NOACCESS: return -EFAULT;
    case WSAEINVAL: case ERROR_INVALID_PARAMETER: return -EINVAL;
    case WSAEMFILE: case ERROR_TOO_MANY_OPEN_FILES: return -EMFILE;
    case WSAEWOULDBLOCK: case ERROR_IO_PENDING: return -EAGAIN;
    case WSAEINPROGRESS: return -EINPROGRESS;
    case WSAEALREADY: return -EALREADY;
    case WSAEDESTADDRREQ: return -EDESTADDRREQ;
    case WSAEMSGSIZE: return -EMSGSIZE;
    case WSAEPROTOTYPE: return -EPROTOTYPE;
    case WSAENOPROTOOPT: return -ENOPROTOOPT;
    case WSAEPROTONOSUPPORT: return -EPROTONOSUPPORT;
    case WSAESOCKTNOSUPPORT: return -ESOCKTNOSUPPORT;
    case WSAEOPNOTSUPP: return -ENOTSUP;
    case WSAEPFNOSUPPORT: case WSAEAFNOSUPPORT: return -EAFNOSUPPORT;
    case WSAEADDRINUSE: return -EADDRINUSE;
    case WSAEADDRNOTAVAIL: return -EADDRNOTAVAIL;
    case WSAENETDOWN: return -ENETDOWN;
    case WSAENETUNREACH: case ERROR_NETWORK_UNREACHABLE: return -ENETUNREACH;
    case WSAENETRESET: return -ENETRESET;
    case WSAECONNABORTED: case ERROR_CONNECTION_ABORTED: return -ECONNABORTED;
    case WSAECONNRESET: case ERROR_NETNAME_DELETED: return -ECONNRESET;
    case WSAENOBUFS: return -ENOBUFS;
    case WSA_NOT_ENOUGH_MEMORY: case ERROR_OUTOFMEMORY: return -ENOMEM;
    case WSAEISCONN: return -EISCONN;
    case WSAENOTCONN: return -ENOTCONN;
    // Sending after shutdown(SD_SEND), or after the peer's reset was seen:
    // Linux says EPIPE there (libuv maps it the same way).
    case WSAESHUTDOWN: case ERROR_BROKEN_PIPE: return -EPIPE;
    case WSAETIMEDOUT: case ERROR_SEM_TIMEOUT: return -ETIMEDOUT;
    case WSAECONNREFUSED: case ERROR_CONNECTION_REFUSED: return -ECONNREFUSED;
    case WSAEHOSTDOWN: return -EHOSTDOWN;
    case WSAEHOSTUNREACH: case ERROR_HOST_UNREACHABLE: return -EHOSTUNREACH;
    case WSAENAMETOOLONG: return -ENAMETOOLONG;
    case WSAEDISCON: return -EPIPE;
    case ERROR_OPERATION_ABORTED: return -ECANCELED;
    case ERROR_NOT_SUPPORTED: return -ENOTSUP;
    default: return -EIO;  // no POSIX meaning; err_name says "EIO"
  }
}

int err_from_wsa_as_libuv(int code) {
  switch (code) {
    // Codes libuv's table leaves out (its default: UV_UNKNOWN).
    case WSAEBADF: case WSAEINPROGRESS: case WSAEDESTADDRREQ: case WSAEPROTOTYPE:
    case WSAENOPROTOOPT: case WSAEOPNOTSUPP: case WSAENETDOWN: case WSAENETRESET:
    case WSAEHOSTDOWN: case WSAENAMETOOLONG: case WSAEDISCON:
      return kErrUnknown;
    // Codes libuv names otherwise.
    case WSAEINTR: return -ECANCELED;
    case WSAEPFNOSUPPORT: return -EINVAL;
    default: {
      const int err = err_from_wsa(code);
      return err == -EIO ? kErrUnknown : err;
    }
  }
}
#endif

}  // namespace pn
