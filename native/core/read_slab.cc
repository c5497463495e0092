// read_slab.cc - see read_slab.h.
#include "read_slab.h"

#include <cstdlib>
#include <new>

namespace pn {

ReadSlab* slab_new(size_t size) {
  void* mem = malloc(sizeof(ReadSlab) + size);
  if (mem == nullptr) return nullptr;
  ReadSlab* s = new (mem) ReadSlab();
  s->size = size;
  s->data = reinterpret_cast<char*>(s + 1);
  return s;
}

void slab_ref(ReadSlab* s) {
  s->refs.fetch_add(1, std::memory_order_relaxed);
}

void slab_release(ReadSlab* s) {
  // acq_rel: the thread that frees must see every write made into the slab.
  if (s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    if (s->give_back != nullptr) {
      s->give_back(s);
      return;
    }
    s->~ReadSlab();
    free(s);
  }
}

}  // namespace pn
