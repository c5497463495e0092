// loop_lent_slab_test - a loop started with a SlabSource reads a streaming
// socket's big reads into lent slabs, one whole read each, and every lent
// slab goes back to its lender: untouched (a read that found nothing) as
// such, read into once every event holding it is released. A socket sending
// small messages never takes one. Nothing is lost or reordered either way.
#include <mutex>
#include <string>
#include <vector>

#include "harness.h"

using namespace pt;

enum : uint32_t { kBulk = 10, kSmall = 11 };

// A lender with a fixed set of 64 KiB slabs of its own memory.
struct Lender {
  std::mutex mu;
  std::vector<pn::ReadSlab*> spare;
  int taken = 0;           // take() calls that got a slab
  int back_unused = 0;     // given back untouched
  int back_used = 0;       // given back after a read into it
  std::vector<pn::ReadSlab*> all;
};
static Lender g_lender;

static void give_back(pn::ReadSlab* s) {
  std::lock_guard<std::mutex> lock(g_lender.mu);
  if (s->used == 0) {
    g_lender.back_unused++;
  } else {
    g_lender.back_used++;
    s->used = 0;
  }
  s->refs.store(1);
  g_lender.spare.push_back(s);
}

static pn::ReadSlab* take(void* /*test_loop*/) {
  std::lock_guard<std::mutex> lock(g_lender.mu);
  if (g_lender.spare.empty()) return nullptr;
  pn::ReadSlab* s = g_lender.spare.back();
  g_lender.spare.pop_back();
  g_lender.taken++;
  return s;
}

static void lender_init(int n) {
  for (int i = 0; i < n; i++) {
    auto* s = new pn::ReadSlab();
    s->size = 64 * 1024;
    s->data = new char[s->size];
    s->give_back = &give_back;
    g_lender.spare.push_back(s);
    g_lender.all.push_back(s);
  }
}

static bool is_lent(const pn::Event& ev) { return ev.slab != nullptr && ev.slab->give_back == &give_back; }

static void test_streaming_reads_land_in_lent_slabs_and_all_come_back() {
  lender_init(8);
  std::string sent;
  {
    TestLoop t(&take);
    RawPair bulk = raw_pair(t, kBulk, true);
    RawPair small = raw_pair(t, kSmall, true);

    // Small messages, spaced so that each is a read of its own: never streaming.
    std::string small_sent;
    for (int i = 0; i < 20; i++) {
      CHECK_EQ(raw_write(small.client, "hello", 5), 5);
      small_sent += "hello";
      sleep_ms(2);
    }
    // 4 MiB in big writes: reads of up to 64 KiB, streaming after the first.
    std::string chunk(256 * 1024, '\0');
    for (int i = 0; i < 16; i++) {
      for (size_t j = 0; j < chunk.size(); j++) chunk[j] = static_cast<char>((i * 7 + j) % 253);
      size_t off = 0;
      while (off < chunk.size()) {
        ssize_t n = raw_write(bulk.client, chunk.data() + off, chunk.size() - off);
        CHECK(n > 0);
        off += static_cast<size_t>(n);
        t.pull(0);  // keep taking, or the loop stops reading (outbox cap)
      }
      sent += chunk;
    }
    auto t0 = Clock::now();
    while ((t.data_of(kBulk).size() < sent.size() || t.data_of(kSmall).size() < small_sent.size()) &&
           ms_since(t0) < kWaitMs)
      t.pull(20);
    CHECK(t.data_of(kBulk) == sent);
    CHECK(t.data_of(kSmall) == small_sent);

    int lent_events = 0;
    for (const pn::Event& ev : t.log) {
      if (ev.type != pn::kEvData || !is_lent(ev)) continue;
      CHECK_EQ(ev.slot, static_cast<uint32_t>(kBulk));  // never the small sender
      CHECK(ev.data == ev.slab->bytes());               // a whole slab per read
      CHECK_EQ(ev.slab->used, static_cast<size_t>(ev.len));
      lent_events++;
    }
    printf("    %d of the bulk reads went into lent slabs; %d taken\n", lent_events, g_lender.taken);
    CHECK(lent_events > 0);

    t.cmd(pn::kCmdClose, kBulk);
    t.cmd(pn::kCmdClose, kSmall);
    t.expect(kBulk, pn::kEvClosed);
    t.expect(kSmall, pn::kEvClosed);
    raw_close(bulk.client);
    raw_close(bulk.lfd);
    raw_close(small.client);
    raw_close(small.lfd);
  }  // ~TestLoop releases every event it logged
  std::lock_guard<std::mutex> lock(g_lender.mu);
  CHECK_EQ(static_cast<int>(g_lender.spare.size()), 8);  // every slab came back
  CHECK_EQ(g_lender.back_used + g_lender.back_unused, g_lender.taken);
  CHECK(g_lender.back_used > 0);
  for (pn::ReadSlab* s : g_lender.all) {
    delete[] s->data;
    delete s;
  }
}

int main() {
  TEST(streaming_reads_land_in_lent_slabs_and_all_come_back);
  return 0;
}
