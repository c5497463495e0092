// errors_test - err_name spells negative errnos as Node's err.code does.
#include <cerrno>

#include "check.h"
#include "errors.h"

static void test_names_common_socket_errors() {
  struct {
    int err;
    const char* name;
  } cases[] = {
      {ECONNREFUSED, "ECONNREFUSED"}, {ECONNRESET, "ECONNRESET"},   {EPIPE, "EPIPE"},
      {EADDRINUSE, "EADDRINUSE"},     {EADDRNOTAVAIL, "EADDRNOTAVAIL"}, {EACCES, "EACCES"},
      {EAFNOSUPPORT, "EAFNOSUPPORT"}, {EINVAL, "EINVAL"},           {ETIMEDOUT, "ETIMEDOUT"},
      {ENETUNREACH, "ENETUNREACH"},   {EHOSTUNREACH, "EHOSTUNREACH"}, {ECANCELED, "ECANCELED"},
      {EMFILE, "EMFILE"},             {ENFILE, "ENFILE"},           {ENOBUFS, "ENOBUFS"},
      {ENOMEM, "ENOMEM"},             {ENOTCONN, "ENOTCONN"},       {ENOTSOCK, "ENOTSOCK"},
      {EBADF, "EBADF"},               {EAGAIN, "EAGAIN"},           {EINPROGRESS, "EINPROGRESS"},
      {EALREADY, "EALREADY"},         {EISCONN, "EISCONN"},         {ECONNABORTED, "ECONNABORTED"},
      {ENOENT, "ENOENT"},             {EPERM, "EPERM"},             {EPROTO, "EPROTO"},
      {ENETDOWN, "ENETDOWN"},         {EHOSTDOWN, "EHOSTDOWN"},     {EINTR, "EINTR"},
      {ENOSYS, "ENOSYS"},             {ESHUTDOWN, "ESHUTDOWN"},     {EMSGSIZE, "EMSGSIZE"},
      {ENOTSUP, "ENOTSUP"},
  };
  for (const auto& c : cases) CHECK_STREQ(pn::err_name(-c.err), c.name);
}

static void test_eopnotsupp_is_named_like_libuv() {
  // Same number on Linux; libuv (hence Node's err.code) says ENOTSUP.
  CHECK_STREQ(pn::err_name(-EOPNOTSUPP), "ENOTSUP");
  CHECK_STREQ(pn::err_name(-EWOULDBLOCK), "EAGAIN");
}

static void test_unknown_values() {
  CHECK_STREQ(pn::err_name(0), "UNKNOWN");
  CHECK_STREQ(pn::err_name(-99999), "UNKNOWN");
  CHECK_STREQ(pn::err_name(ECONNREFUSED), "UNKNOWN");  // positive: not a core error
}

static void test_last_error_is_negative_errno() {
  errno = EBADF;
  CHECK_EQ(pn::last_error(), -EBADF);
}

int main() {
  TEST(names_common_socket_errors);
  TEST(eopnotsupp_is_named_like_libuv);
  TEST(unknown_values);
  TEST(last_error_is_negative_errno);
  return 0;
}
