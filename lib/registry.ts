// registry.ts - the JS side of the thread boundary.
//
// Owns the slot table (slot -> handle, with a generation per slot), starts
// the addon's I/O threads on first use, receives every batch of loop events
// through ONE dispatch call per doorbell, and keeps the process alive exactly
// while a ref'd handle is active (our own count: Node-API's ref/unref of the
// threadsafe function is a flag, not a counter).
import { Ev, layout, loadNative, native } from './binding';
import { PROTONET_DEBUG, debugInternals } from './debug';
import { RUNTIME } from './runtime';

/** What the registry needs from a handle: its identity and an event sink. */
export interface Registered {
  slot: number;
  gen: number;
  loop: number;
  /**
   * One loop event (in the handle's own async context). A datagram's record
   * (header, then payload) is bytes off..off + value of `buf`, which may be a
   * pool shared with other events: the handle makes the one view it keeps.
   */
  deliver(type: Ev, value: number, buf: Buffer | undefined, off: number): void;
}

const handles: (Registered | undefined)[] = [];
const gens: number[] = [];
const freeSlots: number[] = [];
let loopCount = 0;
let nextLoop = 0;
let activeRefs = 0;

interface Batch {
  records: Int32Array;
  count: number;
  // The Buffers the records refer to, in order: the first on its own, the
  // rest (rarely any) in an array (bridge.cc).
  first: Buffer | undefined;
  more: Buffer[] | undefined;
  next: number;
  nextBuffer: number;
  // Small reads come packed in pool Buffers, in order (bridge.cc): the pool
  // being sliced and the offset of its next read.
  pool: Buffer | undefined;
  poolOff: number;
}
const queue: Batch[] = [];
let drainScheduled = false;
// Int32s per record, the addon's (read once it is loaded).
let recordInts = 0;

// Node delivers each read in a callback of its own and runs the nextTick
// queue and the microtasks before the next, so what a 'data' listener queues
// runs before that socket's next 'data'. A batch is one call into JS; when it
// holds several events of one socket in a row (a bulk read in 64 KiB
// chunks, data then end), the dispatcher runs them between those events
// itself, as Node's timers do between timer callbacks. Between different
// sockets it does not (measured: +6% server CPU per message in fan-in on
// Node's loop, +27% on an I/O thread); PROTONET_EXACT_ORDER=1 gives that
// too (bridge.cc). Deno has no such hook.
const runTicks = (process as unknown as { _tickCallback?: () => void })._tickCallback;

/** Whether the record after `next` (skipping a pool announcement) is for `slot`. */
function nextIsFor(b: Batch, slot: number): boolean {
  let o = b.next * recordInts;
  if (b.next < b.count && b.records[o] === Ev.PoolAt) o += recordInts;
  return o < b.count * recordInts && b.records[o + 1] === slot;
}

// Only Node runs libuv.
function hostIsNode(): boolean {
  return RUNTIME === 'node';
}

function ensureStarted(): void {
  if (loopCount === 0) {
    loadNative();
    recordInts = layout.recordInts;
    loopCount = native.init(dispatch, hostIsNode());
    turnHookNeeded = !native.isDriven();
    if (PROTONET_DEBUG) {
      const forced = process.env.PROTONET_IO_THREADS;
      if (native.isDriven()) {
        debugInternals("loop mode: on this thread's libuv loop (PROTONET_IO_THREADS=%s)", forced ?? '');
      } else {
        debugInternals('loop mode: I/O threads (PROTONET_IO_THREADS=%s, host is %s)', forced ?? '', hostIsNode() ? 'Node' : 'not Node');
        debugInternals('I/O threads started: %d', loopCount);
      }
    }
  }
}

/** Gives `h` a fresh (slot, gen) and an I/O loop (round robin). */
export function register(h: Registered): void {
  ensureStarted();
  const slot = freeSlots.length > 0 ? freeSlots.pop()! : handles.length;
  // Generations stay within int32 because they travel in an Int32Array.
  const gen = ((gens[slot] ?? 0) % 0x7fffffff) + 1;
  gens[slot] = gen;
  handles[slot] = h;
  h.slot = slot;
  h.gen = gen;
  h.loop = nextLoop;
  nextLoop = (nextLoop + 1) % loopCount;
}

