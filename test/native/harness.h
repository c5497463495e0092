// harness.h - drive a pn::Loop from a test: a doorbell that signals a condition
// variable, a log of every event taken (owned here, freed at the end), bounded
// waits for a given event, and socket helpers on 127.0.0.1.
//
// The same tests build for Windows (mingw-w64, run under wine by
// scripts/test-windows.js): the raw_* helpers below are the only place a
// test touches a socket without socket_ops, and they have a POSIX and a
// Winsock body. kIsWindows lets a test skip what Windows does not have
// (fd limits, FD_CLOEXEC flags, reading back O_NONBLOCK), saying why.
#pragma once

#ifdef _WIN32
#include "platform.h"
#include <mstcpip.h>
#include <psapi.h>
#else
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "errors.h"
#include "loop.h"
#include "socket_ops.h"

namespace pt {

using Clock = std::chrono::steady_clock;
constexpr int kWaitMs = 5000;

inline int64_t ms_since(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

#ifdef _WIN32
constexpr bool kIsWindows = true;

inline SOCKET sock_of(int fd) { return static_cast<SOCKET>(static_cast<intptr_t>(fd)); }

inline void sleep_ms(int ms) { Sleep(static_cast<DWORD>(ms)); }

// Process CPU time (user+sys) in ms: a spinning loop thread shows up here.
inline int64_t cpu_ms() {
  FILETIME create, exit, kernel, user;
  CHECK(GetProcessTimes(GetCurrentProcess(), &create, &exit, &kernel, &user));
  auto ms = [](const FILETIME& f) {
    return static_cast<int64_t>((static_cast<uint64_t>(f.dwHighDateTime) << 32) | f.dwLowDateTime) /
           10000;
  };
  return ms(kernel) + ms(user);
}

// This process's entries in NtQuerySystemInformation(SystemHandleInformation):
// how handles are counted under wine, whose GetProcessHandleCount says 0.
inline int count_handles_system_wide() {
  struct Entry {
    USHORT pid;
    USHORT creator_back_trace;
    UCHAR object_type;
    UCHAR flags;
    USHORT handle;
    PVOID object;
    ACCESS_MASK access;
  };
  struct Info {
    ULONG count;
    Entry entries[1];
  };
  using QueryFn = LONG(WINAPI*)(ULONG, PVOID, ULONG, PULONG);
  QueryFn query = reinterpret_cast<QueryFn>(reinterpret_cast<void*>(
      GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQuerySystemInformation")));
  CHECK(query != nullptr);
  std::vector<char> buf(1 << 20);
  for (;;) {
    ULONG len = 0;
    LONG st = query(16 /* SystemHandleInformation */, buf.data(), static_cast<ULONG>(buf.size()), &len);
    if (st == static_cast<LONG>(0xC0000004)) {  // STATUS_INFO_LENGTH_MISMATCH
      buf.resize(buf.size() * 2);
      continue;
    }
    CHECK_EQ(st, 0);
    break;
  }
  const Info* info = reinterpret_cast<const Info*>(buf.data());
  const USHORT me = static_cast<USHORT>(GetCurrentProcessId());
  int n = 0;
  for (ULONG i = 0; i < info->count; i++)
    if (info->entries[i].pid == me) n++;
  return n;
}

// Open kernel handles (sockets included): the Windows count of open fds.
// Winsock keeps a handle or two of its own, made on first use (WSAStartup,
// the first bind/connect): one warm-up round trip before the first count, so
// those are never taken for a leak of ours.
inline int count_open_fds() {
  static const bool warmed = [] {
    pn::SockAddr any;
    CHECK_EQ(pn::addr_from_ip("127.0.0.1", 0, &any), 0);
    int lfd = -1, cfd = -1;
    CHECK_EQ(pn::stream_listen(any, 1, false, false, &lfd, nullptr), 0);
    pn::SockAddr bound;
    CHECK_EQ(pn::sock_name(lfd, &bound), 0);
    CHECK_EQ(pn::stream_connect_start(bound, nullptr, &cfd), 0);
    int sfd = -EAGAIN;
    for (int i = 0; i < 500 && sfd == -EAGAIN; i++) {
      sfd = pn::sock_accept(lfd);
      if (sfd == -EAGAIN) Sleep(2);
    }
    pn::close_fd(sfd);
    pn::close_fd(cfd);
    pn::close_fd(lfd);
    return true;
  }();
  (void)warmed;
  DWORD n = 0;
  if (GetProcessHandleCount(GetCurrentProcess(), &n) && n > 0) return static_cast<int>(n);
  return count_handles_system_wide();
}

inline bool fd_is_open(int fd) {
  int type = 0;
  int len = sizeof(type);
  return getsockopt(sock_of(fd), SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &len) == 0;
}

// 1 non-blocking, 0 blocking, -1 cannot tell (Winsock cannot read FIONBIO back).
inline int nonblocking_state(int) { return -1; }
// 1 close-on-exec (not inheritable), 0 inheritable.
inline int cloexec_state(int fd) {
  DWORD flags = 0;
  CHECK(GetHandleInformation(reinterpret_cast<HANDLE>(sock_of(fd)), &flags));
  return (flags & HANDLE_FLAG_INHERIT) ? 0 : 1;
}

inline int raw_socket() {
  pn::net_init();
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  CHECK(s != INVALID_SOCKET);
  SetHandleInformation(reinterpret_cast<HANDLE>(s), HANDLE_FLAG_INHERIT, 0);
  return static_cast<int>(s);
}
inline void raw_close(int fd) { closesocket(sock_of(fd)); }
inline int raw_bind(int fd, const pn::SockAddr& a) { return bind(sock_of(fd), a.sa(), a.len); }
inline int raw_connect_to(int fd, const pn::SockAddr& a) {
  return connect(sock_of(fd), a.sa(), a.len);
}
inline ssize_t raw_write(int fd, const void* buf, size_t len) {
  int n = send(sock_of(fd), static_cast<const char*>(buf), static_cast<int>(len), 0);
  return n < 0 ? -1 : n;
}
inline ssize_t raw_read(int fd, void* buf, size_t len) {
  int n = recv(sock_of(fd), static_cast<char*>(buf), static_cast<int>(len), 0);
  return n < 0 ? -1 : n;
}
inline void raw_set_int_opt(int fd, int level, int name, int value) {
  setsockopt(sock_of(fd), level, name, reinterpret_cast<const char*>(&value), sizeof(value));
}
inline void raw_set_rcvtimeo(int fd, int ms) {
  DWORD t = static_cast<DWORD>(ms);
  setsockopt(sock_of(fd), SOL_SOCKET, SO_RCVTIMEO, reinterpret_cast<const char*>(&t), sizeof(t));
}
// Waits until fd is readable (or writable): 1, or 0 on timeout.
inline int raw_wait(int fd, bool writable, int ms) {
  WSAPOLLFD p{};
  p.fd = sock_of(fd);
  p.events = writable ? POLLWRNORM : POLLRDNORM;
  return WSAPoll(&p, 1, ms) > 0 ? 1 : 0;
}
inline int raw_accept_once(int lfd, bool nonblock) {
  SOCKET s = accept(sock_of(lfd), nullptr, nullptr);
  if (s == INVALID_SOCKET) return -1;
  SetHandleInformation(reinterpret_cast<HANDLE>(s), HANDLE_FLAG_INHERIT, 0);
  u_long on = nonblock ? 1 : 0;
  ioctlsocket(s, FIONBIO, &on);
  return static_cast<int>(s);
}
inline int cpu_count() { return static_cast<int>(std::thread::hardware_concurrency()); }
inline void set_env(const char* name, const char* value) { _putenv_s(name, value); }
inline void unset_env(const char* name) { _putenv_s(name, ""); }

// True under wine (its ntdll exports wine_get_version). Wine runs Winsock on
// Linux sockets, and its wineserver polls every socket itself, so a few
// things differ from real Windows; the tests that meet them take wine's
// answer as well and print a note (docs/compatibility.md, the Windows paragraph, lists them).
inline bool under_wine() {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}
#else
constexpr bool kIsWindows = false;
#endif

// Where the core (as libuv) has SO_REUSEPORT with the kernel spreading
// connections; elsewhere asking for it answers -ENOTSUP.
#if defined(__linux__) || defined(__DragonFly__) || defined(__FreeBSD__)
constexpr bool kHasReusePort = true;
#else
constexpr bool kHasReusePort = false;
#endif

#ifndef _WIN32

inline void sleep_ms(int ms) { usleep(static_cast<useconds_t>(ms) * 1000); }

// Process CPU time (user+sys) in ms: a spinning loop thread shows up here.
inline int64_t cpu_ms() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

inline int count_open_fds() {
#if defined(__linux__) || defined(__APPLE__)
  // Linux: /proc/self/fd. macOS: /dev/fd (devfs lists every descriptor).
#ifdef __linux__
  DIR* d = opendir("/proc/self/fd");
#else
  DIR* d = opendir("/dev/fd");
#endif
  CHECK(d != nullptr);
  int n = 0;
  const int own = dirfd(d);
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;  // "." and ".."
    if (atoi(e->d_name) == own) continue;  // the DIR's own fd
    n++;
  }
  closedir(d);
  return n;
#else
  // The BSDs: /dev/fd shows only 0-2 unless fdescfs is mounted, so probe
  // every descriptor below the soft limit instead.
  rlimit rl;
  CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  const int max = (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 65536)
                      ? 65536 : static_cast<int>(rl.rlim_cur);
  int n = 0;
  for (int fd = 0; fd < max; fd++)
    if (fcntl(fd, F_GETFD) != -1) n++;
  return n;
#endif
}

inline bool fd_is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

inline int nonblocking_state(int fd) { return (fcntl(fd, F_GETFL) & O_NONBLOCK) ? 1 : 0; }
inline int cloexec_state(int fd) { return (fcntl(fd, F_GETFD) & FD_CLOEXEC) ? 1 : 0; }

inline int raw_socket() {
#ifdef SOCK_CLOEXEC
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHECK(fd >= 0);
#else  // macOS
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(fd >= 0);
  CHECK_EQ(fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
#endif
  return fd;
}
inline void raw_close(int fd) { close(fd); }
inline int raw_bind(int fd, const pn::SockAddr& a) { return bind(fd, a.sa(), a.len); }
inline int raw_connect_to(int fd, const pn::SockAddr& a) { return connect(fd, a.sa(), a.len); }
inline ssize_t raw_write(int fd, const void* buf, size_t len) { return write(fd, buf, len); }
inline ssize_t raw_read(int fd, void* buf, size_t len) { return read(fd, buf, len); }
inline void raw_set_int_opt(int fd, int level, int name, int value) {
  setsockopt(fd, level, name, &value, sizeof(value));
}
inline void raw_set_rcvtimeo(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}
inline int raw_wait(int fd, bool writable, int ms) {
  pollfd p{fd, static_cast<short>(writable ? POLLOUT : POLLIN), 0};
  return poll(&p, 1, ms) == 1 ? 1 : 0;
}
inline int raw_accept_once(int lfd, bool nonblock) {
#ifdef SOCK_NONBLOCK
  return accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0));
#else  // macOS: no accept4
  int fd = accept(lfd, nullptr, nullptr);
  if (fd < 0) return fd;
  CHECK_EQ(fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
  // Set either way: BSD accept() copies the listener's O_NONBLOCK.
  int fl = fcntl(fd, F_GETFL);
  CHECK(fl >= 0);
  CHECK_EQ(fcntl(fd, F_SETFL, nonblock ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK)), 0);
  return fd;
#endif
}
inline int cpu_count() { return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)); }
inline void set_env(const char* name, const char* value) { setenv(name, value, 1); }
inline void unset_env(const char* name) { unsetenv(name); }
inline bool under_wine() { return false; }
#endif

