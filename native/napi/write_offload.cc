// write_offload.cc - see write_offload.h.
#include "write_offload.h"

#include <memory>
#include <utility>

#include "bridge.h"

namespace pn {

Loop& write_loop(Instance* inst, const SlotInfo& s) {
  return s.writes_at_writer ? *inst->writer : inst->pool.loop(static_cast<int>(s.loop));
}

bool route_burst(Instance* inst, uint32_t slot, SlotInfo& s, int32_t adopt_type) {
  if (inst->pump == nullptr) {
    s.writes_at_writer = false;
    return true;
  }
  if (inst->writer == nullptr) {
    if (inst->writer_failed) return false;
    auto writer = std::make_unique<Loop>();
    if (writer->start(bridge_ring, inst) != 0) {
      inst->writer_failed = true;
      return false;
    }
    inst->writer = std::move(writer);
  }
  if (!s.lent_to_writer) {
    Command cmd;
    cmd.type = adopt_type;
    cmd.slot = slot;
    cmd.gen = s.gen;
    cmd.fd = s.fd;
    inst->writer->post(std::move(cmd));
    s.lent_to_writer = true;
  }
  s.writes_at_writer = true;
  return true;
}

void post_close(Instance* inst, const SlotInfo& s, uint32_t slot) {
  if (s.lent_to_writer) post_bare(*inst->writer, kCmdClose, slot, s.gen);
  else post_bare(inst->pool.loop(static_cast<int>(s.loop)), kCmdClose, slot, s.gen);
}

int flush_copied(Instance* inst, int wait_ms) {
  if (inst->stopped) return 0;
  int answered = 0;
  if (inst->writer != nullptr && inst->writer->fence(wait_ms)) answered++;
  for (int i = 0; i < inst->pool.size(); i++) {
    Loop& loop = inst->pool.loop(i);
    if (!loop.driven() && loop.fence(wait_ms)) answered++;
  }
  return answered;
}

}  // namespace pn
