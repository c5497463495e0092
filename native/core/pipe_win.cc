// pipe_win.cc - see pipe_win.h.
#include "pipe_win.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>

#include "poller.h"

namespace pn {

namespace {

constexpr size_t kBufSize = 64 * 1024;
// Instances waiting for a client, as libuv's default pending instances.
constexpr int kPendingInstances = 4;
constexpr DWORD kPipeBufferBytes = 64 * 1024;
// How long connect waits for a busy server's next instance (libuv: 30 s).
constexpr DWORD kBusyWaitMs = 30000;
// After our side shut down, a read that waits this long without data ends
// the pipe (libuv's eof timer): a pipe has no half-close, so two ends that
// both ended and wait for the other's EOF would otherwise wait forever.
constexpr DWORD kEofTimerMs = 50;

constexpr LONG kStatusSuccess = 0;

// ntdll's NTSTATUS -> Win32 error, looked up once (not in every SDK's
// import libraries); a completion's status is an NTSTATUS.
using StatusToDosFn = ULONG(WINAPI*)(LONG);
DWORD win32_of(LONG status) {
  static const StatusToDosFn fn = [] {
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll == nullptr ? nullptr
                            : reinterpret_cast<StatusToDosFn>(
                                  reinterpret_cast<void*>(GetProcAddress(ntdll, "RtlNtStatusToDosError")));
  }();
  return fn != nullptr ? static_cast<DWORD>(fn(status)) : ERROR_GEN_FAILURE;
}

LONG op_status(const PipeOp& op) { return static_cast<LONG>(op.ov.Internal); }

// A pipe error as the core's -errno, as libuv reads them: the far end gone
// is EPIPE for a writer (ERROR_NO_DATA: it is closing).
int pipe_errno(DWORD err) {
  if (err == ERROR_NO_DATA || err == ERROR_BROKEN_PIPE || err == ERROR_PIPE_NOT_CONNECTED) return -EPIPE;
  return err_from_wsa(static_cast<int>(err));
}

std::wstring widen(const char* s, size_t len) {
  if (len == 0) return std::wstring();
  int n = MultiByteToWideChar(CP_UTF8, 0, s, static_cast<int>(len), nullptr, 0);
  std::wstring w(static_cast<size_t>(n > 0 ? n : 0), L'\0');
  if (n > 0) MultiByteToWideChar(CP_UTF8, 0, s, static_cast<int>(len), &w[0], n);
  return w;
}

int handle_fd(HANDLE h) { return static_cast<int>(reinterpret_cast<intptr_t>(h)); }

}  // namespace

struct PipeObj {
  bool server = false;
  int fd = -1;
  std::atomic<HANDLE> port{nullptr};  // the owning loop's port (set by pipe_attach)
  void* cookie = nullptr;             // the poller's registration, or null
  bool closing = false;
  std::atomic<int> pending_ops{0};    // operations and posted packets in flight

  // A connected pipe.
  HANDLE h = INVALID_HANDLE_VALUE;
  HANDLE h_port = nullptr;  // the port `h` is associated with (forever)
  PipeOp rd{};
  std::unique_ptr<char[]> rbuf;
  size_t rlen = 0, rpos = 0;
  bool read_pending = false;
  bool eof = false;
  int read_err = 0;
  PipeOp wr{};
  std::unique_ptr<char[]> wbuf;
  bool write_pending = false;
  int write_err = 0;
  // Shutdown (pipe_shutdown, any thread): a packet brings it to the loop,
  // which then runs the eof timer while a read waits.
  PipeOp shut_op{};
  std::atomic<bool> shut_requested{false};
  bool shut = false;
  PipeOp eof_op{};
  HANDLE eof_timer = nullptr;  // a timer-queue timer whose callback posts eof_op
  uint64_t reads_done = 0;     // completed reads, to tell if data came meanwhile
  uint64_t eof_armed_at = 0;   // reads_done when the timer was started
  bool close_after_write = false;  // the eof timer fired while a write was in flight

