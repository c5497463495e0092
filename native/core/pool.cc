// pool.cc - start and stop the I/O threads together.
#include "pool.h"

#ifndef _WIN32
#include <unistd.h>  // sysconf
#endif

#include <cerrno>
#include <cstdlib>
#include <new>
#include <thread>

namespace pn {

int online_cpus() {
#ifdef _WIN32
  long cpus = static_cast<long>(std::thread::hardware_concurrency());
#else
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
#endif
  return cpus < 1 ? 1 : static_cast<int>(cpus);
}

namespace {
int env_size() {
  if (const char* env = getenv("PROTONET_IO_THREADS")) {
    char* end = nullptr;
    long n = strtol(env, &end, 10);
    if (end != env && *end == '\0' && n >= 0 && n <= 64) return static_cast<int>(n);
  }
  return -1;
}
}  // namespace

bool Pool::size_from_env() { return env_size() >= 0; }

int Pool::default_size() {
  int from_env = env_size();
  if (from_env >= 0) return from_env;
  long n = online_cpus() / 2;
  if (n < 1) n = 1;
  if (n > 4) n = 4;  // the JS thread needs a core of its own
  return static_cast<int>(n);
}

Pool::~Pool() { stop(); }

int Pool::start(int n, Loop::Doorbell bell, void* ctx, SlabSource slabs) {
  if (!loops_.empty()) return -EALREADY;
  if (n < 1) return -EINVAL;
  loops_.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; i++) {
    int err = add_loop([&](Loop& loop) { return loop.start(bell, ctx, slabs); });
    if (err != 0) {
      stop();  // nothing left running
      return err;
    }
  }
  return 0;
}

int Pool::start_driven(Loop::Doorbell bell, void* ctx, SlabSource slabs, Loop::Doorbell waker) {
  if (!loops_.empty()) return -EALREADY;
  return add_loop([&](Loop& loop) { return loop.start_driven(bell, ctx, slabs, waker); });
}

template <typename Start>
int Pool::add_loop(Start start) {
  Loop* loop = new (std::nothrow) Loop();
  int err = loop == nullptr ? -ENOMEM : start(*loop);
  if (err != 0) {
    delete loop;
    return err;
  }
  loops_.emplace_back(loop);
  return 0;
}

void Pool::stop() {
  for (auto& loop : loops_) loop->stop();
  loops_.clear();
}

}  // namespace pn
