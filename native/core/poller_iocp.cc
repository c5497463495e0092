// poller_iocp.cc - the Windows poller: readiness from AFD poll requests
// completed on an I/O completion port (the technique of mio and wepoll).
//
// Windows has no epoll, and IOCP is completion-based: it says "this read is
// done", not "this socket is readable". But the socket driver (AFD) answers
// IOCTL_AFD_POLL, the request select() and WSAPoll are built on, and that
// request can complete through a completion port like any other I/O. So:
//   - one handle to \Device\Afd is opened and tied to the port; every poll
//     request goes through it, naming the socket's base (provider) handle;
//   - a poll asks for the AFD events that match the interest and completes
//     once one of them holds; the completion carries what happened;
//   - level-triggered, like epoll here: after each completion the poll is
//     submitted again, at the start of the next wait() (after the loop has
//     read or written, so it does not complete at once with stale news);
//   - a change of interest that the poll in flight does not cover, and a
//     remove(), cancel it (NtCancelIoFileEx); the IO_STATUS_BLOCK it writes
//     stays allocated until its completion has come back;
//   - wake() posts one completion packet (PostQueuedCompletionStatus) with
//     a key of its own; an atomic flag keeps it to one packet at a time.
// The NT calls are looked up in ntdll.dll once: they are exported there but
// not in every SDK's import libraries.
//
// Named pipes (pipe_win.h) are registered here too, but have no AFD poll:
// their own overlapped reads, writes and connects complete on the same port
// (key kPipeCompletionKey), and pipe_win.cc says what each pipe is ready for.
#include "poller.h"

#include <winternl.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include "pipe_win.h"
#include "platform.h"
#include "socket_ops.h"

#ifndef SIO_BASE_HANDLE
#define SIO_BASE_HANDLE _WSAIOR(IOC_WS2, 34)
#endif
#ifndef SIO_BSP_HANDLE_POLL
#define SIO_BSP_HANDLE_POLL _WSAIOR(IOC_WS2, 29)
#endif