  // A pipe server.
  struct Instance {
    HANDLE h = INVALID_HANDLE_VALUE;
    HANDLE h_port = nullptr;
    PipeOp op{};
    bool pending = false;    // ConnectNamedPipe in flight
    bool connected = false;  // a client is on it: pipe_accept hands it out
  };
  std::wstring name;
  HANDLE id = nullptr;  // the event object whose value is the server's fd
  Instance inst[kPendingInstances];
};

namespace {

std::mutex table_mu;
std::unordered_map<int, PipeObj*>& table() {
  static auto* t = new std::unordered_map<int, PipeObj*>();  // never destroyed: used until exit
  return *t;
}

void table_add(PipeObj* p) {
  std::lock_guard<std::mutex> lock(table_mu);
  table()[p->fd] = p;
}

void table_remove(PipeObj* p) {
  std::lock_guard<std::mutex> lock(table_mu);
  auto it = table().find(p->fd);
  if (it != table().end() && it->second == p) table().erase(it);
}

PipeObj* new_connected(HANDLE h, HANDLE h_port) {
  std::unique_ptr<PipeObj> p(new (std::nothrow) PipeObj());
  if (p == nullptr) return nullptr;
  p->rbuf.reset(new (std::nothrow) char[kBufSize]);
  p->wbuf.reset(new (std::nothrow) char[kBufSize]);
  if (p->rbuf == nullptr || p->wbuf == nullptr) return nullptr;
  p->h = h;
  p->h_port = h_port;
  p->fd = handle_fd(h);
  for (PipeOp* op : {&p->rd, &p->wr, &p->shut_op, &p->eof_op}) {
    op->obj = p.get();
    op->instance = -1;
  }
  return p.release();  // its own from here: freed by maybe_free() once closed and idle
}

// The eof timer's callback, on a thread-pool thread: hand over to the loop.
void CALLBACK eof_timer_fired(void* arg, BOOLEAN) {
  auto* op = static_cast<PipeOp*>(arg);
  PostQueuedCompletionStatus(op->obj->port.load(), 0, kPipeCompletionKey, &op->ov);
}

void start_eof_timer(PipeObj* p) {
  if (!p->shut || !p->read_pending || p->eof_timer != nullptr || p->closing) return;
  p->eof_armed_at = p->reads_done;
  p->pending_ops++;  // until its packet is taken
  if (!CreateTimerQueueTimer(&p->eof_timer, nullptr, eof_timer_fired, &p->eof_op, kEofTimerMs, 0,
                             WT_EXECUTEONLYONCE)) {
    p->eof_timer = nullptr;
    p->pending_ops--;
  }
}

HANDLE create_instance(const std::wstring& name, bool first) {
  DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;
  if (first) open_mode |= FILE_FLAG_FIRST_PIPE_INSTANCE;
  return CreateNamedPipeW(name.c_str(), open_mode,
                          PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                          PIPE_UNLIMITED_INSTANCES, kPipeBufferBytes, kPipeBufferBytes, 0, nullptr);
}

bool associate(HANDLE h, HANDLE* h_port, HANDLE port) {
  if (*h_port != nullptr) return true;
  if (CreateIoCompletionPort(h, port, kPipeCompletionKey, 0) == nullptr) return false;
  *h_port = port;
  return true;
}

void start_read(PipeObj* p) {
  if (p->read_pending || p->eof || p->read_err != 0 || p->rpos < p->rlen || p->closing) return;
  p->rlen = p->rpos = 0;
  std::memset(&p->rd.ov, 0, sizeof(p->rd.ov));
  if (ReadFile(p->h, p->rbuf.get(), static_cast<DWORD>(kBufSize), nullptr, &p->rd.ov) ||
      GetLastError() == ERROR_IO_PENDING) {
    // Done at once or not, the completion comes through the port.
    p->read_pending = true;
    p->pending_ops++;
    start_eof_timer(p);
    return;
  }
  DWORD err = GetLastError();
  if (err == ERROR_BROKEN_PIPE || err == ERROR_PIPE_NOT_CONNECTED) p->eof = true;
  else p->read_err = pipe_errno(err);
}

void start_connects(PipeObj* s) {
  HANDLE port = s->port.load();
  for (int i = 0; i < kPendingInstances; i++) {
    PipeObj::Instance& in = s->inst[i];
    if (in.pending || in.connected) continue;
    if (in.h == INVALID_HANDLE_VALUE) {
      in.h = create_instance(s->name, false);
      in.h_port = nullptr;
      if (in.h == INVALID_HANDLE_VALUE) continue;  // tried again at the next arm
    }
    if (!associate(in.h, &in.h_port, port)) {
      CloseHandle(in.h);
      in.h = INVALID_HANDLE_VALUE;
      continue;
    }
    std::memset(&in.op.ov, 0, sizeof(in.op.ov));
    if (ConnectNamedPipe(in.h, &in.op.ov)) {
      in.pending = true;  // done, and its completion is queued
      s->pending_ops++;
      continue;
    }
    DWORD err = GetLastError();
    if (err == ERROR_IO_PENDING) {
      in.pending = true;
      s->pending_ops++;
    } else if (err == ERROR_PIPE_CONNECTED) {
      in.connected = true;  // a client came between create and connect: no packet
    } else {
      // ERROR_NO_DATA (the client came and went) and the rest: start over
      // with a new instance next time.
      CloseHandle(in.h);
      in.h = INVALID_HANDLE_VALUE;
    }
  }
}

void maybe_free(PipeObj* p) {
  if (p->closing && p->pending_ops == 0) delete p;
}

}  // namespace

PipeObj* pipe_find(int fd) {
  std::lock_guard<std::mutex> lock(table_mu);
  auto it = table().find(fd);
  return it == table().end() ? nullptr : it->second;
}

int pipe_connect_start(const char* name, size_t len, int* fd_out) {
  *fd_out = -1;
  // A NUL inside the name would cut it short: libuv refuses it at once.
  if (std::memchr(name, '\0', len) != nullptr) return -EINVAL;
  std::wstring w = widen(name, len);
  HANDLE h = INVALID_HANDLE_VALUE;
  for (int attempt = 0; attempt < 2; attempt++) {
    h = CreateFileW(w.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                    FILE_FLAG_OVERLAPPED, nullptr);
    if (h != INVALID_HANDLE_VALUE) break;
    DWORD err = GetLastError();
    if (err != ERROR_PIPE_BUSY || attempt == 1) {
      // libuv's mapping: no such pipe (or no pipe name at all) is ENOENT.
      if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND || err == ERROR_INVALID_NAME ||
          err == ERROR_BAD_PATHNAME)
        return -ENOENT;
      return pipe_errno(err);
    }
    // Every instance is taken: wait for the server to offer the next one.
    if (!WaitNamedPipeW(w.c_str(), kBusyWaitMs)) return -ETIMEDOUT;
  }
  PipeObj* p = new_connected(h, nullptr);
  if (p == nullptr) {
    CloseHandle(h);
    return -ENOMEM;
  }
  table_add(p);
  *fd_out = p->fd;
  return 0;
}

