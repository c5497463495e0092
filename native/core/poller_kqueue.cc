// poller_kqueue.cc - the macOS/BSD poller: kqueue, like Redis's ae_kqueue.c,
// made to honour poller.h's level-triggered, one-event-per-fd contract.
//
// kqueue keeps one filter per (fd, direction): EVFILT_READ and EVFILT_WRITE
// are separate registrations, each level-triggered unless EV_CLEAR is asked.
// So an interest mask becomes "add the filters wanted, delete the others";
// wait() folds the READ and WRITE kevents of one fd into one PollEvent, since
// the loop handles a socket once per batch (stream_ready() reads, then writes,
// then judges an error by whether either made progress; two calls in one
// batch could judge a stale half-event alone).
//
// The wake-up is an EVFILT_USER event with EV_CLEAR: NOTE_TRIGGER from any
// thread sets it, delivery resets it, and many triggers before one wait()
// are one event (macOS, FreeBSD, DragonFly, NetBSD >= 10). Where EVFILT_USER
// is missing (OpenBSD, older NetBSD) a non-blocking pipe takes its place.
//
// Not run on a real kqueue in CI: test/native/kqueue_shim emulates kqueue
// over epoll so the whole native suite runs against this file on Linux
// (`npm run test:kqueue-shim`); see the shim's header for what it cannot show.
#include "poller.h"

#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>

