// copied_flush.ts - the process's 'exit' waits for copied writes and datagrams.
//
// A stream write or a datagram nobody waits for may be copied and sent by a
// loop on another thread (docs/ARCHITECTURE.md, "Writes off the JS thread"):
// for JS it completed when the call returned, as node:net's try-write and
// node:dgram's try-send had handed it to the kernel at once. Node stops those
// loops (which sends what they hold) before the process ends; Bun and Deno
// may not, so once anything was copied, the process's 'exit' waits for them
// (at most a second per loop).
import { native } from './binding';

let armed = false;

/** Called after each copy; the first arms the 'exit' wait. */
export function flushCopiedAtExit(): void {
  if (armed) return;
  armed = true;
  process.once('exit', () => { native.flushCopied(); });
}