int pipe_listen(const char* name, size_t len, int* fd_out) {
  *fd_out = -1;
  std::unique_ptr<PipeObj> s(new (std::nothrow) PipeObj());
  if (s == nullptr) return -ENOMEM;
  s->server = true;
  s->name = widen(name, len);
  HANDLE first = create_instance(s->name, true);
  if (first == INVALID_HANDLE_VALUE) {
    DWORD err = GetLastError();
    // libuv's uv_pipe_bind: the name is another server's, or no pipe name.
    if (err == ERROR_ACCESS_DENIED || err == ERROR_PIPE_BUSY) return -EADDRINUSE;
    if (err == ERROR_PATH_NOT_FOUND || err == ERROR_INVALID_NAME || err == ERROR_BAD_PATHNAME) return -EACCES;
    return pipe_errno(err);
  }
  s->id = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (s->id == nullptr) {
    int err = pipe_errno(GetLastError());
    CloseHandle(first);
    return err;
  }
  s->inst[0].h = first;
  for (int i = 0; i < kPendingInstances; i++) {
    s->inst[i].op.obj = s.get();
    s->inst[i].op.instance = i;
  }
  s->fd = handle_fd(s->id);
  *fd_out = s->fd;
  table_add(s.release());  // its own from here: freed by maybe_free() once closed and idle
  return 0;
}