namespace pn {

namespace {

// AFD poll events (afd.h in the Windows DDK; the same bits wepoll and mio use).
constexpr ULONG kAfdReceive = 0x0001;
constexpr ULONG kAfdSend = 0x0004;
constexpr ULONG kAfdDisconnect = 0x0008;  // peer FIN
constexpr ULONG kAfdAbort = 0x0010;       // reset, or the connection is gone
constexpr ULONG kAfdLocalClose = 0x0020;  // the socket was closed under us
constexpr ULONG kAfdAccept = 0x0080;
constexpr ULONG kAfdConnectFail = 0x0100;
constexpr ULONG kIoctlAfdPoll = 0x00012024;

constexpr NTSTATUS kStatusSuccess = 0;
constexpr NTSTATUS kStatusPending = 0x00000103;
constexpr NTSTATUS kStatusCancelled = static_cast<NTSTATUS>(0xC0000120);

constexpr ULONG_PTR kAfdKey = 0;   // completions of poll requests
constexpr ULONG_PTR kWakeKey = 1;  // wake()'s packet

struct AfdPollHandleInfo {
  HANDLE handle;
  ULONG events;
  NTSTATUS status;
};

struct AfdPollInfo {
  LARGE_INTEGER timeout;
  ULONG number_of_handles;
  ULONG exclusive;
  AfdPollHandleInfo handles[1];
};

using NtCreateFileFn = NTSTATUS(NTAPI*)(PHANDLE, ACCESS_MASK, POBJECT_ATTRIBUTES,
                                        PIO_STATUS_BLOCK, PLARGE_INTEGER, ULONG, ULONG, ULONG,
                                        ULONG, PVOID, ULONG);
using NtDeviceIoControlFileFn = NTSTATUS(NTAPI*)(HANDLE, HANDLE, PVOID, PVOID, PIO_STATUS_BLOCK,
                                                 ULONG, PVOID, ULONG, PVOID, ULONG);
using NtCancelIoFileExFn = NTSTATUS(NTAPI*)(HANDLE, PIO_STATUS_BLOCK, PIO_STATUS_BLOCK);
using RtlNtStatusToDosErrorFn = ULONG(NTAPI*)(NTSTATUS);

struct Nt {
  NtCreateFileFn create_file = nullptr;
  NtDeviceIoControlFileFn device_io_control_file = nullptr;
  NtCancelIoFileExFn cancel_io_file_ex = nullptr;
  RtlNtStatusToDosErrorFn status_to_dos = nullptr;
  bool ok = false;
};

const Nt& nt() {
  static const Nt fns = [] {
    Nt n;
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    if (ntdll == nullptr) return n;
    // Casting through FARPROC -> void* keeps -Wcast-function-type quiet.
    n.create_file = reinterpret_cast<NtCreateFileFn>(
        reinterpret_cast<void*>(GetProcAddress(ntdll, "NtCreateFile")));
    n.device_io_control_file = reinterpret_cast<NtDeviceIoControlFileFn>(
        reinterpret_cast<void*>(GetProcAddress(ntdll, "NtDeviceIoControlFile")));
    n.cancel_io_file_ex = reinterpret_cast<NtCancelIoFileExFn>(
        reinterpret_cast<void*>(GetProcAddress(ntdll, "NtCancelIoFileEx")));
    n.status_to_dos = reinterpret_cast<RtlNtStatusToDosErrorFn>(
        reinterpret_cast<void*>(GetProcAddress(ntdll, "RtlNtStatusToDosError")));
    n.ok = n.create_file && n.device_io_control_file && n.cancel_io_file_ex && n.status_to_dos;
    return n;
  }();
  return fns;
}

int err_from_status(NTSTATUS st) { return err_from_wsa(static_cast<int>(nt().status_to_dos(st))); }

ULONG to_afd(uint32_t interest) {
  // Failures are always watched, as epoll always reports EPOLLERR/EPOLLHUP.
  ULONG ev = kAfdAbort | kAfdLocalClose | kAfdConnectFail;
  // Peer FIN is watched together with readability, as on epoll.
  if (interest & kPollReadable) ev |= kAfdReceive | kAfdAccept | kAfdDisconnect;
  if (interest & kPollWritable) ev |= kAfdSend;
  return ev;
}

uint32_t from_afd(ULONG ev) {
  uint32_t out = 0;
  if (ev & (kAfdReceive | kAfdAccept)) out |= kPollReadable;
  if (ev & kAfdSend) out |= kPollWritable;
  // FIN: readable too (the read returns what is left, then 0), as on epoll.
  if (ev & kAfdDisconnect) out |= kPollPeerClosed | kPollReadable;
  if (ev & kAfdAbort) out |= kPollError;
  // A failed connect: writable with an error, like EPOLLOUT|EPOLLERR.
  if (ev & kAfdConnectFail) out |= kPollWritable | kPollError;
  return out;
}

// The socket's base handle: the one AFD knows, beneath any layered provider.
// Some LSPs fail SIO_BASE_HANDLE but answer SIO_BSP_HANDLE_POLL.
HANDLE base_handle(int fd) {
  SOCKET s = static_cast<SOCKET>(static_cast<intptr_t>(fd));
  for (DWORD ioctl : {static_cast<DWORD>(SIO_BASE_HANDLE), static_cast<DWORD>(SIO_BSP_HANDLE_POLL)}) {
    SOCKET base = INVALID_SOCKET;
    DWORD bytes = 0;
    if (WSAIoctl(s, ioctl, nullptr, 0, &base, sizeof(base), &bytes, nullptr, nullptr) == 0 &&
        base != INVALID_SOCKET)
      return reinterpret_cast<HANDLE>(base);
  }
  return nullptr;
}

}  // namespace

// Where a registered socket's poll is. One at a time: a socket whose poll
// comes back is queued, and a queued one is armed by the next wait().
enum class SockPoll : uint8_t {
  kIdle,      // no poll in flight, not queued
  kInFlight,  // a poll is in flight: iosb/info belong to the kernel
  kQueued,    // listed in rearm_: the next wait() submits its poll
};

// One registered socket. `iosb` is first so a completion's OVERLAPPED pointer
// (the ApcContext we pass, i.e. &iosb) leads back to it. Owned by socks_
// while registered; a remove()d one is owned by its poll in flight or its
// place in rearm_, and freed by reap() when it has neither.
struct Poller::Sock {
  IO_STATUS_BLOCK iosb{};
  AfdPollInfo info{};
  int fd = -1;
  HANDLE base = nullptr;
  uint32_t interest = 0;
  PollToken token = 0;
  ULONG polled = 0;  // AFD events of the poll in flight
  SockPoll poll = SockPoll::kIdle;
  bool removed = false;  // remove()d (or closed): no longer in socks_
  PipeObj* pipe = nullptr;  // a named pipe: no AFD poll (its poll stays kIdle)
  uint64_t out_wait = 0;    // the wait() whose output holds this socket's entry
  int out_index = 0;        // that entry
};

// Frees a socket that is no longer registered once nothing else refers to
// it: the one place a Sock is deleted after add() succeeded.
bool Poller::reap(Sock* s) {
  if (!s->removed || s->poll != SockPoll::kIdle) return false;
  delete s;
  return true;
}

Poller::~Poller() {
  if (afd_ != nullptr) {
    // Cancel every poll in flight and wait for each to come back, so the
    // kernel writes no IO_STATUS_BLOCK after it is freed. Bounded: a driver
    // that never answers costs a leak, not a hang.
    CancelIoEx(static_cast<HANDLE>(afd_), nullptr);
    OVERLAPPED_ENTRY entries[64];
    while (in_flight_ > 0) {
      ULONG n = 0;
      if (!GetQueuedCompletionStatusEx(static_cast<HANDLE>(iocp_), entries, 64, &n, 1000, FALSE))
        break;
      for (ULONG i = 0; i < n; i++) {
        if (entries[i].lpCompletionKey != kAfdKey || entries[i].lpOverlapped == nullptr) continue;
        Sock* s = reinterpret_cast<Sock*>(entries[i].lpOverlapped);
        s->poll = SockPoll::kIdle;
        in_flight_--;
        reap(s);
      }
    }
    CloseHandle(static_cast<HANDLE>(afd_));
  }
  for (Sock* s : rearm_) {
    s->poll = SockPoll::kIdle;
    reap(s);
  }
  // Still registered: freed with the poller, unless a poll that never came
  // back still names it (then it is leaked, as above, rather than reused).
  for (auto& kv : socks_) {
    kv.second->removed = true;
    reap(kv.second);
  }
  if (iocp_ != nullptr) CloseHandle(static_cast<HANDLE>(iocp_));
}

int Poller::init() {
  net_init();
  if (!nt().ok) return -ENOSYS;
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  if (port == nullptr) return err_from_wsa(static_cast<int>(GetLastError()));
  iocp_ = port;

  // Any name under \Device\Afd opens the driver; the suffix only labels the
  // handle in tools (wepoll and mio do the same).
  wchar_t name[] = L"\\Device\\Afd\\Protonet";
  UNICODE_STRING path;
  path.Buffer = name;
  path.Length = static_cast<USHORT>(sizeof(name) - sizeof(wchar_t));
  path.MaximumLength = static_cast<USHORT>(sizeof(name));
  OBJECT_ATTRIBUTES attrs;
  InitializeObjectAttributes(&attrs, &path, 0, nullptr, nullptr);
  IO_STATUS_BLOCK iosb{};
  HANDLE afd = nullptr;
  NTSTATUS st = nt().create_file(&afd, SYNCHRONIZE, &attrs, &iosb, nullptr, 0,
                                 FILE_SHARE_READ | FILE_SHARE_WRITE, 1 /* FILE_OPEN */, 0,
                                 nullptr, 0);
  if (st != kStatusSuccess) return err_from_status(st);
  afd_ = afd;
  if (CreateIoCompletionPort(afd, port, kAfdKey, 0) == nullptr)
    return err_from_wsa(static_cast<int>(GetLastError()));
  // No event to signal per completion: the port is the only consumer.
  // (Failure only costs that small saving.)
  SetFileCompletionNotificationModes(afd, FILE_SKIP_SET_EVENT_ON_HANDLE);
  return 0;
}

void Poller::wake() {
  // One packet is enough however many threads ring; wait() clears the flag
  // when it takes the packet.
  if (woken_.exchange(true)) return;
  if (!PostQueuedCompletionStatus(static_cast<HANDLE>(iocp_), 0, kWakeKey, nullptr))
    woken_.store(false);
}

void Poller::queue(Sock* s) {
  if (s->poll == SockPoll::kQueued) return;
  s->poll = SockPoll::kQueued;
  rearm_.push_back(s);
}

// Submits a poll for the socket's interest, or leaves the one in flight when
// it already covers it (extra events are filtered on completion). 0 or -errno.
int Poller::arm(Sock* s) {
  ULONG want = to_afd(s->interest);
  if (s->poll == SockPoll::kInFlight) {
    if ((s->polled & want) == want) return 0;
    // Asking for more than the poll in flight: cancel it; its completion
    // (STATUS_CANCELLED) queues the socket and the next wait() re-arms it.
    IO_STATUS_BLOCK cancel_iosb;
    nt().cancel_io_file_ex(static_cast<HANDLE>(afd_), &s->iosb, &cancel_iosb);
    return 0;
  }
  s->info.timeout.QuadPart = INT64_MAX;
  s->info.number_of_handles = 1;
  s->info.exclusive = FALSE;
  s->info.handles[0].handle = s->base;
  s->info.handles[0].events = want;
  s->info.handles[0].status = 0;
  s->iosb.Status = kStatusPending;
  NTSTATUS st = nt().device_io_control_file(static_cast<HANDLE>(afd_), nullptr, nullptr, &s->iosb,
                                            &s->iosb, kIoctlAfdPoll, &s->info, sizeof(s->info),
                                            &s->info, sizeof(s->info));
  // Pending or done at once, the completion goes to the port either way
  // (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS is not set).
  if (st != kStatusSuccess && st != kStatusPending) return err_from_status(st);
  s->poll = SockPoll::kInFlight;
  s->polled = want;
  in_flight_++;
  return 0;
}

int Poller::add(int fd, uint32_t interest, PollToken token) {
  if (socks_.count(fd) != 0) return -EEXIST;
  if (PipeObj* p = pipe_find(fd)) {
    std::unique_ptr<Sock> s(new (std::nothrow) Sock());
    if (s == nullptr) return -ENOMEM;
    s->fd = fd;
    s->pipe = p;
    s->interest = interest;
    s->token = token;
    int err = pipe_attach(p, static_cast<HANDLE>(iocp_), s.get());
    if (err != 0) return err;
    Sock* owned = s.release();  // socks_' from here (reap() frees it)
    socks_.emplace(fd, owned);
    queue(owned);  // the next wait() starts its I/O and reports what holds
    return 0;
  }
  HANDLE base = base_handle(fd);
  if (base == nullptr) return err_from_wsa(WSAGetLastError());
  std::unique_ptr<Sock> s(new (std::nothrow) Sock());
  if (s == nullptr) return -ENOMEM;
  s->fd = fd;
  s->base = base;
  s->interest = interest;
  s->token = token;
  // Armed at once, so a bad socket fails here as epoll_ctl would (and, never
  // armed, is freed here: nothing else knows it).
  int err = arm(s.get());
  if (err != 0) return err;
  socks_.emplace(fd, s.release());  // socks_' from here (reap() frees it)
  return 0;
}

int Poller::modify(int fd, uint32_t interest, PollToken token) {
  auto it = socks_.find(fd);
  if (it == socks_.end()) return -ENOENT;
  Sock* s = it->second;
  s->interest = interest;
  s->token = token;
  if (s->pipe != nullptr) {
    queue(s);
    return 0;
  }
  // A poll in flight that misses a new event is cancelled now; the rest is
  // (re-)submitted by the next wait().
  if (s->poll == SockPoll::kInFlight) {
    if ((s->polled & to_afd(interest)) != to_afd(interest)) arm(s);
  } else {
    queue(s);
  }
  return 0;
}

// A completion port cannot be polled by another event loop.
int Poller::pollable_fd() const { return -1; }

int Poller::remove(int fd) {
  auto it = socks_.find(fd);
  if (it == socks_.end()) return -ENOENT;
  Sock* s = it->second;
  socks_.erase(it);
  s->removed = true;
  if (s->pipe != nullptr) pipe_detach(s->pipe);
  if (s->poll == SockPoll::kInFlight) {
    IO_STATUS_BLOCK cancel_iosb;
    nt().cancel_io_file_ex(static_cast<HANDLE>(afd_), &s->iosb, &cancel_iosb);
  }
  reap(s);
  return 0;
}

void Poller::report(Sock* s, uint32_t events, PollEvent* out, int* k, int max) {
  if (s->out_wait == wait_no_ && s->out_index < *k && out[s->out_index].token == s->token) {
    out[s->out_index].events |= events;
    return;
  }
  if (*k >= max) {
    queue(s);  // no room: reported by the next wait()
    return;
  }
  s->out_wait = wait_no_;
  s->out_index = *k;
  out[(*k)++] = PollEvent{s->token, events};
}

int Poller::wait(PollEvent* out, int max, int timeout_ms) {
  int k = 0;
  wait_no_++;
  // Level-triggered: every socket whose poll came back asks again, with the
  // interest it has now. A submit that fails is reported as an error. A
  // pipe starts the I/O its interest needs and reports what holds already
  // (data read and not yet taken, a write slot free); it stays queued while
  // it has something to report, as a level-triggered poll would say again.
  std::vector<Sock*> again;
  for (size_t i = 0; i < rearm_.size(); i++) {
    Sock* s = rearm_[i];
    s->poll = SockPoll::kIdle;
    if (reap(s)) continue;
    if (s->pipe != nullptr) {
      uint32_t ev = pipe_arm(s->pipe, s->interest);
      if (ev != 0) {
        report(s, ev, out, &k, max);
        again.push_back(s);
      }
      continue;
    }
    if (arm(s) != 0) report(s, kPollError, out, &k, max);
  }
  rearm_.clear();
  for (Sock* s : again) queue(s);
  if (k > 0) timeout_ms = 0;

  OVERLAPPED_ENTRY entries[256];
  ULONG room = static_cast<ULONG>(max - k < 256 ? max - k : 256);
  if (room == 0) return k;
  ULONG n = 0;
  DWORD timeout = timeout_ms < 0 ? INFINITE : static_cast<DWORD>(timeout_ms);
  if (!GetQueuedCompletionStatusEx(static_cast<HANDLE>(iocp_), entries, room, &n, timeout, FALSE)) {
    DWORD err = GetLastError();
    return err == WAIT_TIMEOUT ? k : err_from_wsa(static_cast<int>(err));
  }
  for (ULONG i = 0; i < n; i++) {
    if (entries[i].lpCompletionKey == kWakeKey) {
      woken_.store(false);
      continue;
    }
    if (entries[i].lpCompletionKey == kPipeCompletionKey) {
      auto* op = reinterpret_cast<PipeOp*>(entries[i].lpOverlapped);
      auto* s = static_cast<Sock*>(pipe_complete(op, entries[i].dwNumberOfBytesTransferred,
                                                 static_cast<HANDLE>(iocp_)));
      if (s == nullptr || s->removed) continue;
      uint32_t ev = pipe_ready(s->pipe, s->interest);
      if (ev != 0) report(s, ev, out, &k, max);
      queue(s);  // a new read or connect, at the next wait()
      continue;
    }
    Sock* s = reinterpret_cast<Sock*>(entries[i].lpOverlapped);
    s->poll = SockPoll::kIdle;
    in_flight_--;
    if (reap(s)) continue;
    NTSTATUS st = s->iosb.Status;
    uint32_t ev = 0;
    if (st == kStatusCancelled) {
      // Cancelled by modify(): nothing happened, just ask again.
    } else if (st < 0) {
      ev = kPollError;
    } else if (s->info.number_of_handles >= 1) {
      ULONG afd = s->info.handles[0].events;
      if (afd & kAfdLocalClose) {
        // Closed without remove(): the handle is gone, so is the registration.
        socks_.erase(s->fd);
        s->removed = true;
        reap(s);
        continue;
      }
      ev = from_afd(afd);
    }
    queue(s);
    // Report only what the socket asks for now (the poll may be older).
    uint32_t mask = kPollError;
    if (s->interest & kPollReadable) mask |= kPollReadable | kPollPeerClosed;
    if (s->interest & kPollWritable) mask |= kPollWritable;
    ev &= mask;
    if (ev != 0) report(s, ev, out, &k, max);
  }
  return k;
}

}  // namespace pn