// Prints a note that a test took wine's answer instead of the real one.
inline void wine_note(const char* what) { fprintf(stderr, "  (wine: %s)\n", what); }

// SO_LINGER {on, 0} then close: the peer gets RST instead of FIN.
inline void raw_reset(int fd) {
  CHECK_EQ(pn::set_linger_zero(fd), 0);
  raw_close(fd);
}

// A command for (slot, gen), as the bridge would post it.
inline pn::Command make_cmd(int type, uint32_t slot, uint32_t gen = 1, int fd = -1, bool flag = false) {
  pn::Command c;
  c.type = type;
  c.slot = slot;
  c.gen = gen;
  c.fd = fd;
  c.flag = flag;
  return c;
}

// A one-buffer kCmdWrite. The bytes must stay alive until kEvWriteDone.
inline pn::Command make_write(uint32_t slot, const void* data, size_t len, uint32_t gen = 1) {
  pn::Command c = make_cmd(pn::kCmdWrite, slot, gen);
  c.iov.reset(new iovec[1]);
  c.iov[0].iov_base = const_cast<void*>(data);
  c.iov[0].iov_len = len;
  c.iovcnt = 1;
  return c;
}

// Writes all of `bytes` to a blocking fd from a thread of its own (join it);
// a write blocks while the reader is throttled.
inline std::thread write_all_async(int fd, const std::string& bytes) {
  return std::thread([fd, &bytes] {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = raw_write(fd, bytes.data() + off, bytes.size() - off);
      CHECK(n > 0);
      off += static_cast<size_t>(n);
    }
  });
}

