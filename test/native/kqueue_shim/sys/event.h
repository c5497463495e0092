// sys/event.h - a TEST-ONLY emulation of the BSD/macOS kqueue API over Linux
// epoll, so native/core/poller_kqueue.cc and the whole native suite can run
// on this Linux machine (`npm run test:kqueue-shim`). It never ships: the
// addon build refuses it (CMakeLists.txt, PN_POLLER=kqueue on Linux).
//
// Covered, with kqueue's semantics where they differ from epoll's:
//  - kqueue(); kevent() with a change list, then (if no receipt or error was
//    written) a wait for readiness with a timespec timeout;
//  - EVFILT_READ / EVFILT_WRITE as SEPARATE level-triggered filters per fd,
//    each with its own udata; EV_ADD (updates udata), EV_DELETE (ENOENT when
//    absent), EV_ENABLE / EV_DISABLE, EV_RECEIPT, EV_ERROR entries;
//  - EV_EOF on the read filter once the peer shut down (EPOLLRDHUP/EPOLLHUP),
//    `data` = bytes queued (FIONREAD); EV_EOF on the write filter once the
//    socket cannot send (HUP/ERR, or our own shutdown(SHUT_WR): TCP_INFO
//    state), `data` = free send-buffer space;
//  - a pending socket error as a non-zero fflags with EV_EOF;
//  - EVFILT_USER with EV_ADD/EV_DELETE/EV_ENABLE/EV_DISABLE/EV_CLEAR and
//    NOTE_TRIGGER (thread-safe: one eventfd per kqueue);
//  - the READ and WRITE kevents of one fd are returned apart (all READ
//    kevents of a batch first, then all WRITE ones), so a caller that
//    assumed they come together would be caught.
//
// NOT covered (EINVAL, or simply different from a real kqueue):
//  - EV_ONESHOT, EV_DISPATCH, EV_CLEAR on READ/WRITE, other filters
//    (VNODE, PROC, SIGNAL, TIMER...), NOTE_* other than NOTE_TRIGGER;
//  - fflags on error is EIO whatever the real error (reading SO_ERROR on
//    Linux would clear it and change what the next read returns); the real
//    so_error is seen by the caller's own SO_ERROR/read, as on BSD;
//  - low-water marks: real kqueue reports WRITE when free space >=
//    SO_SNDLOWAT (2048), epoll when >= about a third of the send buffer;
//    listening sockets get data = 1, not the accept backlog length;
//  - close() drops an fd's filters (and a kqueue's state) only for calls that
//    go through the linker's --wrap=close, i.e. our code, not libc's own
//    closes; an fd number that comes back with another inode is detected on
//    the next change for it. Real kqueue ties filters to the fd number too,
//    but a dup() of a closed fd keeps epoll (not kqueue) reporting it, and
//    here those reports are dropped;
//  - fork() inheritance, kevent64/kevent_qos, timeouts finer than 1 ms.
#pragma once

#include <stdint.h>
#include <time.h>

#define EVFILT_READ (-1)
#define EVFILT_WRITE (-2)
// -DPN_KQUEUE_SHIM_NO_USER hides EVFILT_USER, as OpenBSD's header does, so
// poller_kqueue.cc's pipe wake-up is tested too (`npm run test:kqueue-shim`
// runs the suite both ways: scripts/kqueue-shim.js).
#define PN_SHIM_EVFILT_USER (-10)
#ifndef PN_KQUEUE_SHIM_NO_USER
#define EVFILT_USER PN_SHIM_EVFILT_USER
#endif

#define EV_ADD 0x0001
#define EV_DELETE 0x0002
#define EV_ENABLE 0x0004
#define EV_DISABLE 0x0008
#define EV_ONESHOT 0x0010
#define EV_CLEAR 0x0020
#define EV_RECEIPT 0x0040
#define EV_DISPATCH 0x0080
#define EV_EOF 0x8000
#define EV_ERROR 0x4000

#define NOTE_TRIGGER 0x01000000u

struct kevent {
  uintptr_t ident;
  int16_t filter;
  uint16_t flags;
  uint32_t fflags;
  intptr_t data;
  void* udata;
};

#define EV_SET(kevp, a, b, c, d, e, f) \
  do {                                 \
    struct kevent* ev_ = (kevp);       \
    ev_->ident = (a);                  \
    ev_->filter = (b);                 \
    ev_->flags = (c);                  \
    ev_->fflags = (d);                 \
    ev_->data = (e);                   \
    ev_->udata = (f);                  \
  } while (0)

#ifdef __cplusplus
extern "C" {
#endif
int kqueue(void);
int kevent(int kq, const struct kevent* changelist, int nchanges, struct kevent* eventlist,
           int nevents, const struct timespec* timeout);
#ifdef __cplusplus
}
#endif
