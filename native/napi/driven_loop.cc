// driven_loop.cc - see driven_loop.h.
#include "driven_loop.h"

#include "bridge.h"
#include "instance.h"

#ifdef _WIN32

namespace pn {
// IOCP cannot be nested in another event loop (Poller::pollable_fd is -1).
bool driven_attach(Instance*, napi_env) { return false; }
void driven_detach(Instance*) {}
void driven_wake(void*) {}
}  // namespace pn

#else

#include <dlfcn.h>

#include <cstdint>
#include <cstdlib>
#include <new>

struct uv_loop_s;  // libuv's, opaque here

namespace pn {

// libuv's stable 1.x ABI, declared here rather than taken from uv.h (the
// node-api-headers builds have none): handles are opaque blocks of
// uv_handle_size() bytes whose first field is the user's `void* data`.
namespace uv {
using Loop = ::uv_loop_s;
using Handle = void;
using PollCb = void (*)(Handle*, int status, int events);
using HandleCb = void (*)(Handle*);
using CloseCb = void (*)(Handle*);
constexpr int kIdleType = 6;    // UV_IDLE
constexpr int kPollType = 8;    // UV_POLL
constexpr int kTimerType = 13;  // UV_TIMER
constexpr int kReadable = 1;    // UV_READABLE
inline void*& data(Handle* h) { return *static_cast<void**>(h); }
}  // namespace uv

// The few libuv calls needed, resolved in the host process by name: a
// reference to libuv in the binary itself would break loading in hosts
// without it.
struct UvApi {
  size_t (*handle_size)(int) = nullptr;
  int (*poll_init)(uv::Loop*, uv::Handle*, int) = nullptr;
  int (*poll_start)(uv::Handle*, int, uv::PollCb) = nullptr;
  int (*poll_stop)(uv::Handle*) = nullptr;
  int (*idle_init)(uv::Loop*, uv::Handle*) = nullptr;
  int (*idle_start)(uv::Handle*, uv::HandleCb) = nullptr;
  int (*idle_stop)(uv::Handle*) = nullptr;
  int (*timer_init)(uv::Loop*, uv::Handle*) = nullptr;
  int (*timer_start)(uv::Handle*, uv::HandleCb, uint64_t, uint64_t) = nullptr;
  int (*timer_stop)(uv::Handle*) = nullptr;
  void (*close)(uv::Handle*, uv::CloseCb) = nullptr;
  void (*unref)(uv::Handle*) = nullptr;

