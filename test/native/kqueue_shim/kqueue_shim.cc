// kqueue_shim.cc - TEST-ONLY kqueue over epoll; see sys/event.h for what it
// covers and what it cannot show. One global mutex guards every kqueue's
// filter tables (kevent() from the loop thread and NOTE_TRIGGER from any
// other), and is never held across epoll_wait().
#include "sys/event.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <vector>

namespace {

constexpr uint64_t kUserTag = ~0ull;  // epoll data of the EVFILT_USER eventfd

struct Filter {
  bool present = false;
  bool enabled = false;
  void* udata = nullptr;
};

struct FdNotes {
  Filter read, write;
  dev_t dev = 0;  // which open file the filters belong to (fd numbers get reused)
  ino_t ino = 0;
  bool in_epoll = false;
};

struct UserNote {
  bool enabled = true;
  bool clear = false;
  bool triggered = false;
  void* udata = nullptr;
};

struct Kq {
  int user_efd = -1;
  std::map<int, FdNotes> fds;
  std::map<uintptr_t, UserNote> users;
};

std::mutex g_mu;
std::map<int, Kq> g_kqs;  // keyed by the kqueue (= epoll) descriptor

// The epoll registration of `fd` follows its enabled filters; none -> out of
// epoll, so a disabled fd reports nothing, errors included, as on kqueue.
int sync_epoll(int kq, int fd, FdNotes& st) {
  uint32_t want = 0;
  if (st.read.present && st.read.enabled) want |= EPOLLIN | EPOLLRDHUP;
  if (st.write.present && st.write.enabled) want |= EPOLLOUT;
  if (want == 0) {
    if (st.in_epoll) epoll_ctl(kq, EPOLL_CTL_DEL, fd, nullptr);
    st.in_epoll = false;
    return 0;
  }
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = static_cast<uint64_t>(fd);
  int op = st.in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  int r = epoll_ctl(kq, op, fd, &ev);
  // epoll forgets a closed fd on its own; our table may not have noticed.
  if (r < 0 && errno == ENOENT && op == EPOLL_CTL_MOD) r = epoll_ctl(kq, EPOLL_CTL_ADD, fd, &ev);
  if (r < 0 && errno == EEXIST && op == EPOLL_CTL_ADD) r = epoll_ctl(kq, EPOLL_CTL_MOD, fd, &ev);
  if (r < 0) return errno;
  st.in_epoll = true;
  return 0;
}

int change_user(Kq& q, int kq, const struct kevent& c) {
  if (c.flags & (EV_ONESHOT | EV_DISPATCH)) return EINVAL;
  if (c.fflags & ~NOTE_TRIGGER) return EINVAL;
  auto it = q.users.find(c.ident);
  if (c.flags & EV_ADD) {
    if (q.user_efd < 0) {
      q.user_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (q.user_efd < 0) return errno;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kUserTag;
      if (epoll_ctl(kq, EPOLL_CTL_ADD, q.user_efd, &ev) < 0) return errno;
    }
    if (it == q.users.end()) it = q.users.emplace(c.ident, UserNote{}).first;
    it->second.udata = c.udata;
    it->second.clear = (c.flags & EV_CLEAR) != 0;
  }
  if (it == q.users.end()) return ENOENT;
  if (c.flags & EV_DELETE) {
    q.users.erase(it);
    return 0;
  }
  if (c.flags & EV_ENABLE) it->second.enabled = true;
  if (c.flags & EV_DISABLE) it->second.enabled = false;
  if (c.fflags & NOTE_TRIGGER) it->second.triggered = true;
  if (it->second.triggered && it->second.enabled) {
    uint64_t one = 1;
    ssize_t r = write(q.user_efd, &one, sizeof(one));
    (void)r;  // EAGAIN: the counter is already non-zero
  }
  return 0;
}

int change_fd(Kq& q, int kq, const struct kevent& c) {
  // Edge-triggered and one-shot modes are not emulated.
  if (c.flags & (EV_ONESHOT | EV_DISPATCH | EV_CLEAR)) return EINVAL;
  int fd = static_cast<int>(c.ident);
  struct stat sb;
  if (fstat(fd, &sb) != 0) return EBADF;
  auto it = q.fds.find(fd);
  if (it != q.fds.end() && (it->second.dev != sb.st_dev || it->second.ino != sb.st_ino)) {
    // The fd was closed (its filters gone, on a real kqueue) and reused.
    q.fds.erase(it);
    it = q.fds.end();
  }
  if (it == q.fds.end()) {
    if (!(c.flags & EV_ADD)) return ENOENT;
    it = q.fds.emplace(fd, FdNotes{}).first;
    it->second.dev = sb.st_dev;
    it->second.ino = sb.st_ino;
  }
  FdNotes& st = it->second;
  Filter& f = c.filter == EVFILT_READ ? st.read : st.write;
  if (c.flags & EV_ADD) {
    if (!f.present) f.enabled = true;  // new: enabled unless EV_DISABLE below
    f.present = true;
    f.udata = c.udata;
  } else if (!f.present) {
    return ENOENT;
  }
  if (c.flags & EV_DELETE) f = Filter{};
  if (c.flags & EV_ENABLE) f.enabled = true;
  if (c.flags & EV_DISABLE) f.enabled = false;
  int err = sync_epoll(kq, fd, st);
  if (!st.read.present && !st.write.present) q.fds.erase(fd);
  return err;
}

int apply_change(Kq& q, int kq, const struct kevent& c) {
  if (c.filter == PN_SHIM_EVFILT_USER) return change_user(q, kq, c);
  if (c.filter == EVFILT_READ || c.filter == EVFILT_WRITE) return change_fd(q, kq, c);
  return EINVAL;
}

// kqueue's write filter sets EV_EOF once nothing more can be sent
// (SBS_CANTSENDMORE): after our own shutdown(SHUT_WR) too, which epoll
// does not report. TCP_INFO's state tells it for TCP sockets.
bool cannot_send(int fd) {
  tcp_info ti{};
  socklen_t len = sizeof(ti);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) return false;
  switch (ti.tcpi_state) {
    case TCP_FIN_WAIT1:
    case TCP_FIN_WAIT2:
    case TCP_CLOSING:
    case TCP_LAST_ACK:
    case TCP_TIME_WAIT:
    case TCP_CLOSE:
      return true;
    default:
      return false;
  }
}

