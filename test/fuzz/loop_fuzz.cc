// loop_fuzz - libFuzzer harness: a byte string is a sequence of commands on a
// fresh pn::Loop (adopt a connected socketpair end, read start/stop, write,
// shutdown, close) interleaved with peer actions (write, shutdown, close) and
// outbox takes. Invariants: every write is answered by exactly one kEvWriteDone,
// at most one kEvShutdownDone per shutdown, kEvClosed is the last event of a
// handle and comes exactly once per close, and nothing leaks (ASan/LSan).
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "loop.h"

namespace {

constexpr int kSlots = 4;

struct Slot {
  uint32_t gen = 0;
  bool open = false;      // adopted and not yet closed by us
  bool closed_seen = true;
  int peer = -1;          // our end of the socketpair
  int writes = 0, write_dones = 0, shutdowns = 0, shutdown_dones = 0;
  int closes = 0, closed_events = 0;
};

void check(bool ok) { if (!ok) __builtin_trap(); }

void on_event(Slot* slots, pn::Event& ev) {
  check(ev.slot < kSlots);
  Slot& s = slots[ev.slot];
  if (ev.gen == s.gen) {
    check(s.closed_events == 0);  // nothing after kEvClosed
    switch (ev.type) {
      case pn::kEvWriteDone: s.write_dones++; break;
      case pn::kEvShutdownDone: s.shutdown_dones++; break;
      case pn::kEvClosed: s.closed_events++; s.closed_seen = true; break;
      case pn::kEvData: check(ev.len > 0 && ev.data != nullptr); break;
      case pn::kEvEof: case pn::kEvReadError: break;
      default: check(false);
    }
  }
  pn::discard_event(ev);
}

void verify(const Slot& s) {
  check(s.write_dones == s.writes);
  check(s.shutdown_dones <= s.shutdowns);
  check(s.closed_events == (s.closes > 0 ? 1 : 0));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pn::Loop loop;
  check(loop.start(nullptr, nullptr) == 0);
  Slot slots[kSlots];
  std::vector<char*> buffers;  // write payloads live until the loop is stopped
  std::vector<pn::Event> evs;
  auto take = [&] {
    evs.clear();
    loop.take_events(evs);
    for (pn::Event& ev : evs) on_event(slots, ev);
  };

  for (size_t i = 0; i + 1 < size; i += 2) {
    const uint8_t op = data[i] % 12;
    Slot& s = slots[data[i] / 12 % kSlots];
    const uint32_t slot = static_cast<uint32_t>(&s - slots);
    const uint8_t arg = data[i + 1];
    pn::Command c;
    c.slot = slot;
    c.gen = s.gen;
    switch (op) {
      case 0: {  // adopt a new connection in a free slot
        if (s.open || !s.closed_seen) break;
        verify(s);
        if (s.peer >= 0) close(s.peer);
        int sv[2];
        check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
        uint32_t gen = s.gen + 1;
        s = Slot{};
        s.gen = gen;
        s.open = true;
        s.closed_seen = false;
        s.peer = sv[1];
        c.type = pn::kCmdAdoptConnected;
        c.gen = gen;
        c.fd = sv[0];
        c.flag = arg & 1;
        loop.post(c);
        break;
      }
      case 1: if (s.open) { c.type = pn::kCmdReadStart; loop.post(c); } break;
      case 2: if (s.open) { c.type = pn::kCmdReadStop; loop.post(c); } break;
      case 3: case 4: {  // write 1..3 chunks
        if (!s.open) break;
        uint32_t n = 1 + arg % 3;
        iovec* iov = new iovec[n];
        for (uint32_t k = 0; k < n; k++) {
          size_t len = (arg & 0x80) ? (size_t{1} << (10 + k * 3)) : arg + k;  // up to 128 KiB
          char* p = static_cast<char*>(malloc(len ? len : 1));
          memset(p, arg, len);
          buffers.push_back(p);
          iov[k].iov_base = p;
          iov[k].iov_len = len;
        }
        c.type = pn::kCmdWrite;
        c.iov = iov;
        c.iovcnt = n;
        s.writes++;
        loop.post(c);
        break;
      }
      case 5: if (s.open) { c.type = pn::kCmdShutdown; s.shutdowns++; loop.post(c); } break;
      case 6: if (s.open) { c.type = pn::kCmdClose; s.closes++; s.open = false; loop.post(c); } break;
      case 7: if (s.peer >= 0) { char b[512]; memset(b, arg, sizeof b); (void)!send(s.peer, b, 1 + arg * 2, MSG_NOSIGNAL); } break;
      case 8: if (s.peer >= 0) { char b[65536]; while (read(s.peer, b, sizeof b) > 0) {} } break;
      case 9: if (s.peer >= 0) shutdown(s.peer, arg & 1 ? SHUT_WR : SHUT_RDWR); break;
      case 10: if (s.peer >= 0) { close(s.peer); s.peer = -1; } break;
      case 11:
        take();
        if (arg & 1) std::this_thread::sleep_for(std::chrono::microseconds(arg * 4));
        break;
    }
  }

  // Close everything still open, drain the peers so queued writes can finish
  // or fail, and wait (bounded) for every kEvClosed.
  for (uint32_t k = 0; k < kSlots; k++) {
    Slot& s = slots[k];
    if (s.peer >= 0) { close(s.peer); s.peer = -1; }
    if (s.open) {
      pn::Command c;
      c.type = pn::kCmdClose;
      c.slot = k;
      c.gen = s.gen;
      s.closes++;
      s.open = false;
      loop.post(c);
    }
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    take();
    bool all = true;
    for (const Slot& s : slots) all = all && s.closed_seen;
    if (all) break;
    check(std::chrono::steady_clock::now() < deadline);  // a lost kEvClosed
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  for (const Slot& s : slots) verify(s);
  loop.stop();
  take();
  for (char* p : buffers) free(p);
  return 0;
}
