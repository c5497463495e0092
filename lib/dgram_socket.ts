// dgram_socket.ts - node:dgram's Socket on protonet's engine.
//
// The behaviour is node:dgram's (lib/dgram.js) over a UdpHandle in the part
// udp_wrap plays there: the same states (unbound -> binding -> bound;
// disconnected -> connecting -> connected), the same argument checks in the
// same order, the same events on the same ticks, the same errors. Where the
// running Node's dgram grew a feature (reusePort, block lists, bindSync), this
// follows it (node_version.ts).
import EventEmitter from 'node:events';
import * as dns from 'node:dns';
import type { BlockList } from 'node:net';
import { deprecate, getSystemErrorName, promisify } from 'node:util';

import { adoptableBase } from './callable';
import { bindPortNumber, sliceBuffer, toChunkList } from './dgram_args';
import { SendQueue } from './dgram_queue';
import { udpSocketChannel } from './diagnostics';
import {
  contextSystemError, dgramErrors, errnoException, exceptionWithHostPort, invalidArgValue, simple,
  nodeErrno, socketBadPort, systemErrorInfo, type SystemError,
} from './errors';
import {
  DGRAM_BIND_ERROR_MONITOR, DGRAM_BLOCK_LISTS, DGRAM_REUSE_PORT, DGRAM_SYNC_METHODS, dgramMembershipSwallowsGroupError,
  dgramRefusesZeroStringPort,
} from './node_version';
import { UDP_IPV6ONLY, UDP_REUSEADDR, UDP_REUSEPORT, UdpHandle, udpFdType, type RemoteInfo } from './udp_handle';
import {
  isIP, validateAbortSignal, validateBlockList, validateFunction, validateNumber, validateObject, validatePort,
  validateString, validateUint32,
} from './validate';

export type SocketType = 'udp4' | 'udp6';
type LookupFn = (hostname: string, family: number, cb: (err: Error | null, address: string, family?: number) => void) => void;
type SendCallback = (error: Error | null, bytes?: number) => void;

export interface SocketOptions {
  type: SocketType;
  reuseAddr?: boolean;
  reusePort?: boolean;
  ipv6Only?: boolean;
  recvBufferSize?: number;
  sendBufferSize?: number;
  lookup?: LookupFn;
  signal?: AbortSignal;
  receiveBlockList?: BlockList;
  sendBlockList?: BlockList;
}

export interface BindOptions { port?: number; address?: string; exclusive?: boolean; fd?: number }

// libuv's (negative) EINVAL on this platform.
const UV_EINVAL = nodeErrno('EINVAL');

const enum Bind { Unbound = 0, Binding = 1, Bound = 2 }
const enum Conn { Disconnected = 0, Connecting = 1, Connected = 2 }

/** A peer's port (zero refused), as the running Node's validatePort reads it. */
function validatePeerPort(port: unknown): number {
  const p = validatePort(port, 'Port', false);
  if (p === 0 && dgramRefusesZeroStringPort()) throw socketBadPort('Port', port, false);
  return p;
}

/** A system error from a handle's negative errno, as Node's ErrnoException. */
function errnoError(err: number, syscall: string): SystemError {
  const [code, errno] = systemErrorInfo(getSystemErrorName(err), err);
  return errnoException(code, errno, syscall);
}

/** As Node's ExceptionWithHostPort: "send EMSGSIZE 127.0.0.1:41234". */
function hostPortError(err: number, syscall: string, address: string | undefined, port: unknown): SystemError {
  const [code, errno] = systemErrorInfo(getSystemErrorName(err), err);
  return exceptionWithHostPort(code, errno, syscall, address, port as number);
}

// A resolver bound to the socket's family: node:dgram asks dns.lookup (the
// one the module had when the socket was made) or options.lookup, with the
// loopback address for an empty one.
function familyLookup(type: SocketType, lookup: LookupFn): (address: string, cb: Parameters<LookupFn>[2]) => void {
  const family = type === 'udp4' ? 4 : 6;
  const fallback = family === 4 ? '127.0.0.1' : '::1';
  return (address, cb) => lookup(address || fallback, family, cb);
}