class TestLoop {
 public:
  // `slabs`, if given, is the loop's SlabSource; it gets this TestLoop as ctx.
  explicit TestLoop(pn::SlabSource slabs = nullptr) { CHECK_EQ(loop.start(&TestLoop::ring, this, slabs), 0); }
  ~TestLoop() {
    loop.stop();
    for (pn::Event& ev : log) pn::discard_event(ev);
  }

  static void ring(void* p) {
    TestLoop* self = static_cast<TestLoop*>(p);
    std::lock_guard<std::mutex> lock(self->mu_);
    self->rung_ = true;
    self->bells_++;
    self->cv_.notify_all();
  }

  // Waits up to `ms` for the doorbell, then takes whatever is in the outbox.
  // True if new events arrived.
  bool pull(int ms) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return rung_; });
      rung_ = false;
    }
    size_t before = log.size();
    loop.take_events(log);
    return log.size() > before;
  }

  long bells() {
    std::lock_guard<std::mutex> lock(mu_);
    return bells_;
  }

  // Index of the nth (1-based) event of `type` for `slot` in the log, waiting
  // up to `ms` for it; -1 on timeout.
  long wait_for(uint32_t slot, int type, int nth = 1, int ms = kWaitMs) {
    auto t0 = Clock::now();
    for (;;) {
      int seen = 0;
      for (size_t i = 0; i < log.size(); i++) {
        if (log[i].slot == slot && log[i].type == type && ++seen == nth) return static_cast<long>(i);
      }
      int64_t left = ms - ms_since(t0);
      if (left <= 0) return -1;
      pull(static_cast<int>(left));
    }
  }

  // Like wait_for, but fails the test on timeout and returns the event.
  pn::Event& expect(uint32_t slot, int type, int nth = 1, int ms = kWaitMs) {
    long i = wait_for(slot, type, nth, ms);
    if (i < 0) {
      fprintf(stderr, "timed out waiting for event type %d #%d on slot %u; log:\n", type, nth, slot);
      dump();
    }
    CHECK(i >= 0);
    return log[static_cast<size_t>(i)];
  }

  int count(uint32_t slot, int type) const {
    int n = 0;
    for (const pn::Event& ev : log)
      if (ev.slot == slot && ev.type == type) n++;
    return n;
  }

  std::string data_of(uint32_t slot) const {
    std::string s;
    for (const pn::Event& ev : log)
      if (ev.slot == slot && ev.type == pn::kEvData) s.append(ev.data, ev.len);
    return s;
  }

  // Types of the events for `slot`, in order, kEvData runs collapsed to one.
  std::vector<int> sequence(uint32_t slot) const {
    std::vector<int> seq;
    for (const pn::Event& ev : log) {
      if (ev.slot != slot) continue;
      if (ev.type == pn::kEvData && !seq.empty() && seq.back() == pn::kEvData) continue;
      seq.push_back(ev.type);
    }
    return seq;
  }

  void dump() const {
    for (const pn::Event& ev : log)
      fprintf(stderr, "  slot %u gen %u type %d status %d (%s) len %u fd %d\n", ev.slot, ev.gen,
              ev.type, ev.status, ev.status ? pn::err_name(ev.status) : "", ev.len, ev.fd);
  }

  // --- commands ---
  void cmd(int type, uint32_t slot, uint32_t gen = 1, int fd = -1, bool flag = false) {
    loop.post(make_cmd(type, slot, gen, fd, flag));
  }
  // The bytes must stay alive until kEvWriteDone (callers use static or log-owned memory).
  void write(uint32_t slot, const void* data, size_t len, uint32_t gen = 1) {
    loop.post(make_write(slot, data, len, gen));
  }

  pn::Loop loop;
  std::vector<pn::Event> log;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool rung_ = false;
  long bells_ = 0;
};