int pipe_attach(PipeObj* p, HANDLE port, void* cookie) {
  p->port.store(port);
  p->cookie = cookie;
  if (p->server) {
    for (auto& in : p->inst) {
      if (in.h != INVALID_HANDLE_VALUE && !associate(in.h, &in.h_port, port))
        return err_from_wsa(static_cast<int>(GetLastError()));
    }
    return 0;
  }
  if (!associate(p->h, &p->h_port, port)) return err_from_wsa(static_cast<int>(GetLastError()));
  if (p->shut_requested.load() && !p->shut) {
    p->shut = true;  // asked before any loop had it
    start_eof_timer(p);
  }
  return 0;
}

void pipe_detach(PipeObj* p) { p->cookie = nullptr; }

uint32_t pipe_ready(PipeObj* p, uint32_t interest) {
  uint32_t ev = 0;
  if (p->server) {
    if (interest & kPollReadable) {
      for (auto& in : p->inst)
        if (in.connected) ev |= kPollReadable;
    }
    return ev;
  }
  if (interest & kPollReadable) {
    if (p->rpos < p->rlen || p->read_err != 0) ev |= kPollReadable;
    else if (p->eof) ev |= kPollReadable | kPollPeerClosed;
  }
  if ((interest & kPollWritable) && !p->write_pending) ev |= kPollWritable;
  return ev;
}

uint32_t pipe_arm(PipeObj* p, uint32_t interest) {
  if (p->server) {
    if (interest & kPollReadable) start_connects(p);
  } else if (interest & kPollReadable) {
    start_read(p);
  }
  return pipe_ready(p, interest);
}

void* pipe_complete(PipeOp* op, DWORD bytes, HANDLE port) {
  PipeObj* p = op->obj;
  HANDLE owner = p->port.load();
  if (owner != nullptr && owner != port) {
    // An accepted pipe's handle stays tied to its listener's port; its
    // loop is another one: pass the completion on, status and all.
    if (PostQueuedCompletionStatus(owner, bytes, kPipeCompletionKey, &op->ov)) return nullptr;
  }
  p->pending_ops--;
  if (op == &p->shut_op) {
    p->shut = true;
    start_eof_timer(p);
    maybe_free(p);
    return nullptr;
  }
  if (op == &p->eof_op) {
    DeleteTimerQueueTimer(nullptr, p->eof_timer, nullptr);  // fired once: frees it
    p->eof_timer = nullptr;
    if (p->closing) {
      maybe_free(p);
      return nullptr;
    }
    if (p->reads_done != p->eof_armed_at || !p->read_pending) {
      start_eof_timer(p);  // data came meanwhile: wait again
      return nullptr;
    }
    // As libuv: close the handle, so the other end sees its EOF too, and
    // report ours; the cancelled read's completion is then ignored.
    p->eof = true;
    if (!p->write_pending) {
      CloseHandle(p->h);
      p->h = INVALID_HANDLE_VALUE;
    } else {
      p->close_after_write = true;  // the write's completion closes it
      CancelIoEx(p->h, &p->rd.ov);
    }
    return p->cookie;
  }
  LONG st = op_status(*op);
  if (p->server) {
    PipeObj::Instance& in = p->inst[op->instance];
    in.pending = false;
    if (p->closing) {
      maybe_free(p);
      return nullptr;
    }
    if (st == kStatusSuccess) {
      in.connected = true;
    } else {
      // The client left before it was accepted, or the instance broke: a
      // new one takes its place at the next arm.
      CloseHandle(in.h);
      in.h = INVALID_HANDLE_VALUE;
    }
    return p->cookie;
  }
  if (op == &p->rd) {
    p->read_pending = false;
    p->reads_done++;
    if (!p->closing && !p->eof) {
      if (st == kStatusSuccess) {
        p->rlen = bytes;
        p->rpos = 0;
      } else {
        DWORD err = win32_of(st);
        if (err == ERROR_BROKEN_PIPE || err == ERROR_PIPE_NOT_CONNECTED) p->eof = true;
        else if (err != ERROR_OPERATION_ABORTED) p->read_err = pipe_errno(err);
      }
    }
  } else {
    p->write_pending = false;
    if (st != kStatusSuccess) p->write_err = pipe_errno(win32_of(st));
    if ((p->closing || p->close_after_write) && p->h != INVALID_HANDLE_VALUE) {
      // The write that held the close back is done.
      CloseHandle(p->h);
      p->h = INVALID_HANDLE_VALUE;
    }
  }
  if (p->closing) {
    maybe_free(p);
    return nullptr;
  }
  return p->cookie;
}