intptr_t bytes_readable(int fd) {
  int n = 0;
  if (ioctl(fd, FIONREAD, &n) != 0) return 1;  // a listening socket: "something"
  return n;
}

intptr_t send_space(int fd) {
  int buf = 0, queued = 0;
  socklen_t len = sizeof(buf);
  if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, &len) != 0) return 0;
  if (ioctl(fd, TIOCOUTQ, &queued) != 0) queued = 0;
  return buf > queued ? buf - queued : 0;
}

// Turns one epoll_wait() result into kevents: every READ/USER kevent first,
// then every WRITE one, so two filters of one fd are never adjacent.
int collect(Kq& q, const epoll_event* evs, int n, struct kevent* out, int max) {
  int k = 0;
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < n && k < max; i++) {
      uint32_t e = evs[i].events;
      if (evs[i].data.u64 == kUserTag) {
        if (pass == 1) continue;
        bool left = false;
        // A trigger on a disabled note waits for EV_ENABLE, which rings
        // the eventfd again; until then the eventfd is drained, no spin.
        for (auto& [ident, u] : q.users) {
          if (!u.triggered || !u.enabled) continue;
          if (k == max) {
            left = true;
            continue;
          }
          struct kevent& o = out[k++];
          EV_SET(&o, ident, PN_SHIM_EVFILT_USER, u.clear ? EV_CLEAR : 0, NOTE_TRIGGER, 0, u.udata);
          if (u.clear) u.triggered = false;
          left |= u.triggered;
        }
        if (!left) {
          uint64_t count;
          ssize_t r = read(q.user_efd, &count, sizeof(count));
          (void)r;
        }
        continue;
      }
      int fd = static_cast<int>(evs[i].data.u64);
      auto it = q.fds.find(fd);
      if (it == q.fds.end()) continue;
      FdNotes& st = it->second;
      bool err = (e & EPOLLERR) != 0;
      if (pass == 0 && st.read.present && st.read.enabled &&
          (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        bool eof = (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
        EV_SET(&out[k], fd, EVFILT_READ, eof ? EV_EOF : 0, err ? EIO : 0, bytes_readable(fd),
               st.read.udata);
        k++;
      }
      if (pass == 1 && st.write.present && st.write.enabled &&
          (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))) {
        bool eof = (e & (EPOLLHUP | EPOLLERR)) || cannot_send(fd);
        EV_SET(&out[k], fd, EVFILT_WRITE, eof ? EV_EOF : 0, err ? EIO : 0, send_space(fd),
               st.write.udata);
        k++;
      }
    }
  }
  return k;
}

}  // namespace