// A listening socket on 127.0.0.1 with a kernel-chosen port.
inline int listen_local(int* port) {
  pn::SockAddr addr;
  CHECK_EQ(pn::addr_from_ip("127.0.0.1", 0, &addr), 0);
  int fd = -1;
  const char* sys = nullptr;
  CHECK_EQ(pn::stream_listen(addr, 128, false, false, &fd, &sys), 0);
  pn::SockAddr bound;
  CHECK_EQ(pn::sock_name(fd, &bound), 0);
  char ip[pn::kMaxIpLen];
  int family = 0;
  CHECK_EQ(pn::addr_to_ip(bound.sa(), ip, sizeof(ip), port, &family), 0);
  return fd;
}

inline pn::SockAddr local_addr(int port) {
  pn::SockAddr addr;
  CHECK_EQ(pn::addr_from_ip("127.0.0.1", port, &addr), 0);
  return addr;
}

// A port on 127.0.0.1 that nothing listens on (bound once, then released).
inline int closed_port() {
  int fd = raw_socket();
  pn::SockAddr addr = local_addr(0);
  CHECK_EQ(raw_bind(fd, addr), 0);
  pn::SockAddr bound;
  CHECK_EQ(pn::sock_name(fd, &bound), 0);
  int port = ntohs(reinterpret_cast<sockaddr_in*>(&bound.storage)->sin_port);
  raw_close(fd);
  return port;
}