ssize_t pipe_read(PipeObj* p, char* buf, size_t len) {
  if (p->rpos < p->rlen) {
    size_t n = p->rlen - p->rpos;
    if (n > len) n = len;
    std::memcpy(buf, p->rbuf.get() + p->rpos, n);
    p->rpos += n;
    return static_cast<ssize_t>(n);
  }
  if (p->read_err != 0) return p->read_err;
  if (p->eof) return 0;
  return -EAGAIN;
}

ssize_t pipe_readv(PipeObj* p, const iovec* iov, int iovcnt) {
  // What one completed read holds is copied into the buffers in order; the
  // next read is started by the poller when the pipe is armed again.
  ssize_t total = 0;
  for (int i = 0; i < iovcnt; i++) {
    ssize_t n = pipe_read(p, static_cast<char*>(iov[i].iov_base), iov[i].iov_len);
    if (n <= 0) return total > 0 ? total : n;
    total += n;
    if (static_cast<size_t>(n) < iov[i].iov_len) break;
  }
  return total;
}

ssize_t pipe_write(PipeObj* p, const iovec* iov, int iovcnt) {
  if (p->write_err != 0) return p->write_err;
  if (p->write_pending) return -EAGAIN;
  size_t n = 0;
  for (int i = 0; i < iovcnt && n < kBufSize; i++) {
    size_t take = iov[i].iov_len;
    if (take > kBufSize - n) take = kBufSize - n;
    std::memcpy(p->wbuf.get() + n, iov[i].iov_base, take);
    n += take;
  }
  if (n == 0) return 0;
  std::memset(&p->wr.ov, 0, sizeof(p->wr.ov));
  if (WriteFile(p->h, p->wbuf.get(), static_cast<DWORD>(n), nullptr, &p->wr.ov) ||
      GetLastError() == ERROR_IO_PENDING) {
    p->write_pending = true;
    p->pending_ops++;
    return static_cast<ssize_t>(n);
  }
  p->write_err = pipe_errno(GetLastError());
  return p->write_err;
}

int pipe_accept(PipeObj* s) {
  if (!s->server) return -EINVAL;
  for (auto& in : s->inst) {
    if (!in.connected) continue;
    PipeObj* p = new_connected(in.h, in.h_port);
    if (p == nullptr) return -ENOMEM;  // the instance stays; tried again later
    in.h = INVALID_HANDLE_VALUE;
    in.h_port = nullptr;
    in.connected = false;
    table_add(p);
    return p->fd;
  }
  return -EAGAIN;
}

int pipe_error(PipeObj* p) { return p->server ? 0 : p->write_err; }

int pipe_shutdown(PipeObj* p) {
  if (p->server) return -ENOTCONN;
  if (p->shut_requested.exchange(true)) return 0;
  HANDLE port = p->port.load();
  if (port == nullptr) return 0;  // pipe_attach posts it
  p->pending_ops++;
  if (!PostQueuedCompletionStatus(port, 0, kPipeCompletionKey, &p->shut_op.ov)) p->pending_ops--;
  return 0;
}

void pipe_close(PipeObj* p) {
  table_remove(p);
  p->closing = true;
  p->cookie = nullptr;
  if (p->server) {
    for (auto& in : p->inst) {
      if (in.h != INVALID_HANDLE_VALUE) CloseHandle(in.h);  // cancels a pending connect
      in.h = INVALID_HANDLE_VALUE;
    }
    if (p->id != nullptr) CloseHandle(p->id);
    p->id = nullptr;
  } else if (p->write_pending) {
    // Let the write finish (its completion closes the handle); stop the read.
    if (p->read_pending) CancelIoEx(p->h, &p->rd.ov);
  } else if (p->h != INVALID_HANDLE_VALUE) {
    CloseHandle(p->h);
    p->h = INVALID_HANDLE_VALUE;
  }
  maybe_free(p);
}

}  // namespace pn
