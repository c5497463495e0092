// binding.ts - loads the addon (prebuilt or locally built) and types it.
//
// Every function returns 0 / a negative errno instead of throwing for system
// errors; stream_handle.ts and errors.ts turn those into Node-shaped errors.
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The record types the addon sends, by name (native/core/loop.h's events plus
 * the bridge's own, native/napi/bridge.h). The numbers come from the addon's
 * `contract` when it loads; lib/ never repeats them.
 */
export interface RecordTypes {
  readonly Connect: number;
  readonly Data: number;
  readonly Eof: number;
  readonly ReadError: number;
  readonly WriteDone: number;
  readonly ShutdownDone: number;
  readonly Connection: number;
  readonly AcceptError: number;
  readonly Closed: number;
  /** A small read sliced from the current pool Buffer. */
  readonly DataPooled: number;
  /** The batch's next buffer is the pool the following DataPooled reads are in, from offset `value`. */
  readonly PoolAt: number;
  /** A UDP datagram: its bytes are a sender header, then the payload (native/core/udp.h). */
  readonly UdpMessage: number;
  /** A UDP receive error (value = -errno, 'recvmsg'); reading goes on. */
  readonly UdpRecvError: number;
  /** One queued datagram sent (value 0) or failed (-errno), in order. */
  readonly UdpSendDone: number;
  /** A UdpMessage copied into the current pool Buffer, as DataPooled. */
  readonly UdpMessagePooled: number;
}

/** A record type (one of RecordTypes' values). */
export type Ev = number;

/** The core's negative errno for each error name it may return (native/core/errors.cc). */
export type ErrTable = Readonly<Record<string, number>>;

/** What the addon exports as `contract`: the one source of the native/JS contract. */
export interface Contract {
  /** Int32s per record: [type, slot, gen, value]. */
  readonly recordInts: number;
  readonly records: RecordTypes;
  readonly errors: ErrTable;
  /** A UdpMessage's bytes: [family 4|6, L, port hi, port lo] (this many), L bytes of address text, payload. */
  readonly udpHeaderFixed: number;
  /** writev()'s answer for a write copied to a loop on another thread: complete for JS, flushed at 'exit'. */
  readonly writeCopied: number;
}

/**
 * The contract as lib/ uses it, filled from the addon by loadNative() before
 * any record can arrive. Each object is filled once and never written again,
 * so reading `Ev.Data` in the dispatch loop costs what a constant does.
 */
export const Ev = {} as RecordTypes;
/** Error numbers by name, as Node compares against its binding's UV_* constants: `err === Err.EBADF`. */
export const Err = {} as ErrTable;
export const layout = { recordInts: 0, udpHeaderFixed: 0, writeCopied: 0 };
const errNames = new Map<number, string>();

/** The core's name for one of its errnos ("UNKNOWN" when it is not in the table). */
export function errName(err: number): string {
  loadNative();
  return errNames.get(err) ?? 'UNKNOWN';
}

/**
 * `records` is reused by the next call: copy what must outlive this one. The
 * batch's Buffers come in record order: the first alone, the rest (if any)
 * in `more`.
 */
export type Dispatch = (records: Int32Array, count: number, first: Buffer | undefined, more: Buffer[] | undefined) => void;

export interface NativeBinding {
  /** Starts this environment's I/O threads; returns how many loops run. */
  /**
   * Starts this environment's I/O loops; returns how many. `hostIsNode`: the
   * event loop is Node's libuv, so PROTONET_IO_THREADS=0 can run the sockets
   * on it (no I/O thread); elsewhere that falls back to one thread.
   */
  init(dispatch: Dispatch, hostIsNode: boolean): number;
  setRef(ref: boolean): void;
  /** Tells the addon the event-loop turn that delivered a batch is over. */
  turnEnded(): void;
  /** Whether the sockets run on this thread's own libuv loop (no turnEnded needed). */
  isDriven(): boolean;
  /** The record layout, record types and error numbers (read by loadNative). */
  readonly contract: Contract;
  /** [writes made on the JS thread, writes handed to a loop in a burst, loop waits spun, slept]. */
  ioStats(): [number, number, number, number];
  connect(slot: number, gen: number, loop: number, ip: string, port: number,
    localIp?: string | null, localPort?: number): number;
  listen(slot: number, gen: number, loop: number, ip: string, port: number, backlog: number,
    ipv6Only: boolean, reusePort: boolean): number;
  connectPath(slot: number, gen: number, loop: number, path: string, truncate: boolean): number;
  listenPath(slot: number, gen: number, loop: number, path: string, backlog: number, truncate: boolean): number;
  adopt(slot: number, gen: number, loop: number, fd: number, startReading: boolean): void;
  closeFd(fd: number): void;
  readStart(slot: number, gen: number): void;
  readStop(slot: number, gen: number): void;
  /** 0: written now; 1: queued (an Ev.WriteDone follows); < 0: errno. */
  writev(slot: number, gen: number, chunks: Uint8Array[]): number;
  /** 1: FIN sent now, 0: queued behind writes (an Ev.ShutdownDone follows either way); < 0: errno. */
  shutdown(slot: number, gen: number): number;
  close(slot: number, gen: number): number;
  /** Close with RST (SO_LINGER 0); an Ev.Closed follows. */
  reset(slot: number, gen: number): number;
  /** Adopts a caller's connected stream socket fd. */
  open(slot: number, gen: number, loop: number, fd: number): number;
  guessHandleType(fd: number): string;
  /** The host Node's guessHandleType(fd) (on Windows: node.exe's C runtime descriptors). */
  hostFdType(fd: number): string;
  /** The handle's descriptor, -1 once closed (Node's handle.fd). */
  fd(slot: number, gen: number): number;
  /** A socket fd with no peer yet (new Socket({ fd }) before connect()). */
  fdUnconnected(fd: number): boolean;
  sockname(slot: number, gen: number): [string, number, number] | number;
  peername(slot: number, gen: number): [string, number, number] | number;
  setNoDelay(slot: number, gen: number, enable: boolean): number;
  setKeepAlive(slot: number, gen: number, enable: boolean, delaySecs: number): number;
  /** IP_TOS (IPv4) or IPV6_TCLASS (IPv6) by the socket's family; 0 or -errno. */
  setTypeOfService(slot: number, gen: number, tos: number): number;
  /** The TOS / traffic class byte, or -errno. */
  getTypeOfService(slot: number, gen: number): number;
  /** net.BoundSocket: a bound, not listening, not connected stream socket; fd or -errno. */
  bind(ip: string, port: number, ipv6Only: boolean, reusePort: boolean): number;
  bindPath(path: string): number;
  /** The name of an fd no loop owns yet (a BoundSocket's). */
  socknameFd(fd: number): [string, number, number] | number;
  /** Connects from a bound fd; the handle owns the fd on success, and it is closed on failure. */
  connectFd(slot: number, gen: number, loop: number, fd: number, ip: string, port: number): number;
  connectPathFd(slot: number, gen: number, loop: number, fd: number, path: string): number;

  // ---- UDP (native/napi/udp_handles.cc); readStart/readStop/close/sockname/
  // peername/fd above serve UDP handles too. All return 0 / a value or -errno.
  /** Binds the handle's socket, or makes one for the address's family and binds it. */
  udpBind(slot: number, gen: number, loop: number, ip: string, port: number, flags: number): number;
  /** Adopts a caller's UDP socket fd. */
  udpOpen(slot: number, gen: number, loop: number, fd: number): number;
  /** Connects (binding to the any address first when unbound, as libuv). */
  udpConnect(slot: number, gen: number, loop: number, ip: string, port: number): number;
  udpDisconnect(slot: number, gen: number): number;
  /** bytes + 1: sent now; 0: queued (an Ev.UdpSendDone follows); < 0: errno. `ip` null: the connected peer. */
  /** quiet: nobody waits for the completion (no callback): the addon may copy the datagram and send it from another thread. */
  udpSend(slot: number, gen: number, chunks: Uint8Array | Uint8Array[], port: number, ip: string | null, quiet: boolean): number;
  /** At the process's 'exit': waits (bounded) until the loops on other threads sent what was copied to them. */
  flushCopied(): number;
  udpSetBroadcast(slot: number, gen: number, on: boolean): number;
  udpSetTTL(slot: number, gen: number, ttl: number): number;
  udpSetMulticastTTL(slot: number, gen: number, ttl: number): number;
  udpSetMulticastLoopback(slot: number, gen: number, on: boolean): number;
  udpSetMulticastInterface(slot: number, gen: number, iface: string | null): number;
  /** Binds an unbound handle first (to the group's family), as libuv. */
  udpSetMembership(slot: number, gen: number, loop: number, group: string, iface: string | null, join: boolean): number;
  udpSetSourceMembership(slot: number, gen: number, loop: number, source: string, group: string,
    iface: string | null, join: boolean): number;
  /** size 0: reads SO_RCVBUF (recv) / SO_SNDBUF; else sets it. The size, or -errno. */
  udpBufferSize(slot: number, gen: number, size: number, recv: boolean): number;
  /** Receive system calls made so far by every loop (tests: recvmmsg batching). */
  udpRecvSyscalls(): number;
}

// dist/ and build/ts/lib/ both sit two or three levels below the package root;
// find the directory holding binding.gyp.
function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    if (fs.existsSync(path.join(dir, 'binding.gyp'))) return dir;
    dir = path.dirname(dir);
  }
  return path.join(__dirname, '..');
}

/**
 * The addon's functions. Filled on first use (loadNative), so that importing
 * protonet costs nothing until a socket or server is made.
 */
export const native = {} as NativeBinding;

export function loadNative(): void {
  if (native.init !== undefined) return;
  // PROTONET_ADDON names another build of the addon to load (the sanitizer
  // runs use it: npm run test:asan).
  const override = process.env.PROTONET_ADDON;
  if (override) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    adopt(require(path.resolve(override)) as NativeBinding);
    return;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = require('node-gyp-build') as (dir: string) => NativeBinding;
  adopt(load(packageRoot()));
}

function adopt(addon: NativeBinding): void {
  const { recordInts, records, errors, udpHeaderFixed, writeCopied } = addon.contract;
  layout.recordInts = recordInts;
  layout.udpHeaderFixed = udpHeaderFixed;
  layout.writeCopied = writeCopied;
  Object.assign(Ev, records);
  Object.assign(Err, errors);
  for (const name of Object.keys(errors)) errNames.set(errors[name], name);
  Object.assign(native, addon);
}
