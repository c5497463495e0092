// udp_handle.ts - a native UDP handle as lib/dgram.ts sees it.
//
// Plays the part of Node's udp_wrap for dgram: bind/open/connect make the
// socket (on the JS thread, as libuv does: none of them blocks), send tries
// the kernel at once and queues only what it could not take, receiving and
// queued sends run on the handle's loop, and their events come back through
// the registry's one dispatch. Every method returns 0 / a value or a negative
// errno (the running Node's number, as StreamHandle's), never throws for a
// system error. The contract is written in full for the dgram side to rely
// on; docs/ARCHITECTURE.md says how the native half works.
//
// Liveness as libuv's: a ref'd handle that receives (or is closing) keeps
// the process alive; a queued send does too, ref'd or not (libuv counts it
// as an active request).
import { AsyncResource } from 'node:async_hooks';
import { isIPv4, isIPv6 } from 'node:net';
import { Ev, errName, layout, loadNative, native } from './binding';
import { flushCopiedAtExit } from './copied_flush';
import { nodeErrno, systemErrorInfo } from './errors';
import { Fifo } from './fifo';
import { addActiveRef, register, unregister, type Registered } from './registry';
import type { NameInfo } from './stream_handle';
import {
  BIND_WHEN_BOUND_SUCCEEDS, MULTICAST_TTL_MIN, RECV_ERROR_STOPS_RECEIVING, UNBOUND_BUFFER_SIZE_ERROR,
} from './udp_platform';

export interface RemoteInfo { address: string; family: 'IPv4' | 'IPv6'; port: number; size: number }

/** Bind flags: libuv's numbers (uv_udp_flags), as Node passes them. */
export const UDP_IPV6ONLY = 1;
export const UDP_REUSEADDR = 4;
export const UDP_REUSEPORT = 8;

// The core's negative errno (its C library's number) as the running Node
// numbers the same name (libuv's number: what util.getSystemErrorName reads).
const mapped = new Map<number, number>();
function uvErr(err: number): number {
  if (err >= 0) return err;
  let m = mapped.get(err);
  if (m === undefined) {
    m = systemErrorInfo(errName(err), err)[1];
    mapped.set(err, m);
  }
  return m;
}
// Sender addresses, as text, by their bytes: a server hears the same few
// peers over and over, and a string made once per peer instead of once per
// datagram saves most of what building rinfo costs (measured ~250 ns of
// ~300 per datagram on this machine). Direct-mapped on a hash of the text;
// a miss makes the string and takes the entry.
const ADDR_ENTRIES = 64;
const ADDR_MAX = 64; // native kMaxIpLen: the longest text, zone included
const addrText: string[] = new Array<string>(ADDR_ENTRIES).fill('');
const addrLen = new Int16Array(ADDR_ENTRIES).fill(-1);
const addrBytes = new Uint8Array(ADDR_ENTRIES * ADDR_MAX);

function addressText(b: Buffer, start: number, len: number): string {
  let h = len;
  for (let i = 0; i < len; i++) h = (h * 31 + b[start + i]) | 0;
  const entry = h & (ADDR_ENTRIES - 1);
  const base = entry * ADDR_MAX;
  if (addrLen[entry] === len) {
    let i = 0;
    while (i < len && b[start + i] === addrBytes[base + i]) i++;
    if (i === len) return addrText[entry];
  }
  const text = b.toString('latin1', start, start + len);
  if (len <= ADDR_MAX) {
    for (let i = 0; i < len; i++) addrBytes[base + i] = b[start + i];
    addrLen[entry] = len;
    addrText[entry] = text;
  }
  return text;
}

// What libuv answers for a call on a handle with no socket.
const UV_EBADF = nodeErrno('EBADF');
const UV_EINVAL = nodeErrno('EINVAL');
const UV_NO_SOCKET_BUFFER_SIZE = nodeErrno(UNBOUND_BUFFER_SIZE_ERROR);
// libuv's checks before a send (uv__udp_check_before_send), on every platform.
const UV_EDESTADDRREQ = nodeErrno('EDESTADDRREQ');
const UV_EISCONN = nodeErrno('EISCONN');

/**
 * What Node's guessHandleType says of `fd` (node:dgram's bind({ fd }) opens
 * it only when 'UDP'): asked of the host, whose descriptors they are.
 */