// A plain blocking client socket connected to 127.0.0.1:port (off the loop).
inline int raw_connect(int port, int rcvbuf = 0) {
  int fd = raw_socket();
  if (rcvbuf > 0) raw_set_int_opt(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf);
  pn::SockAddr addr = local_addr(port);
  CHECK_EQ(raw_connect_to(fd, addr), 0);
  return fd;
}

// accept() with a deadline (the listener fd is non-blocking). The result is
// non-blocking by default, as the loop requires of every fd it adopts; pass
// false for a blocking fd the test reads itself.
inline int raw_accept(int lfd, bool nonblock = true) {
  CHECK_EQ(raw_wait(lfd, false, kWaitMs), 1);
  int fd = raw_accept_once(lfd, nonblock);
  CHECK(fd >= 0);
  return fd;
}

// Reads exactly n bytes from a blocking fd (bounded by SO_RCVTIMEO).
inline std::string raw_read_n(int fd, size_t n) {
  raw_set_rcvtimeo(fd, 5000);
  std::string s(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = raw_read(fd, &s[got], n - got);
    CHECK(r > 0);
    got += static_cast<size_t>(r);
  }
  return s;
}

// Deterministic test bytes that differ at every offset of a long run.
inline std::string pattern(size_t n, uint32_t seed = 1) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s[i] = static_cast<char>(x);
  }
  return s;
}

// Listener on slot `ls`, client connecting on slot `cs`, accepted socket
// adopted on slot `ss`; both ends reading when `reading`.
struct Pair {
  int port = 0;
  int lfd = -1;
};

inline void make_pair(TestLoop& t, uint32_t ls, uint32_t cs, uint32_t ss, bool reading,
                      Pair* out = nullptr) {
  int port = 0;
  int lfd = listen_local(&port);
  t.cmd(pn::kCmdAdoptListener, ls, 1, lfd);
  int cfd = -1;
  pn::SockAddr remote = local_addr(port);
  CHECK_EQ(pn::stream_connect_start(remote, nullptr, &cfd), 0);
  t.cmd(pn::kCmdAdoptConnecting, cs, 1, cfd);
  CHECK_EQ(t.expect(cs, pn::kEvConnect).status, 0);
  pn::Event& conn = t.expect(ls, pn::kEvConnection);
  int sfd = conn.fd;
  conn.fd = -1;  // ownership moves to the loop
  CHECK(sfd >= 0);
  t.cmd(pn::kCmdAdoptConnected, ss, 1, sfd, reading);
  if (reading) t.cmd(pn::kCmdReadStart, cs);
  if (out) {
    out->port = port;
    out->lfd = lfd;
  }
}

// A raw client connected to a socket the loop adopted as `slot` (reading
// or not): the test drives the client end itself with blocking calls.
struct RawPair {
  int lfd;
  int client;
  int server;
};

// `Loops` is anything with TestLoop's cmd() (TestLoop, a driven loop's harness).
template <typename Loops>
RawPair raw_pair(Loops& t, uint32_t slot, bool reading) {
  int port = 0;
  int lfd = listen_local(&port);
  int client = raw_connect(port);
  int server = raw_accept(lfd);
  t.cmd(pn::kCmdAdoptConnected, slot, 1, server, reading);
  return {lfd, client, server};
}

}  // namespace pt
