// poller_epoll.cc - the Linux poller: level-triggered epoll, like Redis's ae_epoll.c.
#include "poller.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
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

int ctl(int epfd, int op, int fd, uint32_t interest, PollToken token) {
  epoll_event ev{};
  ev.events = to_epoll(interest);
  ev.data.u64 = token;
  return epoll_ctl(epfd, op, fd, &ev) == 0 ? 0 : -errno;
}

}  // namespace

Poller::~Poller() {
  if (wake_fd_ >= 0) close(wake_fd_);
  if (fd_ >= 0) close(fd_);
}

int Poller::init() {
  fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (fd_ < 0) return -errno;
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return -errno;
  // The wake-up fd is told apart from handles by its token.
  return ctl(fd_, EPOLL_CTL_ADD, wake_fd_, kPollReadable, kPollWakeToken);
}

void Poller::wake() {
  uint64_t one = 1;
  ssize_t r = write(wake_fd_, &one, sizeof(one));
  (void)r;  // EAGAIN: the counter is already non-zero, the loop wakes anyway
}

int Poller::add(int fd, uint32_t interest, PollToken token) {
  return ctl(fd_, EPOLL_CTL_ADD, fd, interest, token);
}

int Poller::modify(int fd, uint32_t interest, PollToken token) {
  return ctl(fd_, EPOLL_CTL_MOD, fd, interest, token);
}

int Poller::pollable_fd() const { return fd_; }

int Poller::remove(int fd) { return ctl(fd_, EPOLL_CTL_DEL, fd, 0, 0); }

int Poller::wait(PollEvent* out, int max, int timeout_ms) {
  // epoll_event is packed on x86-64, so it cannot be aliased with PollEvent;
  // a stack batch keeps the call allocation-free.
  epoll_event evs[256];
  if (max > 256) max = 256;
  int n = epoll_wait(fd_, evs, max, timeout_ms);
  if (n < 0) return errno == EINTR ? 0 : -errno;
  int k = 0;
  for (int i = 0; i < n; i++) {
    if (evs[i].data.u64 == kPollWakeToken) {
      uint64_t count;
      ssize_t r = read(wake_fd_, &count, sizeof(count));
      (void)r;
      continue;
    }
    out[k].token = evs[i].data.u64;
    out[k].events = from_epoll(evs[i].events);
    k++;
  }
  return k;
}

}  // namespace pn
