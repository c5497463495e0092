// poller_epoll.cc - the Linux poller: level-triggered epoll, like Redis's ae_epoll.c.
#include "poller.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

namespace pn {

namespace {

uint32_t to_epoll(uint32_t interest) {
  uint32_t ev = 0;
  // Peer FIN is watched together with readability: it is only news to a
  // socket that is reading.
  if (interest & kPollReadable) ev |= EPOLLIN | EPOLLRDHUP;
  if (interest & kPollWritable) ev |= EPOLLOUT;
  return ev;
}

uint32_t from_epoll(uint32_t ev) {
  uint32_t out = 0;
  if (ev & EPOLLIN) out |= kPollReadable;
  if (ev & EPOLLOUT) out |= kPollWritable;
  if (ev & EPOLLRDHUP) out |= kPollPeerClosed;
  if (ev & (EPOLLERR | EPOLLHUP)) out |= kPollError;
  return out;
}

int ctl(int epfd, int op, int fd, uint32_t interest, void* data) {
  epoll_event ev{};
  ev.events = to_epoll(interest);
  ev.data.ptr = data;
  return epoll_ctl(epfd, op, fd, &ev) == 0 ? 0 : -errno;
}

}  // namespace

Poller::~Poller() {
  if (fd_ >= 0) close(fd_);
}

int Poller::init() {
  fd_ = epoll_create1(EPOLL_CLOEXEC);
  return fd_ < 0 ? -errno : 0;
}

int Poller::add(int fd, uint32_t interest, void* data) {
  return ctl(fd_, EPOLL_CTL_ADD, fd, interest, data);
}

int Poller::modify(int fd, uint32_t interest, void* data) {
  return ctl(fd_, EPOLL_CTL_MOD, fd, interest, data);
}

int Poller::remove(int fd) { return ctl(fd_, EPOLL_CTL_DEL, fd, 0, nullptr); }

int Poller::wait(PollEvent* out, int max, int timeout_ms) {
  // epoll_event is packed on x86-64, so it cannot be aliased with PollEvent;
  // a stack batch keeps the call allocation-free.
  epoll_event evs[256];
  if (max > 256) max = 256;
  int n = epoll_wait(fd_, evs, max, timeout_ms);
  if (n < 0) return errno == EINTR ? 0 : -errno;
  for (int i = 0; i < n; i++) {
    out[i].data = evs[i].data.ptr;
    out[i].events = from_epoll(evs[i].events);
  }
  return n;
}

}  // namespace pn
