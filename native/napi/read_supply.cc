// read_supply.cc - see read_supply.h.
#include "read_supply.h"

#include <new>

#include "loop.h"

namespace pn {

// One whole read: the loops' largest (LoopCore::kReadChunk).
static constexpr size_t kSlabBytes = 64 * 1024;

ReadSlab* ReadSupply::take(void* supply) {
  auto* self = static_cast<ReadSupply*>(supply);
  std::lock_guard<std::mutex> lock(self->mu_);
  if (self->spare_.empty()) return nullptr;
  ReadSlab* s = self->spare_.back();
  self->spare_.pop_back();
  return s;
}

void ReadSupply::give_back(ReadSlab* s) {
  auto* self = static_cast<ReadSupply*>(s->lender);
  std::lock_guard<std::mutex> lock(self->mu_);
  if (s->used == 0) {
    // Taken for a read that found nothing: as good as new.
    s->refs.store(1, std::memory_order_relaxed);
    self->spare_.push_back(s);
  } else {
    self->released_.push_back(s);
  }
}

napi_value ReadSupply::buffer(napi_env env, const ReadSlab* s) {
  napi_value buf = nullptr;
  if (napi_get_reference_value(env, static_cast<napi_ref>(s->token), &buf) != napi_ok) return nullptr;
  return buf;
}

void ReadSupply::drop(napi_env env, ReadSlab* s) {
  napi_delete_reference(env, static_cast<napi_ref>(s->token));
  delete s;
}

void ReadSupply::tend(napi_env env, size_t want) {
  size_t have;
  {
    std::lock_guard<std::mutex> lock(mu_);
    scratch_.swap(released_);
    have = spare_.size();
  }
  // The Buffers stay alive as long as JS holds them; only our refs go.
  for (ReadSlab* s : scratch_) drop(env, s);
  scratch_.clear();

  for (; have < want; have++) {
    void* data = nullptr;
    napi_value buf;
    napi_ref ref = nullptr;
    if (napi_create_buffer(env, kSlabBytes, &data, &buf) != napi_ok || data == nullptr ||
        napi_create_reference(env, buf, 1, &ref) != napi_ok) {
      return;  // no memory now: the loops read into their own slabs meanwhile
    }
    ReadSlab* s = new (std::nothrow) ReadSlab();
    if (s == nullptr) {
      napi_delete_reference(env, ref);
      return;
    }
    s->size = kSlabBytes;
    s->data = static_cast<char*>(data);
    s->give_back = &ReadSupply::give_back;
    s->lender = this;
    s->token = ref;
    std::lock_guard<std::mutex> lock(mu_);
    spare_.push_back(s);
  }
}

void ReadSupply::clear(napi_env env) {
  std::vector<ReadSlab*> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all.swap(spare_);
    all.insert(all.end(), released_.begin(), released_.end());
    released_.clear();
  }
  for (ReadSlab* s : all) drop(env, s);
}

}  // namespace pn