const EmitterBase = adoptableBase(EventEmitter);

interface DeprecatedState {
  get(s: Socket, key: string): unknown;
  set(s: Socket, key: string, v: unknown): void;
  healthCheck(s: Socket): void;
  stopReceiving(s: Socket): void;
}
let deprecatedState: DeprecatedState;

export class Socket extends EmitterBase {
  type!: SocketType;
  #handle: UdpHandle | null = null;
  #lookup!: (address: string, cb: Parameters<LookupFn>[2]) => void;
  #receiving = false;
  #bindState = Bind.Unbound;
  #connectState = Conn.Disconnected;
  readonly #queue = new SendQueue(this);
  #reuseAddr: unknown;
  #reusePort: unknown;
  #ipv6Only: unknown;
  #recvBufferSize: number | undefined;
  #sendBufferSize: number | undefined;
  #receiveBlockList: BlockList | undefined;
  #sendBlockList: BlockList | undefined;

  constructor(type: SocketType | SocketOptions, listener?: (msg: Buffer, rinfo: RemoteInfo) => void) {
    super();
    let options: SocketOptions | undefined;
    let lookup: unknown;
    if (type !== null && typeof type === 'object') {
      options = type;
      type = options.type;
      lookup = options.lookup;
      if (options.recvBufferSize) validateUint32(options.recvBufferSize, 'options.recvBufferSize');
      if (options.sendBufferSize) validateUint32(options.sendBufferSize, 'options.sendBufferSize');
      this.#recvBufferSize = options.recvBufferSize;
      this.#sendBufferSize = options.sendBufferSize;
      if (DGRAM_BLOCK_LISTS) {
        if (options.receiveBlockList) this.#receiveBlockList = validateBlockList(options.receiveBlockList, 'options.receiveBlockList');
        if (options.sendBlockList) this.#sendBlockList = validateBlockList(options.sendBlockList, 'options.sendBlockList');
      }
    }
    if (lookup === undefined) lookup = dns.lookup;
    else validateFunction(lookup, 'lookup');
    if (type !== 'udp4' && type !== 'udp6') throw dgramErrors.badType();
    this.#lookup = familyLookup(type, lookup as LookupFn);
    const handle = new UdpHandle(type === 'udp4' ? 4 : 6);
    handle.owner = this;
    this.#handle = handle;
    this.type = type;
    if (typeof listener === 'function') this.on('message', listener);
    this.#reuseAddr = options?.reuseAddr;
    if (DGRAM_REUSE_PORT) this.#reusePort = options?.reusePort;
    this.#ipv6Only = options?.ipv6Only;

    if (options?.signal !== undefined) {
      const { signal } = options;
      validateAbortSignal(signal, 'options.signal');
      const onAborted = (): void => {
        if (this.#handle) this.close();
      };
      if (signal.aborted) onAborted();
      else {
        signal.addEventListener('abort', onAborted, { once: true });
        this.once('close', () => signal.removeEventListener('abort', onAborted));
      }
    }
    if (udpSocketChannel.hasSubscribers) udpSocketChannel.publish({ socket: this });
  }

  // ---- binding ----

  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  bind(port_?: unknown, address_?: unknown, callback?: () => void): this;
  bind(port_?: unknown, address_?: unknown): this {
    // eslint-disable-next-line prefer-rest-params
    const args = arguments;
    let port = port_;
    this.#healthCheck();
    if (this.#bindState !== Bind.Unbound) throw dgramErrors.alreadyBound();
    this.#bindState = Bind.Binding;

    const cb = args.length > 0 ? args[args.length - 1] : undefined;
    if (typeof cb === 'function') this.#onceListening(cb as () => void);

    if (port !== null && typeof port === 'object') {
      const fd = (port as BindOptions).fd;
      if (Number.isInteger(fd) && (fd as number) > 0 && (fd as number) <= 0x7fffffff) {
        const type = udpFdType(fd as number);
        if (type !== 'UDP') throw dgramErrors.invalidFdType(type);
        const err = this.#handle!.open(fd as number);
        if (err) throw errnoError(err, 'open');
        this.#startListening();
        return this;
      }
    }

    let address: unknown;
    if (port !== null && typeof port === 'object') {
      address = (port as BindOptions).address || '';
      port = (port as BindOptions).port;
    } else {
      address = typeof address_ === 'function' ? '' : address_;
    }
    if (!address) address = this.type === 'udp4' ? '0.0.0.0' : '::';

    this.#lookup(address as string, (err, ip) => {
      const handle = this.#handle;
      if (!handle) return; // closed meanwhile
      if (err) {
        this.#bindState = Bind.Unbound;
        this.emit('error', err);
        return;
      }
      const status = handle.bind(ip, bindPortNumber(port), this.#bindFlags());
      if (status) {
        const ex = hostPortError(status, 'bind', ip, port);
        this.#bindState = Bind.Unbound;
        this.emit('error', ex);
        return;
      }
      this.#startListening();
    });
    return this;
  }

  #bindFlags(): number {
    let flags = 0;
    if (this.#reuseAddr) flags |= UDP_REUSEADDR;
    if (this.#ipv6Only) flags |= UDP_IPV6ONLY;
    if (this.#reusePort) flags |= UDP_REUSEPORT;
    return flags;
  }

  /** bind()'s callback: runs on 'listening', dropped on the first error. */
  #onceListening(cb: () => void): void {
    const errorEvent = DGRAM_BIND_ERROR_MONITOR ? EventEmitter.errorMonitor : 'error';
    const removeListeners = (): void => {
      this.removeListener(errorEvent, removeListeners);
      this.removeListener('listening', onListening);
    };
    const onListening = (): void => {
      removeListeners();
      cb.call(this);
    };
    this.on(errorEvent, removeListeners);
    this.on('listening', onListening);
  }

  /** The socket is bound: receive, apply the buffer sizes asked for. */
  #startReceiving(): void {
    const handle = this.#handle!;
    handle.onmessage = (status, data, rinfo) => this.#onMessage(status, data, rinfo);
    handle.recvStart();
    this.#receiving = true;
    this.#bindState = Bind.Bound;
    if (this.#recvBufferSize) this.#bufferSize(this.#recvBufferSize, true);
    if (this.#sendBufferSize) this.#bufferSize(this.#sendBufferSize, false);
  }

  #startListening(): void {
    this.#startReceiving();
    this.emit('listening');
  }

  #onMessage(status: number, data: Buffer | null, rinfo: RemoteInfo | null): void {
    if (status < 0) {
      this.emit('error', errnoError(status, 'recvmsg'));
      return;
    }
    const info = rinfo!;
    if (this.#receiveBlockList?.check(info.address, info.family.toLowerCase() as 'ipv4' | 'ipv6')) return;
    info.size = data!.length;
    this.emit('message', data, info);
  }

  // ---- connecting ----

  connect(port: number, address?: string | (() => void), callback?: () => void): void {
    port = validatePeerPort(port);
    if (typeof address === 'function') {
      callback = address;
      address = '';
    } else if (address === undefined) {
      address = '';
    }
    validateString(address, 'address');
    if (this.#connectState !== Conn.Disconnected) throw dgramErrors.isConnected();
    this.#connectState = Conn.Connecting;
    if (this.#bindState === Bind.Unbound) this.bind({ port: 0, exclusive: true }, null as never);
    if (this.#bindState !== Bind.Bound) {
      this.#queue.push(() => this.#connect(port, address as string, callback));
      return;
    }
    this.#connect(port, address, callback);
  }

  #connect(port: number, address: string, callback: (() => void) | undefined): void {
    if (callback) this.once('connect', callback);
    this.#lookup(address, (ex, ip) => this.#doConnect(ex, ip, address, port, callback));
  }

  #doConnect(ex: Error | null, ip: string, address: string, port: number, callback: ((e?: Error) => void) | undefined): void {
    const handle = this.#handle;
    if (!handle) return;
    if (!ex && this.#sendBlockList?.check(ip, `ipv${isIP(ip)}` as 'ipv4')) ex = simple.ipBlocked(ip);
    if (!ex) {
      const err = handle.connect(ip, port);
      if (err) ex = hostPortError(err, 'connect', address, port);
    }
    if (ex) {
      const error = ex;
      this.#connectState = Conn.Disconnected;
      process.nextTick(() => {
        if (callback) {
          this.removeListener('connect', callback);
          callback(error);
        } else {
          this.emit('error', error);
        }
      });
      return;
    }
    this.#connectState = Conn.Connected;
    process.nextTick(() => this.emit('connect'));
  }

  disconnect(): void {
    if (this.#connectState !== Conn.Connected) throw dgramErrors.notConnected();
    const err = (this.#handle as UdpHandle).disconnect();
    if (err) throw errnoError(err, 'connect');
    this.#connectState = Conn.Disconnected;
  }

  // ---- sending ----
  //
  // send(buffer, offset, length, port, address[, cb]) / (bufferOrList, port[, address][, cb]);
  // connected: send(buffer, offset, length[, cb]) / (bufferOrList[, cb]).
  send(buffer: unknown, offset?: unknown, length?: unknown, port?: unknown, address?: unknown, callback?: unknown): void {
    const connected = this.#connectState === Conn.Connected;
    if (!connected) {
      if (address || (port && typeof port !== 'function')) {
        buffer = sliceBuffer(buffer, offset, length);
      } else {
        callback = port;
        port = offset;
        address = length;
      }
    } else {
      if (typeof length === 'number') {
        buffer = sliceBuffer(buffer, offset, length);
        if (typeof port === 'function') {
          callback = port;
          port = null;
        }
      } else {
        callback = offset;
      }
      if (port || address) throw dgramErrors.isConnected();
    }

    const list = toChunkList(buffer);
    if (!connected) port = validatePeerPort(port);
    if (typeof callback !== 'function') callback = undefined;
    if (typeof address === 'function') {
      callback = address;
      address = undefined;
    } else if (address != null) {
      validateString(address, 'address');
    }

    this.#healthCheck();
    if (this.#bindState === Bind.Unbound) this.bind({ port: 0, exclusive: true }, null as never);
    if (list.length === 0) list.push(Buffer.alloc(0));

    // Not bound yet: send once it is, through send() again as node:dgram does.
    if (this.#bindState !== Bind.Bound) {
      this.#queue.push(() => this.send(list, port, address, callback));
      return;
    }
    const cb = callback as SendCallback | undefined;
    if (!connected) {
      this.#lookup(address as string, (ex, ip) => this.#doSend(ex, ip, list, address as string, port as number, cb));
    } else {
      this.#doSend(null, null, list, address as undefined, port as undefined, cb);
    }
  }

  #doSend(ex: Error | null, ip: string | null, list: Buffer[], address: string | undefined,
    port: number | undefined, callback: SendCallback | undefined): void {
    if (ex) {
      const error = ex;
      if (callback) process.nextTick(callback, error);
      else process.nextTick(() => this.emit('error', error));
      return;
    }
    const handle = this.#handle;
    if (!handle) return;
    if (ip && this.#sendBlockList?.check(ip, `ipv${isIP(ip)}` as 'ipv4')) {
      if (callback) process.nextTick(callback, simple.ipBlocked(ip));
      return;
    }
    const oncomplete = callback
      ? (status: number, bytes: number): void => {
        callback(status < 0 ? hostPortError(status, 'send', address, port) : null, bytes);
      }
      : null;
    const r = port ? handle.send(list, port, ip, oncomplete) : handle.send(list, 0, null, oncomplete);
    if (r >= 1) {
      // Sent at once: the value is the length + 1.
      if (callback) process.nextTick(callback, null, r - 1);
      return;
    }
    // An error with no callback is dropped, as node:dgram drops it.
    if (r < 0 && callback) process.nextTick(callback, hostPortError(r, 'send', address, port));
  }

  /** The old form: send(buffer, offset, length, port, address[, callback]) with checked types. */
  sendto(buffer: unknown, offset: number, length: number, port: number, address: string, callback?: SendCallback): void {
    validateNumber(offset, 'offset');
    validateNumber(length, 'length');
    validateNumber(port, 'port');
    validateString(address, 'address');
    this.send(buffer, offset, length, port, address, callback);
  }

  // ---- closing ----

  close(callback?: () => void): this {
    if (typeof callback === 'function') this.on('close', callback);
    // While binding, the close waits in the send queue behind what is there.
    if (this.#queue.active) {
      this.#queue.push(() => this.close());
      return this;
    }
    this.#healthCheck();
    this.#stopReceiving();
    // node:dgram's handle gives its port back inside close(), so code that
    // binds the port again from the 'close' event (or the close callback)
    // succeeds. The engine releases the descriptor on its loop: 'close' waits
    // for that, and comes no sooner than node:dgram's (the next tick).
    let released = false;
    let ticked = false;
    // What the engine read before the close is dropped: node:dgram emits no
    // 'message' once close() has been called.
    this.#handle!.onmessage = null;
    this.#handle!.close(() => {
      released = true;
      if (ticked) this.emit('close');
    });
    this.#handle = null;
    process.nextTick(() => {
      ticked = true;
      if (released) this.emit('close');
    });
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#handle) return;
    await promisify((cb: () => void) => this.close(cb))();
  }

  // ---- names ----

  address(): { address: string; family: string; port: number } {
    this.#healthCheck();
    const r = this.#handle!.sockname();
    if (typeof r === 'number') throw errnoError(r, 'getsockname');
    return { address: r.address, family: r.family, port: r.port };
  }

  remoteAddress(): { address: string; family: string; port: number } {
    this.#healthCheck();
    if (this.#connectState !== Conn.Connected) throw dgramErrors.notConnected();
    const r = this.#handle!.peername();
    if (typeof r === 'number') throw errnoError(r, 'getpeername');
    return { address: r.address, family: r.family, port: r.port };
  }

  // ---- options ----
  // Like node:dgram, the setters below read the handle without a health
  // check: on a closed socket they throw the engine's TypeError for null.

  setBroadcast(arg: boolean): void {
    const err = (this.#handle as UdpHandle).setBroadcast(!!arg);
    if (err) throw errnoError(err, 'setBroadcast');
  }

  setTTL(ttl: number): number {
    validateNumber(ttl, 'ttl');
    const err = (this.#handle as UdpHandle).setTTL(ttl);
    if (err) throw errnoError(err, 'setTTL');
    return ttl;
  }

  setMulticastTTL(ttl: number): number {
    validateNumber(ttl, 'ttl');
    const err = (this.#handle as UdpHandle).setMulticastTTL(ttl);
    if (err) throw errnoError(err, 'setMulticastTTL');
    return ttl;
  }

  setMulticastLoopback(arg: boolean): boolean {
    const err = (this.#handle as UdpHandle).setMulticastLoopback(!!arg);
    if (err) throw errnoError(err, 'setMulticastLoopback');
    return arg;
  }

  setMulticastInterface(interfaceAddress: string): void {
    this.#healthCheck();
    validateString(interfaceAddress, 'interfaceAddress');
    const err = this.#handle!.setMulticastInterface(interfaceAddress);
    if (err) throw errnoError(err, 'setMulticastInterface');
  }

  addMembership(multicastAddress: string, interfaceAddress?: string): void {
    this.#membership(multicastAddress, interfaceAddress, true);
  }

  dropMembership(multicastAddress: string, interfaceAddress?: string): void {
    this.#membership(multicastAddress, interfaceAddress, false);
  }

  #membership(group: string, iface: string | undefined, join: boolean): void {
    this.#healthCheck();
    if (!group) throw simple.missingArgs('multicastAddress');
    const ifaceText = ifaceArg(iface);  // as node:dgram's binding: the interface is converted first
    let groupText: string;
    try {
      groupText = asCString(group);
    } catch (err) {
      if (typeof iface === 'string' || !dgramMembershipSwallowsGroupError()) throw err;
      groupText = '';  // no address: EINVAL, as the binding that dropped the exception reports
    }
    const err = this.#handle!.setMembership(groupText, ifaceText, join);
    if (err) throw errnoError(err, join ? 'addMembership' : 'dropMembership');
  }

  addSourceSpecificMembership(sourceAddress: string, groupAddress: string, interfaceAddress?: string): void {
    this.#sourceMembership(sourceAddress, groupAddress, interfaceAddress, true);
  }

  dropSourceSpecificMembership(sourceAddress: string, groupAddress: string, interfaceAddress?: string): void {
    this.#sourceMembership(sourceAddress, groupAddress, interfaceAddress, false);
  }

  #sourceMembership(source: string, group: string, iface: string | undefined, join: boolean): void {
    this.#healthCheck();
    validateString(source, 'sourceAddress');
    validateString(group, 'groupAddress');
    const err = this.#handle!.setSourceMembership(source, group, ifaceArg(iface), join);
    if (err) throw errnoError(err, join ? 'addSourceSpecificMembership' : 'dropSourceSpecificMembership');
  }

  setRecvBufferSize(size: number): void { this.#bufferSize(size, true); }
  setSendBufferSize(size: number): void { this.#bufferSize(size, false); }
  getRecvBufferSize(): number { return this.#bufferSize(0, true); }
  getSendBufferSize(): number { return this.#bufferSize(0, false); }

  #bufferSize(size: number, recv: boolean): number {
    if (size >>> 0 !== size) throw dgramErrors.badBufferSize();
    const handle = this.#handle as UdpHandle;
    // udp_wrap refuses a size the C int of setsockopt cannot hold, socket or not.
    const r = size > 0x7fffffff ? UV_EINVAL : handle.bufferSize(size, recv);
    if (r < 0) {
      const [code, errno, message] = systemErrorInfo(getSystemErrorName(r), r);
      const syscall = recv ? 'uv_recv_buffer_size' : 'uv_send_buffer_size';
      throw contextSystemError('ERR_SOCKET_BUFFER_SIZE', 'Could not get or set buffer size', { errno, code, message, syscall });
    }
    return r;
  }

  getSendQueueSize(): number { return nullRead(this.#handle, 'getSendQueueSize') ?? this.#handle!.sendQueueSize; }
  getSendQueueCount(): number { return nullRead(this.#handle, 'getSendQueueCount') ?? this.#handle!.sendQueueCount; }

  ref(): this {
    this.#handle?.ref();
    return this;
  }

  unref(): this {
    this.#handle?.unref();
    return this;
  }

  // ---- shared ----

  #healthCheck(): void {
    if (!this.#handle) throw dgramErrors.notRunning();
  }

  #stopReceiving(): void {
    if (!this.#receiving) return;
    this.#handle!.recvStop();
    this.#receiving = false;
  }

  // node:dgram's deprecated private state (DEP0112), read and written by
  // the accessors installed below the class.
  static {
    deprecatedState = {
      get: (s, key) => {
        switch (key) {
          case 'handle': return s.#handle;
          case 'receiving': return s.#receiving;
          case 'bindState': return s.#bindState;
          case 'queue': return s.#queue.entries;
          default: return s.#reuseAddr;
        }
      },
      set: (s, key, v) => {
        switch (key) {
          case 'handle': s.#handle = v as UdpHandle | null; break;
          case 'receiving': s.#receiving = !!v; break;
          case 'bindState': s.#bindState = v as Bind; break;
          case 'queue': s.#queue.entries = v as Array<() => void> | undefined; break;
          default: s.#reuseAddr = v; break;
        }
      },
      healthCheck: (s) => s.#healthCheck(),
      stopReceiving: (s) => s.#stopReceiving(),
    };
  }

  /** Node 24's bindSync: binds a numeric address inline, 'listening' next tick. */
  bindSync(options: BindOptions = {}): { address: string; family: string; port: number } {
    this.#healthCheck();
    validateObject(options, 'options');
    if (this.#bindState !== Bind.Unbound) throw dgramErrors.alreadyBound();
    const port = validatePort(options.port ?? 0, 'options.port');
    let address: string | undefined = (options as BindOptions).address;
    if (!address) {
      address = this.type === 'udp4' ? '0.0.0.0' : '::';
    } else {
      validateString(address, 'options.address');
      if (isIP(address) === 0) {
        throw invalidArgValue('options.address', address, 'must be a numeric IP address; bindSync does not perform DNS resolution');
      }
    }
    this.#bindState = Bind.Binding;
    const ip = address as string;
    const err = this.#handle!.bind(ip, port, this.#bindFlags());
    if (err) {
      this.#bindState = Bind.Unbound;
      throw hostPortError(err, 'bind', ip, port);
    }
    this.#startReceiving();
    process.nextTick(() => {
      if (this.#handle) this.emit('listening');
    });
    return this.address();
  }

  /** Node 24's connectSync: connects to a numeric address inline, 'connect' next tick. */
  connectSync(port: number, address?: string): void {
    this.#healthCheck();
    port = validatePeerPort(port);
    if (this.#connectState !== Conn.Disconnected) throw dgramErrors.isConnected();
    if (address == null || address === '') {
      address = this.type === 'udp4' ? '127.0.0.1' : '::1';
    } else {
      validateString(address, 'address');
      if (isIP(address) === 0) {
        throw invalidArgValue('address', address, 'must be a numeric IP address; connectSync does not perform DNS resolution');
      }
    }
    if (this.#bindState === Bind.Unbound) this.bindSync();
    else if (this.#bindState !== Bind.Bound) throw dgramErrors.alreadyBound();
    this.#connectState = Conn.Connecting;
    if (this.#sendBlockList?.check(address, `ipv${isIP(address)}` as 'ipv4')) {
      this.#connectState = Conn.Disconnected;
      throw simple.ipBlocked(address);
    }
    const err = this.#handle!.connect(address, port);
    if (err) {
      this.#connectState = Conn.Disconnected;
      throw hostPortError(err, 'connect', address, port);
    }
    this.#connectState = Conn.Connected;
    process.nextTick(() => {
      if (this.#handle) this.emit('connect');
    });
  }
}

/** A value as udp_wrap reads a string argument (ToString: 5 is '5'; a Symbol throws). */
function asCString(v: unknown): string {
  return `${v as string}`;
}

/** The interface argument of a membership call: none when undefined or null, else as a string. */
function ifaceArg(v: unknown): string | null {
  return v === undefined || v === null ? null : asCString(v);
}

/** undefined, or the TypeError node:dgram's `handle.name()` throws on a closed socket. */
function nullRead(handle: UdpHandle | null, name: string): undefined {
  if (handle) return undefined;
  return (handle as unknown as Record<string, () => undefined>)[name]();
}

// The methods only some Node lines have stay off the prototype elsewhere, so
// the surface is the running Node's.
const proto = Socket.prototype as unknown as Record<string, unknown>;
if (!DGRAM_SYNC_METHODS) {
  delete proto.bindSync;
  delete proto.connectSync;
}
for (const key of ['handle', 'receiving', 'bindState', 'queue', 'reuseAddr']) {
  const name = `_${key}`;
  Object.defineProperty(Socket.prototype, name, {
    get: deprecate(function (this: Socket) {
      return deprecatedState.get(this, key);
    }, `Socket.prototype.${name} is deprecated`, 'DEP0112'),
    set: deprecate(function (this: Socket, v: unknown) {
      deprecatedState.set(this, key, v);
    }, `Socket.prototype.${name} is deprecated`, 'DEP0112'),
    enumerable: false,
    configurable: true,
  });
}
Object.defineProperty(Socket.prototype, '_healthCheck', {
  value: deprecate(function (this: Socket) { deprecatedState.healthCheck(this); },
    'Socket.prototype._healthCheck() is deprecated', 'DEP0112'),
  writable: true, enumerable: false, configurable: true,
});
Object.defineProperty(Socket.prototype, '_stopReceiving', {
  value: deprecate(function (this: Socket) { deprecatedState.stopReceiving(this); },
    'Socket.prototype._stopReceiving() is deprecated', 'DEP0112'),
  writable: true, enumerable: false, configurable: true,
});

