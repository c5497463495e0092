// errors_test - err_name spells negative errnos as Node's err.code does.
#include <cerrno>
#include <cstring>

#include "check.h"
#include "errors.h"
#include "platform.h"  // errno names a platform lacks (Windows CRT, macOS/BSD)

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

static void test_names_some_platforms_lack() {
  // platform.h supplies these where the system does not (Windows CRT; macOS
  // and the BSDs for the first four), so err_name spells them everywhere.
  CHECK_STREQ(pn::err_name(-ENONET), "ENONET");
  CHECK_STREQ(pn::err_name(-EREMOTEIO), "EREMOTEIO");
  CHECK_STREQ(pn::err_name(-EUNATCH), "EUNATCH");
  CHECK_STREQ(pn::err_name(-ENODATA), "ENODATA");
  CHECK_STREQ(pn::err_name(-EHOSTDOWN), "EHOSTDOWN");
  CHECK_STREQ(pn::err_name(-ESOCKTNOSUPPORT), "ESOCKTNOSUPPORT");
}

static void test_unknown_values() {
  CHECK_STREQ(pn::err_name(0), "UNKNOWN");
  CHECK_STREQ(pn::err_name(-99999), "UNKNOWN");
  CHECK_STREQ(pn::err_name(ECONNREFUSED), "UNKNOWN");  // positive: not a core error
}

static void test_table_has_one_entry_per_number_and_name() {
  // JS keys errors by name through this table (both ways), so neither a number
  // nor a name may appear twice; err_name must answer each entry's own name.
  for (size_t i = 0; i < pn::kErrTableSize; i++) {
    CHECK(pn::kErrTable[i].err < 0);
    CHECK_STREQ(pn::err_name(pn::kErrTable[i].err), pn::kErrTable[i].name);
    for (size_t j = i + 1; j < pn::kErrTableSize; j++) {
      CHECK(pn::kErrTable[i].err != pn::kErrTable[j].err);
      CHECK(std::strcmp(pn::kErrTable[i].name, pn::kErrTable[j].name) != 0);
    }
  }
}

static void test_last_error_is_negative_errno() {
  errno = EBADF;
  CHECK_EQ(pn::last_error(), -EBADF);
}

#ifdef _WIN32
static void test_winsock_errors_get_posix_names() {
  // What JS sees must not depend on the platform: Winsock codes come out of
  // the core as the same negative errnos, hence the same names.
  struct {
    int wsa;
    const char* name;
  } cases[] = {
      {WSAECONNREFUSED, "ECONNREFUSED"}, {WSAECONNRESET, "ECONNRESET"},
      {WSAECONNABORTED, "ECONNABORTED"}, {WSAEADDRINUSE, "EADDRINUSE"},
      {WSAEADDRNOTAVAIL, "EADDRNOTAVAIL"}, {WSAEWOULDBLOCK, "EAGAIN"},
      {WSAETIMEDOUT, "ETIMEDOUT"},       {WSAENETUNREACH, "ENETUNREACH"},
      {WSAEHOSTUNREACH, "EHOSTUNREACH"}, {WSAENOTCONN, "ENOTCONN"},
      {WSAESHUTDOWN, "EPIPE"},           {WSAEMFILE, "EMFILE"},
      {WSAENOBUFS, "ENOBUFS"},           {WSAEAFNOSUPPORT, "EAFNOSUPPORT"},
      {WSAEACCES, "EACCES"},             {WSAEINVAL, "EINVAL"},
      {WSAENOTSOCK, "ENOTSOCK"},         {WSAEHOSTDOWN, "EHOSTDOWN"},
      {WSAEOPNOTSUPP, "ENOTSUP"},        {ERROR_OPERATION_ABORTED, "ECANCELED"},
      {ERROR_NETNAME_DELETED, "ECONNRESET"}, {ERROR_CONNECTION_REFUSED, "ECONNREFUSED"},
  };
  for (const auto& c : cases) CHECK_STREQ(pn::err_name(pn::err_from_wsa(c.wsa)), c.name);
  CHECK_EQ(pn::err_from_wsa(0), 0);
}
#endif

int main() {
  TEST(names_common_socket_errors);
  TEST(eopnotsupp_is_named_like_libuv);
  TEST(names_some_platforms_lack);
  TEST(unknown_values);
  TEST(table_has_one_entry_per_number_and_name);
  TEST(last_error_is_negative_errno);
#ifdef _WIN32
  TEST(winsock_errors_get_posix_names);
#endif
  return 0;
}
