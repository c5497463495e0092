// addon.cc - module init, per-environment instance data, teardown.
//
// Context-aware: every environment (main thread, worker, Deno/Bun realm) gets
// its own Instance with its own I/O threads, created by init(dispatch) on
// first use. Teardown order matters (docs/ARCHITECTURE.md, "Teardown"): our cleanup
// hook is added after the threadsafe function exists, so it runs before the
// function's own hook: it stops and joins the loops first, so no loop thread
// can touch the function once the environment starts dying.
#include <napi.h>

#include <cstdlib>

#include "bridge.h"
#include "driven_loop.h"
#include "errors.h"
#include "handles.h"
#include "udp.h"
#include "instance.h"
#include "udp_handles.h"
#include "write_offload.h"

namespace pn {
namespace {

// The JS values the instance keeps alive (references, the async context).
void release_js_state(Instance* inst, napi_env env) {
  if (inst->async_context != nullptr) napi_async_destroy(env, inst->async_context);
  inst->async_context = nullptr;
  for (napi_ref* ref : {&inst->dispatch_ref, &inst->pool_ref, &inst->records_ref}) {
    if (*ref != nullptr) napi_delete_reference(env, *ref);
    *ref = nullptr;
  }
  inst->pool_data = nullptr;
  inst->pool_size = inst->pool_off = 0;
  inst->records_data = nullptr;
  inst->records_cap = 0;
}

void teardown(void* arg) {
  auto* inst = static_cast<Instance*>(arg);
  if (inst->stopped) return;
  inst->stopped = true;
  driven_detach(inst);  // no libuv callback may reach the loop stop() deletes
  // The writer first: it writes to fds the pool's loop owns and closes.
  if (inst->writer != nullptr) inst->writer->stop();
  inst->pool.stop();    // joins threads, closes fds, discards untaken events
  release_js_state(inst, inst->env);
  // Events taken but never delivered still own memory and fds.
  for (size_t i = inst->next_event; i < inst->events.size(); i++) discard_event(inst->events[i]);
  for (Event& ev : inst->local_events) discard_event(ev);
  inst->events.clear();
  inst->local_events.clear();
  inst->next_event = 0;
  // No loop holds a lent buffer any more, and no event refers to one.
  inst->supply.clear(inst->env);
  if (inst->tsfn != nullptr) {
    napi_release_threadsafe_function(inst->tsfn, napi_tsfn_abort);
    inst->tsfn = nullptr;
  }
}

// The loops' SlabSource: the instance's supply of JS-allocated read buffers.
ReadSlab* lend_slab(void* ctx) { return ReadSupply::take(&static_cast<Instance*>(ctx)->supply); }

void delete_instance(Napi::Env, Instance* inst) {
  teardown(inst);
  delete inst;
}

// init(dispatch) -> number of I/O loops. Starts the threads of this environment.
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (env.GetInstanceData<Instance>() != nullptr) {
    Napi::Error::New(env, "protonet: init() called twice").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* inst = new Instance();
  inst->env = env;
  const char* exact = getenv("PROTONET_EXACT_ORDER");
  inst->exact_order = exact != nullptr && exact[0] == '1';
  napi_value name;
  napi_create_string_utf8(env, "protonet:dispatch", NAPI_AUTO_LENGTH, &name);
  napi_status st = napi_create_threadsafe_function(
      env, info[0], nullptr, name, /*max_queue_size*/ 0, /*initial_thread_count*/ 1,
      /*finalize_data*/ nullptr, /*finalize_cb*/ nullptr, inst, bridge_call_js, &inst->tsfn);
  if (st != napi_ok) {
    delete inst;
    Napi::Error::New(env, "protonet: cannot create the dispatch function").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // No handle is open yet: do not keep the process alive.
  napi_unref_threadsafe_function(env, inst->tsfn);
  inst->tsfn_refed = false;

  // init(dispatch, hostIsNode). In Node, by default, the sockets run on the
  // JS thread's own libuv loop (driven_loop.h): measured faster than I/O
  // threads on every workload of bench/ but in-process bulk (bench/README.md).
  // PROTONET_IO_THREADS=N (1..64) asks for N I/O threads instead; 0 asks for
  // none, which only a libuv host can give: elsewhere one thread stands in.
  int size = Pool::default_size();
  bool host_uv = info.Length() > 1 && info[1].ToBoolean().Value();
  int err = -ENOTSUP;
  if (host_uv && (size == 0 || !Pool::size_from_env())) {
    napi_value resource, rname;
    napi_create_object(env, &resource);
    napi_create_string_utf8(env, "protonet:io", NAPI_AUTO_LENGTH, &rname);
    if (napi_create_reference(env, info[0], 1, &inst->dispatch_ref) == napi_ok &&
        napi_async_init(env, resource, rname, &inst->async_context) == napi_ok)
      err = inst->pool.start_driven(bridge_ring_driven, inst, lend_slab, driven_wake);
    if (err == 0 && !driven_attach(inst, env)) {
      inst->pool.stop();
      err = -ENOTSUP;
    }
  }
  if (err != 0) err = inst->pool.start(size < 1 ? 1 : size, bridge_ring, inst, lend_slab);
  if (err != 0) {
    napi_release_threadsafe_function(inst->tsfn, napi_tsfn_abort);
    release_js_state(inst, env);
    delete inst;
    Napi::Error::New(env, "protonet: cannot start I/O threads").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // PROTONET_WRITE_OFFLOAD=0 keeps every write on the JS thread (for A/B runs).
  const char* offload = getenv("PROTONET_WRITE_OFFLOAD");
  inst->write_burst.enabled = !(offload != nullptr && offload[0] == '0');
  napi_add_env_cleanup_hook(env, teardown, inst);
  env.SetInstanceData<Instance, delete_instance>(inst);
  return Napi::Number::New(env, inst->pool.size());
}

// setRef(bool): JS counts its ref'd handles and flips this on 0 <-> 1
// (napi_ref/unref_threadsafe_function are not counted).
Napi::Value SetRef(const Napi::CallbackInfo& info) {
  Instance* inst = info.Env().GetInstanceData<Instance>();
  bool want = info[0].ToBoolean().Value();
  if (inst != nullptr && inst->tsfn != nullptr && want != inst->tsfn_refed) {
    if (want) napi_ref_threadsafe_function(info.Env(), inst->tsfn);
    else napi_unref_threadsafe_function(info.Env(), inst->tsfn);
    inst->tsfn_refed = want;
  }
  return info.Env().Undefined();
}

// isDriven(): whether the sockets run on this environment's own libuv loop
// (driven_loop.h); then JS needs no turnEnded hook.
Napi::Value IsDriven(const Napi::CallbackInfo& info) {
  Instance* inst = info.Env().GetInstanceData<Instance>();
  return Napi::Boolean::New(info.Env(), inst != nullptr && inst->pump != nullptr);
}

// turnEnded(): see bridge_turn_ended.
Napi::Value TurnEnded(const Napi::CallbackInfo& info) {
  Instance* inst = info.Env().GetInstanceData<Instance>();
  if (inst != nullptr && !inst->stopped && inst->tsfn != nullptr) bridge_turn_ended(inst);
  return info.Env().Undefined();
}

// flushCopied() -> how many loops answered: see flush_copied (the process's
// 'exit', once a write or datagram was copied to another thread).
Napi::Value FlushCopied(const Napi::CallbackInfo& info) {
  Instance* inst = info.Env().GetInstanceData<Instance>();
  constexpr int kWaitMs = 1000;
  return Napi::Number::New(info.Env(), inst == nullptr ? 0 : flush_copied(inst, kWaitMs));
}

// ioStats(): [writes made on the JS thread, writes handed to a loop in a
// burst, loop waits caught spinning, loop waits slept] (tests, debugging).
Napi::Value IoStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Instance* inst = env.GetInstanceData<Instance>();
  Napi::Array out = Napi::Array::New(env, 4);
  WaitStats waits;
  if (inst != nullptr) {
    for (int i = 0; i < inst->pool.size(); i++) {
      WaitStats w = inst->pool.loop(i).wait_stats();
      waits.spun += w.spun;
      waits.slept += w.slept;
    }
  }
  out.Set(0u, Napi::Number::New(env, inst != nullptr ? static_cast<double>(inst->writes_direct) : 0));
  out.Set(1u, Napi::Number::New(env, inst != nullptr ? static_cast<double>(inst->writes_offloaded) : 0));
  out.Set(2u, Napi::Number::New(env, static_cast<double>(waits.spun)));
  out.Set(3u, Napi::Number::New(env, static_cast<double>(waits.slept)));
  return out;
}

// The native half of the contract with lib/: the record layout, every record
// type, and every errno the core may return, by name. lib/binding.ts reads
// them from here (it repeats no number); test/contract.test.ts checks that
// what lib/ dispatches on is this.
Napi::Object Contract(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  c.Set("recordInts", Napi::Number::New(env, kRecordInts));
  Napi::Object records = Napi::Object::New(env);
  const struct { const char* name; int32_t value; } kinds[] = {
      {"Connect", kEvConnect},     {"Data", kEvData},
      {"Eof", kEvEof},             {"ReadError", kEvReadError},
      {"WriteDone", kEvWriteDone}, {"ShutdownDone", kEvShutdownDone},
      {"Connection", kEvConnection}, {"AcceptError", kEvAcceptError},
      {"Closed", kEvClosed},       {"DataPooled", kRecDataPooled},
      {"PoolAt", kRecPoolAt},
      {"UdpMessage", kEvUdpMessage}, {"UdpRecvError", kEvUdpRecvError},
      {"UdpSendDone", kEvUdpSendDone}, {"UdpMessagePooled", kRecUdpMessagePooled},
  };
  for (const auto& k : kinds) records.Set(k.name, Napi::Number::New(env, k.value));
  c.Set("records", records);
  Napi::Object errors = Napi::Object::New(env);
  for (size_t i = 0; i < kErrTableSize; i++) {
    errors.Set(kErrTable[i].name, Napi::Number::New(env, kErrTable[i].err));
  }
  c.Set("errors", errors);
  // A UDP message's bytes: the fixed part of the sender header (udp.h).
  c.Set("udpHeaderFixed", Napi::Number::New(env, static_cast<double>(kUdpHeaderFixed)));
  c.Set("writeCopied", Napi::Number::New(env, kWriteCopied));
  return c;
}

}  // namespace

Napi::Object ModuleInit(Napi::Env env, Napi::Object exports) {
  exports.Set("contract", Contract(env));
  exports.Set("ioStats", Napi::Function::New(env, IoStats, "ioStats"));
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("setRef", Napi::Function::New(env, SetRef, "setRef"));
  exports.Set("turnEnded", Napi::Function::New(env, TurnEnded, "turnEnded"));
  exports.Set("flushCopied", Napi::Function::New(env, FlushCopied, "flushCopied"));
  exports.Set("isDriven", Napi::Function::New(env, IsDriven, "isDriven"));
  register_handles(env, exports);
  register_udp_handles(env, exports);
  return exports;
}

}  // namespace pn

static Napi::Object InitProtonet(Napi::Env env, Napi::Object exports) {
  return pn::ModuleInit(env, exports);
}

NODE_API_MODULE(protonet, InitProtonet)