// close() is wrapped (-Wl,--wrap=close, CMakeLists.txt) so that, as on a
// real kqueue, closing an fd drops its filters in every kqueue, and closing a
// kqueue frees the emulation's state (its USER eventfd included). Closes made
// inside libc itself are not seen; the inode check in change_fd() covers an
// fd number that came back that way.
extern "C" int __real_close(int fd);
extern "C" int __wrap_close(int fd) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_kqs.find(fd);
    if (it != g_kqs.end()) {
      if (it->second.user_efd >= 0) __real_close(it->second.user_efd);
      g_kqs.erase(it);
    }
    for (auto& [kq, q] : g_kqs) q.fds.erase(fd);  // epoll forgets the fd itself
  }
  return __real_close(fd);
}

extern "C" int kqueue(void) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return -1;
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_kqs.find(fd);
  if (it != g_kqs.end()) {
    // A kqueue closed behind the wrapper's back, its number reused.
    if (it->second.user_efd >= 0) __real_close(it->second.user_efd);
    g_kqs.erase(it);
  }
  g_kqs.emplace(fd, Kq{});
  return fd;
}

extern "C" int kevent(int kq, const struct kevent* changes, int nchanges, struct kevent* events,
                      int nevents, const struct timespec* timeout) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_kqs.find(kq);
    if (it == g_kqs.end()) {
      errno = EBADF;
      return -1;
    }
    // Changes in order; an error (or any change under EV_RECEIPT) becomes an
    // EV_ERROR entry while there is room, else fails the call, and once any
    // entry was written the call returns without waiting (as BSD and macOS do).
    int nout = 0;
    for (int i = 0; i < nchanges; i++) {
      int err = apply_change(it->second, kq, changes[i]);
      if (err == 0 && !(changes[i].flags & EV_RECEIPT)) continue;
      if (nout < nevents) {
        events[nout] = changes[i];
        events[nout].flags = static_cast<uint16_t>(changes[i].flags | EV_ERROR);
        events[nout].data = err;
        nout++;
      } else if (err != 0) {
        errno = err;
        return -1;
      }
    }
    if (nout > 0 || nevents <= 0) return nout;
  }

  int ms = -1;
  if (timeout != nullptr) {
    long long t = static_cast<long long>(timeout->tv_sec) * 1000 + (timeout->tv_nsec + 999999) / 1000000;
    ms = t > 0x7fffffff ? 0x7fffffff : static_cast<int>(t);
  }
  std::vector<epoll_event> evs(static_cast<size_t>(nevents));
  for (;;) {
    // A ready fd whose filters are all disabled never reaches epoll, and the
    // USER eventfd only fires with a trigger pending, so an empty result is
    // rare (a trigger on a disabled note); wait again then, as kqueue would.
    timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int n = epoll_wait(kq, evs.data(), nevents, ms);
    if (n <= 0) return n;  // timeout (0) or -1 with errno (EINTR included)
    int k;
    {
      std::lock_guard<std::mutex> lock(g_mu);
      auto it = g_kqs.find(kq);
      if (it == g_kqs.end()) {
        errno = EBADF;
        return -1;
      }
      k = collect(it->second, evs.data(), n, events, nevents);
    }
    if (k > 0 || ms == 0) return k;
    if (ms > 0) {
      timespec t1;
      clock_gettime(CLOCK_MONOTONIC, &t1);
      long long spent = (t1.tv_sec - t0.tv_sec) * 1000LL + (t1.tv_nsec - t0.tv_nsec) / 1000000;
      if (spent >= ms) return 0;
      ms -= static_cast<int>(spent);
    }
  }
}
