// internal.ts - test-only helpers, reachable as `require('protonet/internal')`
// and deliberately absent from the node:net-compatible main export.
import type { Server } from './server';
import type { Socket } from './socket';
import type { StreamHandle } from './stream_handle';
import { Ev, RECORD_INTS, UDP_HEADER_FIXED, loadNative, native } from './binding';

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
  if (!handle) return -9;
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

/** The record layout and types as lib/binding.ts knows them and as the addon sends them. */
export function contract(): { js: { recordInts: number; records: Record<string, number>; udpHeaderFixed: number };
  native: { recordInts: number; records: Record<string, number>; udpHeaderFixed: number }; } {
  loadNative();
  const records: Record<string, number> = {
    Connect: Ev.Connect, Data: Ev.Data, Eof: Ev.Eof, ReadError: Ev.ReadError, WriteDone: Ev.WriteDone,
    ShutdownDone: Ev.ShutdownDone, Connection: Ev.Connection, AcceptError: Ev.AcceptError, Closed: Ev.Closed,
    DataPooled: Ev.DataPooled, PoolAt: Ev.PoolAt,
    UdpMessage: Ev.UdpMessage, UdpRecvError: Ev.UdpRecvError, UdpSendDone: Ev.UdpSendDone,
    UdpMessagePooled: Ev.UdpMessagePooled,
  };
  const { recordInts, records: nativeRecords, udpHeaderFixed } = native.contract;
  return {
    js: { recordInts: RECORD_INTS, records, udpHeaderFixed: UDP_HEADER_FIXED },
    native: { recordInts, records: nativeRecords, udpHeaderFixed },
  };
}