export function udpFdType(fd: number): string {
  loadNative();
  return native.hostFdType(fd);
}

interface SendReq {
  bytes: number;
  chunks: Uint8Array[] | null; // kept alive until the loop sent them
  oncomplete: ((status: number, bytes: number) => void) | null;
  scope: AsyncResource | null;
}

// State bits.
const F_OPEN = 1 << 0; // the native side holds an fd for this handle (until Ev.Closed)
const F_CLOSING = 1 << 1;
const F_REFED = 1 << 2;
const F_COUNTED = 1 << 3; // counted in the registry's active-ref total
const F_READING = 1 << 4;
const F_CONNECTED = 1 << 5; // connect() succeeded, disconnect() not since (libuv's UV_HANDLE_UDP_CONNECTED)

export class UdpHandle implements Registered {
  slot = -1;
  gen = 0;
  loop = 0;

  /** What Node keeps as handle[owner_symbol]: the dgram.Socket. */
  owner: unknown = null;
  /** A datagram (status >= 0: its length) or a receive error (status < 0, 'recvmsg'). */
  onmessage: ((status: number, data: Buffer | null, rinfo: RemoteInfo | null) => void) | null = null;

  readonly family: 4 | 6;
  #flags = F_REFED;
  #sends = new Fifo<SendReq>();
  #sendBytes = 0;
  #closeCbs: (() => void)[] | null = null;
  // The async context the handle was made in, as Node's UDPWrap: its
  // messages run inside it.
  readonly #scope = new AsyncResource('UDPWRAP', { requireManualDestroy: true });

  constructor(family: 4 | 6) {
    this.family = family;
  }

  #has(bit: number): boolean { return (this.#flags & bit) !== 0; }
  #set(bit: number, on: boolean): void { this.#flags = on ? this.#flags | bit : this.#flags & ~bit; }
  get #usable(): boolean { return (this.#flags & (F_OPEN | F_CLOSING)) === F_OPEN; }

