// internal.ts - test-only helpers, reachable as `require('protonet/internal')`
// and deliberately absent from the node:net-compatible main export.
import type { Server } from './server';
import type { Socket } from './socket';
import type { StreamHandle } from './stream_handle';
import { Err, Ev, layout, loadNative, native } from './binding';

export type SockOptName =
  | 'TCP_NODELAY' | 'SO_KEEPALIVE' | 'TCP_KEEPIDLE' | 'TCP_KEEPINTVL' | 'TCP_KEEPCNT'
  | 'SO_REUSEADDR' | 'IPV6_V6ONLY' | 'SO_RCVBUF' | 'SO_SNDBUF' | 'IP_TOS' | 'IPV6_TCLASS';

/**
 * Reads an int socket option of a socket's or server's fd back from the
 * kernel (getsockopt), to check that options really reached it. Returns the
 * value, or a negative errno (-EBADF when there is no open handle).
 */
export function getsockopt(target: Socket | Server, name: SockOptName): number {
  const handle = (target as unknown as { _handle: StreamHandle | null })._handle;
  if (!handle) {
    loadNative();
    return Err.EBADF;
  }
  return handle.getsockopt(name);
}

export interface IoStats {
  /** Writes made on the JS thread (one sendmsg there). */
  writesDirect: number;
  /** Writes of a burst handed whole to a loop (an I/O thread, or the writer). */
  writesOffloaded: number;
  /** I/O-thread waits for readiness that ended while busy polling. */
  waitsSpun: number;
  /** I/O-thread waits that slept in the poller. */
  waitsSlept: number;
}

/** Counters of this environment's engine since it started (all zero before the first socket). */
export function ioStats(): IoStats {
  loadNative();
  const [writesDirect, writesOffloaded, waitsSpun, waitsSlept] = native.ioStats();
  return { writesDirect, writesOffloaded, waitsSpun, waitsSlept };
}

/** The record layout and types lib/ dispatches on, and as the addon sends them. */
type ContractSide = { recordInts: number; records: Record<string, number>; udpHeaderFixed: number; writeCopied: number };
export function contract(): { js: ContractSide; native: ContractSide } {
  loadNative();
  const { recordInts, records, udpHeaderFixed, writeCopied } = native.contract;
  return {
    js: { recordInts: layout.recordInts, records: { ...Ev }, udpHeaderFixed: layout.udpHeaderFixed, writeCopied: layout.writeCopied },
    native: { recordInts, records: { ...records }, udpHeaderFixed, writeCopied },
  };
}

/** The addon's error table: the core's negative errno for each name (what lib/'s `Err` holds). */
export function errorTable(): Record<string, number> {
  loadNative();
  return { ...native.contract.errors };
}