/** Forgets `h` once the loop reported it closed; its slot may be reused. */
export function unregister(h: Registered): void {
  if (h.slot >= 0 && handles[h.slot] === h) {
    handles[h.slot] = undefined;
    freeSlots.push(h.slot);
  }
  h.slot = -1;
}

/** Counts a ref'd, active handle in or out; flips the doorbell's ref on 0 <-> 1. */
export function addActiveRef(delta: 1 | -1): void {
  const before = activeRefs;
  activeRefs += delta;
  if (before === 0 && activeRefs > 0) native.setRef(true);
  else if (before > 0 && activeRefs === 0) native.setRef(false);
}

// Called by the addon once per doorbell with every event every loop had.
function dispatch(records: Int32Array, count: number, first: Buffer | undefined, more: Buffer[] | undefined): void {
  if (PROTONET_DEBUG) {
    debugInternals('batch delivered: %d events, %d buffers', count, first === undefined ? 0 : 1 + (more?.length ?? 0));
  }
  // The addon takes one fresh batch per event-loop turn (bridge.cc); this
  // tells it when the turn is over, after this turn's I/O callbacks.
  if (turnHookNeeded && !turnHookArmed) {
    turnHookArmed = true;
    setImmediate(endTurn);
  }
  queue.push({ records, count, first, more, next: 0, nextBuffer: 0, pool: undefined, poolOff: 0 });
  drain();
}

let turnHookArmed = false;
// Only I/O threads need it: a loop on this thread's own libuv loop delivers
// from its libuv callbacks, at most once per phase (native isDriven()).
let turnHookNeeded = true;
function endTurn(): void {
  turnHookArmed = false;
  native.turnEnded();
}

function takeBuffer(b: Batch): Buffer {
  const i = b.nextBuffer++;
  return i === 0 ? b.first! : b.more![i - 1];
}

// Events of one socket are delivered in the order the loop produced them.
// If a listener throws, the rest of the batch is kept and delivered on the
// next turn, and the exception reaches 'uncaughtException' as any exception
// from an I/O callback does in Node.
function drain(): void {
  drainScheduled = false;
  while (queue.length > 0) {
    const b = queue[0];
    while (b.next < b.count) {
      const o = b.next * recordInts;
      b.next++;
      let type: Ev = b.records[o];
      const slot = b.records[o + 1];
      const gen = b.records[o + 2];
      const value = b.records[o + 3];
      let buf: Buffer | undefined;
      let off = 0;
      if (type === Ev.Data) {
        buf = takeBuffer(b);
        // A whole read into a JS-allocated buffer comes as that buffer (bridge.cc).
        if (buf.length !== value) buf = buf.subarray(0, value);
      } else if (type === Ev.UdpMessage) {
        buf = takeBuffer(b);
      } else if (type === Ev.PoolAt) {
        // Small reads follow in a pool Buffer the addon keeps across batches.
        b.pool = takeBuffer(b);
        b.poolOff = value;
        continue;
      } else if (type === Ev.DataPooled) {
        buf = b.pool!.subarray(b.poolOff, b.poolOff + value);
        b.poolOff += value;
        type = Ev.Data;
      } else if (type === Ev.UdpMessagePooled) {
        // No view of the whole record: the handle cuts the payload's itself.
        buf = b.pool;
        off = b.poolOff;
        b.poolOff += value;
        type = Ev.UdpMessage;
      }
      const h = handles[slot];
      if (h === undefined || h.gen !== gen) {
        // A late event for a forgotten handle: nothing may leak from it.
        if (type === Ev.Connection) native.closeFd(value);
        continue;
      }
      try {
        h.deliver(type, value, buf, off);
        if (runTicks !== undefined && nextIsFor(b, slot)) runTicks();
      } catch (err) {
        if (b.next >= b.count) {
          queue.shift();
        } else {
          // The addon reuses its records array: keep our own copy of the rest.
          const all = b.first === undefined ? [] : [b.first, ...(b.more ?? [])];
          const rest = all.slice(b.nextBuffer);
          queue[0] = {
            records: b.records.slice(b.next * recordInts, b.count * recordInts),
            count: b.count - b.next,
            first: rest[0],
            more: rest.slice(1),
            next: 0,
            nextBuffer: 0,
            pool: b.pool,
            poolOff: b.poolOff,
          };
        }
        if (queue.length > 0 && !drainScheduled) {
          drainScheduled = true;
          setImmediate(drain);
        }
        throw err;
      }
    }
    queue.shift();
  }
}
