// binding.ts - loads the addon (prebuilt or locally built) and types it.
//
// Every function returns 0 / a negative errno instead of throwing for system
// errors; handle.ts turns those into Node-shaped errors.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** [type, slot, gen, value] per event; see native/napi/bridge.h. */
export const RECORD_INTS = 4;

export const enum Ev {
  Connect = 1,
  Data = 2,
  Eof = 3,
  ReadError = 4,
  WriteDone = 5,
  ShutdownDone = 6,
  Connection = 7,
  AcceptError = 8,
  Closed = 9,
  /** Records only (never from a loop): a small read sliced from the current pool Buffer (bridge.h). */
  DataPooled = 100,
  /** Records only: the batch's next buffer is the pool the following DataPooled reads are in, from offset `value`. */
  PoolAt = 101,
}

/** `records` is reused by the next call: copy what must outlive this one. */
export type Dispatch = (records: Int32Array, count: number, buffers: Buffer[] | undefined) => void;

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
  /** The record layout and record types as the addon numbers them (checked against Ev by a test). */
  readonly contract: { recordInts: number; records: Record<string, number> };
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
  errname(err: number): string;
  /** net.BoundSocket: a bound, not listening, not connected stream socket; fd or -errno. */
  bind(ip: string, port: number, ipv6Only: boolean, reusePort: boolean): number;
  bindPath(path: string): number;
  /** The name of an fd no loop owns yet (a BoundSocket's). */
  socknameFd(fd: number): [string, number, number] | number;
  /** Connects from a bound fd; the handle owns the fd on success, and it is closed on failure. */
  connectFd(slot: number, gen: number, loop: number, fd: number, ip: string, port: number): number;
  connectPathFd(slot: number, gen: number, loop: number, fd: number, path: string): number;
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
    Object.assign(native, require(path.resolve(override)) as NativeBinding);
    return;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = require('node-gyp-build') as (dir: string) => NativeBinding;
  Object.assign(native, load(packageRoot()));
}