  template <typename F>
  static bool find(F* fn, const char* name) {
    *fn = reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
    return *fn != nullptr;
  }
  bool load() {
    return find(&handle_size, "uv_handle_size") && find(&poll_init, "uv_poll_init") &&
           find(&poll_start, "uv_poll_start") && find(&poll_stop, "uv_poll_stop") &&
           find(&idle_init, "uv_idle_init") && find(&idle_start, "uv_idle_start") &&
           find(&idle_stop, "uv_idle_stop") &&
           find(&timer_init, "uv_timer_init") && find(&timer_start, "uv_timer_start") &&
           find(&timer_stop, "uv_timer_stop") && find(&close, "uv_close") &&
           find(&unref, "uv_unref");
  }
};

struct DrivenPump {
  UvApi uv;
  // Each calloc'd, uv_handle_size() bytes: readiness of the loop's poller,
  // a run scheduled by the waker, and the listeners' retry timer.
  uv::Handle* poll = nullptr;
  uv::Handle* idle = nullptr;
  uv::Handle* timer = nullptr;
  Loop* loop = nullptr;
  Instance* inst = nullptr;
  bool detached = false;  // driven_detach() ran: inst and loop are not ours to touch
  int open_handles = 0;   // the pump is freed when the last one's close callback ran
};

namespace {

void run(DrivenPump* p) {
  if (p->detached) return;
  p->loop->run_once();
  // What run_once() published goes to JS now, from this callback: no
  // threadsafe-function round trip (an eventfd write, another poll, a read).
  bridge_deliver_now(p->inst);
  if (p->detached) return;  // the environment is going away
  // A paused listener (out of memory, or of descriptors with no spare to
  // shed with: core/listener.h) retries on a timer, not on readiness.
  int due = p->loop->driven_timeout_ms();
  if (due >= 0)
    p->uv.timer_start(p->timer, [](uv::Handle* t) { run(static_cast<DrivenPump*>(uv::data(t))); },
                      static_cast<uint64_t>(due), 0);
  else
    p->uv.timer_stop(p->timer);
}

void on_poll(uv::Handle* h, int /*status*/, int /*events*/) {
  run(static_cast<DrivenPump*>(uv::data(h)));
}

void on_idle(uv::Handle* h) {
  auto* p = static_cast<DrivenPump*>(uv::data(h));
  p->uv.idle_stop(h);
  run(p);
}

void on_closed(uv::Handle* h) {
  auto* p = static_cast<DrivenPump*>(uv::data(h));
  free(h);
  if (--p->open_handles == 0) delete p;
}

// Closes the handles that were initialised (their callbacks free them and,
// last, the pump); frees the rest at once.
void dispose(DrivenPump* p, int initialised) {
  uv::Handle* hs[3] = {p->poll, p->idle, p->timer};
  p->open_handles = initialised;
  for (int i = initialised; i < 3; i++) free(hs[i]);
  if (initialised == 0) {
    delete p;
    return;
  }
  for (int i = 0; i < initialised; i++) p->uv.close(hs[i], on_closed);
}

}  // namespace

void driven_wake(void* instance) {
  // The loop's waker (Loop::start_driven): commands were posted, or a take()
  // released a throttled socket. An active idle handle runs run_once() at the
  // next idle phase, before the event loop blocks again (and keeps it from
  // blocking until then), with no syscall. Starting it twice is a no-op.
  DrivenPump* p = static_cast<Instance*>(instance)->pump;
  if (p != nullptr && !p->detached) p->uv.idle_start(p->idle, on_idle);
}

bool driven_attach(Instance* inst, napi_env env) {
  if (inst->pump != nullptr || inst->pool.size() != 1 || !inst->pool.loop(0).driven()) return false;
  Loop& loop = inst->pool.loop(0);
  uv::Loop* uvl = nullptr;
  if (napi_get_uv_event_loop(env, &uvl) != napi_ok || uvl == nullptr) return false;
  auto* p = new (std::nothrow) DrivenPump();
  if (p == nullptr) return false;
  p->loop = &loop;
  p->inst = inst;
  if (!p->uv.load()) {
    delete p;
    return false;
  }
  p->poll = static_cast<uv::Handle*>(calloc(1, p->uv.handle_size(uv::kPollType)));
  p->idle = static_cast<uv::Handle*>(calloc(1, p->uv.handle_size(uv::kIdleType)));
  p->timer = static_cast<uv::Handle*>(calloc(1, p->uv.handle_size(uv::kTimerType)));
  if (p->poll == nullptr || p->idle == nullptr || p->timer == nullptr) {
    dispose(p, 0);
    return false;
  }
  if (p->uv.poll_init(uvl, p->poll, loop.poll_fd()) != 0) {
    dispose(p, 0);
    return false;
  }
  if (p->uv.idle_init(uvl, p->idle) != 0) {
    dispose(p, 1);
    return false;
  }
  if (p->uv.timer_init(uvl, p->timer) != 0) {
    dispose(p, 2);
    return false;
  }
  for (uv::Handle* h : {p->poll, p->idle, p->timer}) {
    uv::data(h) = p;
    // None keeps the process alive: the threadsafe function's ref does,
    // exactly while a ref'd handle is open (see setRef).
    p->uv.unref(h);
  }
  if (p->uv.poll_start(p->poll, uv::kReadable, on_poll) != 0) {
    dispose(p, 3);
    return false;
  }
  inst->pump = p;
  // Anything posted before the pump existed (nothing, today) still runs.
  p->uv.idle_start(p->idle, on_idle);
  return true;
}

void driven_detach(Instance* inst) {
  DrivenPump* p = inst->pump;
  if (p == nullptr) return;
  inst->pump = nullptr;
  p->detached = true;
  p->uv.poll_stop(p->poll);
  p->uv.idle_stop(p->idle);
  p->uv.timer_stop(p->timer);
  // Freed by the last close callback; at process exit libuv may never run
  // them, and the few bytes go with the process.
  dispose(p, 3);
}

}  // namespace pn

#endif
