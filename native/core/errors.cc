// errors.cc - errno -> name, as Node's err.code spells it.
//
// The names follow libuv's uv_err_name(), because that is what Node puts in
// err.code: e.g. EOPNOTSUPP (== ENOTSUP on Linux) is reported as "ENOTSUP".
#include "errors.h"

#include <cerrno>

namespace pn {

const char* err_name(int err) {
  switch (-err) {
#define PN_ERR(e) \
  case e:         \
    return #e;
    // Sockets and networking first: what this core actually returns.
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
    // The rest of libuv's table (files, pipes, Unix paths).
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
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
      return "EAGAIN";
#endif
#if EOPNOTSUPP != ENOTSUP
    case EOPNOTSUPP:
      return "ENOTSUP";
#endif
    default:
      return "UNKNOWN";
  }
}

int last_error() { return -errno; }

}  // namespace pn
