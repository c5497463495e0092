// debug.ts - NODE_DEBUG output through util.debuglog.
//
// `NODE_DEBUG=net`: the lines node:net prints (prefix "NET <pid>:"), at the
// points where node:net prints them, so a trace of a server on protonet
// reads as one on node:net. `NODE_DEBUG=protonet`: protonet's own internals
// (prefix "PROTONET <pid>:"): the loop mode chosen, the I/O loops started,
// every batch of loop events delivered.
//
// Node reads NODE_DEBUG once at startup, so whether a section is on is fixed
// for the process: it is read here once, and every call site tests the
// boolean first, so with the output off no arguments are built and no
// function is called (`_read` and batch delivery are hot paths).
import { debuglog } from 'node:util';

const netLog = debuglog('net');
const protonetLog = debuglog('protonet');

/** Whether NODE_DEBUG names `net`. */
export const NET_DEBUG: boolean = netLog.enabled;
/** Whether NODE_DEBUG names `protonet`. */
export const PROTONET_DEBUG: boolean = protonetLog.enabled;

/** A node:net debug line (util.format arguments); call only when NET_DEBUG. */
export function debug(...args: unknown[]): void {
  (netLog as (...a: unknown[]) => void)(...args);
}

/** A protonet internals line (util.format arguments); call only when PROTONET_DEBUG. */
export function debugInternals(...args: unknown[]): void {
  (protonetLog as (...a: unknown[]) => void)(...args);
}