namespace pn {

namespace {

constexpr int kMaxBatch = 256;
#ifdef EVFILT_USER
constexpr uintptr_t kWakeIdent = 0;  // EVFILT_USER idents are not fds
#endif

// `udata` carries a registration's 64-bit token whole: kqueue platforms
// protonet builds for are 64-bit.
static_assert(sizeof(void*) >= sizeof(PollToken), "kevent udata must hold a PollToken");

// EV_SET without the macro: NetBSD before 10 types `udata` as intptr_t, so
// the cast has to follow whatever the header declares; and FreeBSD 12+ adds
// an `ext[4]` array that must not carry stack garbage into the kernel.
void make_change(struct kevent* ev, uintptr_t ident, int filter, unsigned flags, unsigned fflags,
                 PollToken token) {
  memset(ev, 0, sizeof(*ev));
  ev->ident = ident;
  ev->filter = static_cast<decltype(ev->filter)>(filter);
  ev->flags = static_cast<decltype(ev->flags)>(flags);
  ev->fflags = fflags;
  // A C cast: udata is a pointer on most systems and an intptr_t on some.
  ev->udata = (decltype(ev->udata))static_cast<uintptr_t>(token);
}

PollToken token_of(const struct kevent& ev) {
  return static_cast<PollToken>((uintptr_t)ev.udata);  // pointer or intptr_t, as make_change
}

// Applies `n` (at most 2) changes. EV_RECEIPT makes kevent() answer every
// change with an EV_ERROR entry (data = 0 or the errno) and return without
// collecting any readiness, so one call applies all changes and says which
// failed; without it the first failure would stop the list with no room for
// its error. ENOENT only comes from EV_DELETE of a filter that is not there
// (EV_ADD never gives it), which is what "not wanted" means anyway.
int apply(int kq, struct kevent* changes, int n) {
#ifdef EV_RECEIPT
  struct kevent res[2];
  for (int i = 0; i < n; i++) changes[i].flags |= EV_RECEIPT;
  int r;
  do {
    r = kevent(kq, changes, n, res, n, nullptr);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return -errno;
  for (int i = 0; i < r; i++) {
    if (!(res[i].flags & EV_ERROR) || res[i].data == 0 || res[i].data == ENOENT) continue;
    return -static_cast<int>(res[i].data);
  }
  return 0;
#else
  // No receipts (older OpenBSD): one change per call, so a failure is -1/errno.
  for (int i = 0; i < n; i++) {
    int r;
    do {
      r = kevent(kq, &changes[i], 1, nullptr, 0, nullptr);
    } while (r < 0 && errno == EINTR);
    if (r < 0 && errno != ENOENT) return -errno;
  }
  return 0;
#endif
}

// Both filters of `fd` as `interest` says: EV_ADD (which also replaces the
// udata of a filter already there) or EV_DELETE.
int set_filters(int kq, int fd, uint32_t interest, PollToken token) {
  struct kevent ch[2];
  make_change(&ch[0], static_cast<uintptr_t>(fd), EVFILT_READ,
      (interest & kPollReadable) ? EV_ADD | EV_ENABLE : EV_DELETE, 0, token);
  make_change(&ch[1], static_cast<uintptr_t>(fd), EVFILT_WRITE,
      (interest & kPollWritable) ? EV_ADD | EV_ENABLE : EV_DELETE, 0, token);
  return apply(kq, ch, 2);
}

// One kevent as PollFlags. On a socket, EV_EOF on the read filter is the
// peer's FIN (SBS_CANTRCVMORE) with the bytes still queued in `data`; on the
// write filter it means nothing more can be sent. A pending socket error
// (so_error: ECONNRESET, ECONNREFUSED...) rides in fflags with EV_EOF.
uint32_t from_kevent(const struct kevent& ev) {
  if (ev.flags & EV_ERROR) return kPollError;  // only from a change, never expected here
  bool eof = (ev.flags & EV_EOF) != 0;
  bool err = eof && ev.fflags != 0;
  if (ev.filter == EVFILT_READ)
    return kPollReadable | (eof ? kPollPeerClosed : 0u) | (err ? kPollError : 0u);
  if (ev.filter == EVFILT_WRITE)
    // EOF alone (our own shutdown, or the peer gone without an error) stays
    // "writable": the send that follows fails with the reason (EPIPE), as
    // it does after epoll's EPOLLOUT.
    return kPollWritable | (err ? kPollError : 0u);
  return 0;
}

int set_cloexec(int fd) { return fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 ? 0 : -errno; }

}  // namespace

Poller::~Poller() {
  if (wake_rd_ >= 0) close(wake_rd_);
  if (wake_fd_ >= 0) close(wake_fd_);
  if (fd_ >= 0) close(fd_);
}

int Poller::init() {
  fd_ = kqueue();
  if (fd_ < 0) return -errno;
  // A kqueue is not inherited by fork() children, but it would survive exec.
  int err = set_cloexec(fd_);
  if (err != 0) return err;
#ifdef EVFILT_USER
  struct kevent ch;
  make_change(&ch, kWakeIdent, EVFILT_USER, EV_ADD | EV_CLEAR, 0, kPollWakeToken);
  return apply(fd_, &ch, 1);
#else
  int p[2];
  if (pipe(p) != 0) return -errno;
  wake_rd_ = p[0];
  wake_fd_ = p[1];
  for (int fd : p) {
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) return -errno;
    err = set_cloexec(fd);
    if (err != 0) return err;
  }
  // Told apart from handles by its token, as on epoll.
  struct kevent ch;
  make_change(&ch, static_cast<uintptr_t>(wake_rd_), EVFILT_READ, EV_ADD, 0, kPollWakeToken);
  return apply(fd_, &ch, 1);
#endif
}

void Poller::wake() {
#ifdef EVFILT_USER
  struct kevent ch;
  make_change(&ch, kWakeIdent, EVFILT_USER, 0, NOTE_TRIGGER, kPollWakeToken);
  // Failure leaves nothing to do: the kqueue is gone or out of memory.
  kevent(fd_, &ch, 1, nullptr, 0, nullptr);
#else
  char one = 1;
  ssize_t r = write(wake_fd_, &one, 1);
  (void)r;  // EAGAIN: the pipe is full of wake-ups already
#endif
}

int Poller::add(int fd, uint32_t interest, PollToken token) {
  return set_filters(fd_, fd, interest, token);
}

int Poller::modify(int fd, uint32_t interest, PollToken token) {
  return set_filters(fd_, fd, interest, token);
}

// A kqueue descriptor polls readable while it has events pending.
int Poller::pollable_fd() const { return fd_; }

int Poller::remove(int fd) { return set_filters(fd_, fd, 0, 0); }

int Poller::wait(PollEvent* out, int max, int timeout_ms) {
  struct kevent evs[kMaxBatch];
  if (max > kMaxBatch) max = kMaxBatch;
  timespec ts;
  timespec* tp = nullptr;
  if (timeout_ms >= 0) {
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = static_cast<long>(timeout_ms % 1000) * 1000000L;
    tp = &ts;
  }
  int n = kevent(fd_, nullptr, 0, evs, max, tp);
  if (n < 0) return errno == EINTR ? 0 : -errno;

  // The idents of out[0..k), to fold a second filter of the same fd into its
  // first event. A linear scan: batches are small, and a full one of 256
  // distinct fds costs ~32k compares against 256 reads' worth of syscalls.
  uintptr_t idents[kMaxBatch];
  int k = 0;
  for (int i = 0; i < n; i++) {
    const struct kevent& ev = evs[i];
#ifdef EVFILT_USER
    if (ev.filter == EVFILT_USER) continue;  // the wake-up; EV_CLEAR reset it
#else
    if (token_of(ev) == kPollWakeToken) {
      char buf[64];
      while (read(wake_rd_, buf, sizeof(buf)) > 0) {
      }
      continue;
    }
#endif
    uint32_t flags = from_kevent(ev);
    if (flags == 0) continue;
    int j = k - 1;
    while (j >= 0 && idents[j] != ev.ident) j--;
    if (j >= 0) {
      out[j].events |= flags;
      continue;
    }
    idents[k] = ev.ident;
    out[k].token = token_of(ev);
    out[k].events = flags;
    k++;
  }
  return k;
}

}  // namespace pn