  getAsyncId(): number { return this.#scope.asyncId(); }

  // ---- opening ----

  // Runs a native call that may make the socket: registers first if needed,
  // and afterwards keeps the slot only if the native side now holds an fd
  // (a failed bind leaves none; a deferred bind that worked before a failed
  // connect does).
  #opening(call: () => number): number {
    if (this.#has(F_CLOSING)) return UV_EBADF;
    if (this.slot < 0) register(this);
    const err = uvErr(call());
    if (!this.#has(F_OPEN)) {
      if (native.fd(this.slot, this.gen) >= 0) {
        this.#set(F_OPEN, true);
        this.#sync();
      } else {
        unregister(this);
      }
    }
    return err;
  }

  // udp_wrap parses an address with the handle's own family (uv_ip4_addr
  // for udp4, uv_ip6_addr for udp6: IPv4-mapped IPv6 is IPv6), so the other
  // family's literal is EINVAL before any system call. The last address
  // that fit is remembered: a sender repeats the same few.
  #lastFit: string | null = null;
  #fits(ip: string): boolean {
    if (ip === this.#lastFit) return true;
    if (!(this.family === 4 ? isIPv4(ip) : isIPv6(ip))) return false;
    this.#lastFit = ip;
    return true;
  }

  bind(ip: string, port: number, flags: number): number {
    if (!this.#fits(ip)) return UV_EINVAL;
    if (BIND_WHEN_BOUND_SUCCEEDS && this.#usable) return 0;
    return this.#opening(() => native.udpBind(this.slot, this.gen, this.loop, ip, port, flags));
  }

  open(fd: number): number {
    const err = this.#opening(() => native.udpOpen(this.slot, this.gen, this.loop, fd));
    // libuv marks an adopted socket that has a peer connected, as connect() does.
    if (err === 0 && typeof native.peername(this.slot, this.gen) !== 'number') this.#set(F_CONNECTED, true);
    return err;
  }

  connect(ip: string, port: number): number {
    if (!this.#fits(ip)) return UV_EINVAL;
    const err = this.#opening(() => native.udpConnect(this.slot, this.gen, this.loop, ip, port));
    if (err === 0) this.#set(F_CONNECTED, true);
    return err;
  }

  disconnect(): number {
    if (!this.#usable) return UV_EBADF;
    const err = uvErr(native.udpDisconnect(this.slot, this.gen));
    if (err === 0) this.#set(F_CONNECTED, false);
    return err;
  }

  // ---- sending ----

  send(chunks: Uint8Array[], port: number, ip: string | null,
    oncomplete: ((status: number, bytes: number) => void) | null): number {
    if (!this.#usable) return UV_EBADF;
    // As libuv, whatever the kernel would do: a destination on a connected
    // socket is EISCONN, none on an unconnected one EDESTADDRREQ (Winsock
    // would say EINVAL and Linux would send to the one given).
    if (ip === null ? !this.#has(F_CONNECTED) : this.#has(F_CONNECTED)) {
      return ip === null ? UV_EDESTADDRREQ : UV_EISCONN;
    }
    if (ip !== null && !this.#fits(ip)) return UV_EINVAL;
    if (oncomplete === null) flushCopiedAtExit();
    // One chunk goes as itself: no array for the addon to walk.
    const r = native.udpSend(this.slot, this.gen, chunks.length === 1 ? chunks[0] : chunks, port, ip, oncomplete === null);
    if (r !== 0) return uvErr(r);
    let bytes = 0;
    for (const c of chunks) bytes += c.byteLength;
    // The completion runs in the send() call's context, as Node's SendWrap.
    const scope = oncomplete ? new AsyncResource('UDPSENDWRAP', { requireManualDestroy: true }) : null;
    this.#sends.push({ bytes, chunks, oncomplete, scope });
    this.#sendBytes += bytes;
    this.#sync();
    return 0;
  }

  get sendQueueSize(): number { return this.#sendBytes; }
  get sendQueueCount(): number { return this.#sends.length; }

  // ---- receiving ----

  recvStart(): number {
    if (this.#has(F_CLOSING)) return UV_EBADF;
    // libuv's uv_udp_recv_start binds an unbound handle (IPv4 any address).
    if (!this.#has(F_OPEN)) {
      const err = this.bind('0.0.0.0', 0, 0);
      if (err !== 0) return err;
    }
    if (!this.#has(F_READING)) {
      this.#set(F_READING, true);
      native.readStart(this.slot, this.gen);
      this.#sync();
    }
    return 0;
  }

  recvStop(): number {
    if (!this.#usable) return 0;
    if (this.#has(F_READING)) {
      this.#set(F_READING, false);
      native.readStop(this.slot, this.gen);
      this.#sync();
    }
    return 0;
  }

  // ---- names and options (one-shot calls on the JS thread) ----

  sockname(): NameInfo | number { return this.#name(false); }
  peername(): NameInfo | number { return this.#name(true); }

  #name(peer: boolean): NameInfo | number {
    if (!this.#usable) return UV_EBADF;
    const r = peer ? native.peername(this.slot, this.gen) : native.sockname(this.slot, this.gen);
    if (typeof r === 'number') return uvErr(r);
    return { address: r[0], family: r[2] === 6 ? 'IPv6' : 'IPv4', port: r[1] };
  }

  setBroadcast(on: boolean): number {
    return this.#usable ? uvErr(native.udpSetBroadcast(this.slot, this.gen, on)) : UV_EBADF;
  }
  // libuv checks a value's range (as the Int32 udp_wrap reads) and parses
  // an interface address before it looks at the socket: EINVAL comes first.
  setTTL(ttl: number): number {
    const v = ttl | 0;
    if (v < 1 || v > 255) return UV_EINVAL;
    return this.#usable ? uvErr(native.udpSetTTL(this.slot, this.gen, ttl)) : UV_EBADF;
  }
  setMulticastTTL(ttl: number): number {
    const v = ttl | 0;
    if (v < MULTICAST_TTL_MIN || v > 255) return UV_EINVAL;
    return this.#usable ? uvErr(native.udpSetMulticastTTL(this.slot, this.gen, ttl)) : UV_EBADF;
  }
  setMulticastLoopback(on: boolean): number {
    return this.#usable ? uvErr(native.udpSetMulticastLoopback(this.slot, this.gen, on)) : UV_EBADF;
  }
  setMulticastInterface(iface: string): number {
    if (!isIPv4(iface) && !isIPv6(iface)) return UV_EINVAL;
    return this.#usable ? uvErr(native.udpSetMulticastInterface(this.slot, this.gen, iface)) : UV_EBADF;
  }
  setMembership(group: string, iface: string | null, join: boolean): number {
    return this.#opening(() => native.udpSetMembership(this.slot, this.gen, this.loop, group, iface, join));
  }
  setSourceMembership(source: string, group: string, iface: string | null, join: boolean): number {
    return this.#opening(() =>
      native.udpSetSourceMembership(this.slot, this.gen, this.loop, source, group, iface, join));
  }
  /** size 0 reads SO_RCVBUF (recv) / SO_SNDBUF; returns the size or -errno. */
  bufferSize(size: number, recv: boolean): number {
    return this.#usable ? uvErr(native.udpBufferSize(this.slot, this.gen, size, recv)) : UV_NO_SOCKET_BUFFER_SIZE;
  }

  get fd(): number { return this.#usable ? native.fd(this.slot, this.gen) : -1; }

  // ---- liveness ----

  ref(): void { this.#set(F_REFED, true); this.#sync(); }
  unref(): void { this.#set(F_REFED, false); this.#sync(); }
  hasRef(): boolean { return this.#has(F_REFED); }

  #sync(): void {
    const counted = this.#has(F_OPEN) &&
      ((this.#has(F_REFED) && this.#has(F_READING | F_CLOSING)) || this.#sends.length > 0);
    if (counted !== this.#has(F_COUNTED)) {
      this.#set(F_COUNTED, counted);
      addActiveRef(counted ? 1 : -1);
    }
  }

  // ---- closing ----

  /** cb runs once the native side closed the fd; queued sends complete with ECANCELED first. */
  close(cb?: () => void): void {
    if (cb) (this.#closeCbs ??= []).push(cb);
    if (this.#has(F_CLOSING)) return;
    this.#set(F_CLOSING, true);
    this.#set(F_READING, false);
    if (this.#has(F_OPEN)) {
      native.close(this.slot, this.gen);
      this.#sync();
      return;
    }
    // Never had a socket: nothing for the native side to release.
    setImmediate(() => this.#runCloseCbs());
  }

  #runCloseCbs(): void {
    this.#scope.emitDestroy();
    const cbs = this.#closeCbs;
    this.#closeCbs = null;
    if (cbs !== null) for (const fn of cbs) fn();
  }

  // ---- events from the loop ----

  /** The registry's entry point: one loop event, in this handle's async context. */
  deliver(type: Ev, value: number, buf: Buffer | undefined, off: number): void {
    this.#scope.runInAsyncScope(this.onEvent, this, type, value, buf, off);
  }

  onEvent(type: Ev, value: number, buf: Buffer | undefined, off: number): void {
    switch (type) {
      case Ev.UdpMessage: {
        if (this.#has(F_CLOSING) || !this.#has(F_READING)) return;
        // The record is b[off, off + value): family, address length, port,
        // the address's text, then the payload.
        const b = buf!;
        const textLen = b[off + 1];
        const data = b.subarray(off + layout.udpHeaderFixed + textLen, off + value);
        const rinfo: RemoteInfo = {
          address: addressText(b, off + layout.udpHeaderFixed, textLen),
          family: b[off] === 6 ? 'IPv6' : 'IPv4',
          port: (b[off + 2] << 8) | b[off + 3],
          size: data.length,
        };
        this.onmessage?.(data.length, data, rinfo);
        return;
      }
      case Ev.UdpRecvError:
        if (this.#has(F_CLOSING)) return;
        if (RECV_ERROR_STOPS_RECEIVING && this.#has(F_READING)) {
          this.#set(F_READING, false); // the loop stopped too
          this.#sync();
        }
        this.onmessage?.(uvErr(value), null, null);
        return;
      case Ev.UdpSendDone: {
        const req = this.#sends.shift();
        if (req === undefined) return;
        this.#sendBytes -= req.bytes;
        req.chunks = null; // the loop is done with this memory
        this.#sync();
        if (req.oncomplete !== null) {
          if (req.scope !== null) {
            req.scope.runInAsyncScope(req.oncomplete, req, uvErr(value), req.bytes);
            req.scope.emitDestroy();
          } else {
            req.oncomplete(uvErr(value), req.bytes);
          }
        }
        return;
      }
      case Ev.Closed:
        // Every earlier event of this handle (the cancelled sends) came first.
        unregister(this);
        this.#set(F_OPEN, false);
        this.#sync();
        this.#runCloseCbs();
        return;
    }
  }
}

