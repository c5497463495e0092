// socket.ts - class Socket extends stream.Duplex, node:net's Socket on a
// protonet StreamHandle.
//
// The stream machinery (buffering, 'end'/'finish' ordering, autoDestroy,
// allowHalfOpen via Duplex) is Node's own stream.Duplex, configured as
// node:net configures it; this class supplies what lib/net.js supplies: the
// connect sequence, _read/_write/_writev/_final/_destroy against the handle,
// and the properties users read. Comments name the Node behaviour matched.
import * as dns from 'node:dns';
import * as nodeNet from 'node:net';
import type { BlockList, SocketConnectOpts as NodeSocketConnectOpts, SocketReadyState } from 'node:net';
import { Duplex, addAbortSignal, finished, type DuplexOptions } from 'node:stream';

import { normalizeArgs, normalizedArgs, type Normalized, type NormalizedOptions } from './args';
import { adoptableBase } from './callable';
import {
  AbortError, errnoException, genericNodeError, invalidArgType, invalidArgValue, nodeError, simple, type SystemError,
} from './errors';
import type { AnyListener, EventListener } from './events';
import { BoundSocket, adoptBoundSocket } from './bound_socket';
import { BoundSource } from './bound_source';
import { Err, native } from './binding';
import { connectPipe, internalConnect, type ConnectHost, type ConnectTarget } from './connect';
import { UserBufferReader } from './user_read';
import { NET_DEBUG, debug } from './debug';
import { CLIENT_SOCKET_IN_CONNECT, netClientSocket } from './diagnostics';
import {
  CONNECT_VALIDATES_HOST, FINAL_WAITS_WHILE_CONNECTING, FOREIGN_RUNTIME, HAS_TYPE_OF_SERVICE, KEEPALIVE_OPTIONS,
  SOCKET_BLOCK_LIST, WRITE_ERROR_AFTER_DESTROY,
} from './node_version';
import { StreamHandle, describeErr, guessHandleType, type NameInfo, type WriteReq } from './stream_handle';
import {
  getTimerDuration, isIP, validateBlockList, validateBoolean, validateFunction, validateInt32,
  validateNumber, validatePort, validateString,
} from './validate';

type Callback = (err?: Error | null) => void;
type LookupFn = (hostname: string, options: dns.LookupOptions,
  cb: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void) => void;

export interface SocketOptions extends DuplexOptions {
  allowHalfOpen?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  readable?: boolean;
  writable?: boolean;
  fd?: number;
  /** Aborting destroys the socket with an AbortError (as node:net). */
  signal?: AbortSignal;
  /**
   * Node's onread: received bytes go into `buffer` (or the buffer `buffer()`
   * returns) and `callback(nread, buf)` is called instead of 'data'; returning
   * false pauses reading.
   */
  onread?: OnReadOptions | null;
  /** Connects to addresses it denies fail with ERR_IP_BLOCKED (where the running Node's net has it). */
  blockList?: BlockList;
  /** A net.BoundSocket to connect from (Node 24); internally, an accepted connection's handle. */
  handle?: StreamHandle | BoundSocket;
  /** @internal server pauseOnConnect */
  pauseOnCreate?: boolean;
  /** @internal */
  manualStart?: boolean;
  /** The IP TOS / IPv6 traffic class byte to set once connected (where node:net has setTypeOfService). */
  typeOfService?: number;
}

export interface OnReadOptions {
  buffer: Uint8Array | (() => Uint8Array);
  callback(bytesWritten: number, buf: Uint8Array): boolean | void;
}

export interface TcpConnectOptions {
  port: number | string;
  host?: string;
  localAddress?: string;
  localPort?: number;
  family?: number;
  hints?: number;
  lookup?: LookupFn;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  autoSelectFamily?: boolean;
  autoSelectFamilyAttemptTimeout?: number;
  timeout?: number;
  signal?: AbortSignal;
  onread?: OnReadOptions | null;
}

export interface IpcConnectOptions {
  path: string;
  timeout?: number;
  signal?: AbortSignal;
  onread?: OnReadOptions | null;
}

// The process-wide defaults are node:net's own: Node sets them from its
// command line (--no-network-family-autoselection,
// --network-family-autoselection-attempt-timeout, also through NODE_OPTIONS),
// and a program has one default however many modules stand in for net, so
// setting it through either module sets it for both. Under Bun and Deno, whose
// net has other defaults, protonet keeps Node 20's (true, 250 ms) itself.
const nodeDefaults = FOREIGN_RUNTIME || typeof nodeNet.getDefaultAutoSelectFamily !== 'function' ? null : {
  get: nodeNet.getDefaultAutoSelectFamily,
  set: nodeNet.setDefaultAutoSelectFamily,
  getTimeout: nodeNet.getDefaultAutoSelectFamilyAttemptTimeout,
  setTimeout: nodeNet.setDefaultAutoSelectFamilyAttemptTimeout,
};
let autoSelectFamilyDefault = true;
let autoSelectFamilyAttemptTimeoutDefault = 250;

export function getDefaultAutoSelectFamily(): boolean {
  return nodeDefaults ? nodeDefaults.get() : autoSelectFamilyDefault;
}
export function setDefaultAutoSelectFamily(value: boolean): void {
  if (nodeDefaults) {
    nodeDefaults.set(value);
    return;
  }
  validateBoolean(value, 'value');
  autoSelectFamilyDefault = value;
}
export function getDefaultAutoSelectFamilyAttemptTimeout(): number {
  return nodeDefaults ? nodeDefaults.getTimeout() : autoSelectFamilyAttemptTimeoutDefault;
}
export function setDefaultAutoSelectFamilyAttemptTimeout(value: number): void {
  if (nodeDefaults) {
    nodeDefaults.setTimeout(value);
    return;
  }
  validateInt32(value, 'value', 1);
  autoSelectFamilyAttemptTimeoutDefault = value < 10 ? 10 : value;
}

const kEmpty = Object.freeze({}) as Partial<NameInfo>;

// Duplex, except that net.Socket.call(obj) of pre-class code initialises obj (callable.ts).
const SocketBase = adoptableBase(Duplex);

// node:net keeps the handle under a symbol behind a `_handle` accessor on
// Socket.prototype (so the prototype lists `_handle`, as node:net's does).
// This file reads and writes the symbol itself: the accessor is for everyone
// else, and a getter call on every read and write measurably costs ping-pong.
const kHandle = Symbol('kHandle');

export class Socket extends SocketBase {
  connecting = false;
  _hadError = false;
  [kHandle]: StreamHandle | null = null;
  _host: string | null = null;
  _parent: Socket | null = null;
  _peername: Partial<NameInfo> | null = null;
  _sockname: Partial<NameInfo> | null = null;
  _pendingData: unknown = null;
  _pendingEncoding = '';
  server: unknown = null;
  _server: unknown = null;
  /** The last value given to setTimeout (undefined until then, as in Node). */
  declare timeout: number | undefined;
  /** Set (as in Node) once a connect tries several addresses; undefined before. */
  declare autoSelectFamilyAttemptedAddresses: string[];
  /** Set once options.signal aborted: stops further autoSelectFamily attempts. */
  _aborted = false;

  // The onread option: received bytes go to the caller's buffer (user_read.ts).
  #userRead: UserBufferReader | null = null;
  #connectCalled = false; // connect() was called at least once

  #noDelay: boolean;
  #keepAlive: boolean;
  #keepAliveDelay: number;
  // What setTypeOfService / options.typeOfService asked for (node:net's kSetTOS).
  #tos: number | undefined;
  #timer: NodeJS.Timeout | null = null;
  #lastWriteQueueSize = 0;
  #bytesRead = 0;     // kept when the handle goes away
  #bytesWritten = 0;
  #attemptTimer: NodeJS.Timeout | null = null;  // of the address being tried (connect.ts)
  #connectHost: ConnectHost | null = null;
  // A bound socket not yet connected: an adopted net.BoundSocket's or an
  // unconnected fd's (bound_source.ts).
  #bound: BoundSource | null = null;

  constructor(options?: SocketOptions | number) {
    // Legacy form: new Socket(fd).
    const opts: SocketOptions = typeof options === 'number' ? { fd: options } : { ...options };
    if (opts.objectMode) throw simple.objectModeUnsupported('options.objectMode', opts.objectMode);
    if (opts.readableObjectMode) throw simple.objectModeUnsupported('options.readableObjectMode', opts.readableObjectMode);
    if (opts.writableObjectMode) throw simple.objectModeUnsupported('options.writableObjectMode', opts.writableObjectMode);
    if (opts.keepAliveInitialDelay !== undefined) {
      validateNumber(opts.keepAliveInitialDelay, 'options.keepAliveInitialDelay');
      if (opts.keepAliveInitialDelay < 0) opts.keepAliveInitialDelay = 0;
    }
    // As node:net: half-open off unless asked, 'close' emitted by us from the
    // handle's close callback, strings passed through to _write undecoded.
    opts.allowHalfOpen = Boolean(opts.allowHalfOpen);
    opts.emitClose = false;
    opts.autoDestroy = true;
    opts.decodeStrings = false;
    // Duplex would attach options.signal itself, but an already aborted
    // signal destroys the stream inside super(), before this class's private
    // fields exist; attach it (same validation, same AbortError) right after.
    const { signal } = opts;
    delete opts.signal;
    super(opts);
    if (signal) addAbortSignal(signal, this);

    // An adopted BoundSocket is bound but not connected: no reading until connect().
    let boundNotConnected = false;
    if (opts.handle instanceof BoundSocket) {
      const { fd, path } = adoptBoundSocket(opts.handle);
      this[kHandle] = new StreamHandle();
      this[kHandle].isPipe = path !== undefined;
      this.#bound = BoundSource.adopted(fd, path);
      boundNotConnected = true;
    } else if (opts.handle) {
      this[kHandle] = opts.handle;
    } else if (opts.fd !== undefined) {
      // Node's createHandle: only stream sockets can become a Socket.
      validateInt32(opts.fd, 'fd', 0);
      const type = guessHandleType(opts.fd);
      if (type !== 'TCP' && type !== 'PIPE') throw nodeError(TypeError, 'ERR_INVALID_FD_TYPE', `Unsupported fd type: ${type}`);
      const handle = new StreamHandle();
      handle.isPipe = type === 'PIPE';
      if (native.fdUnconnected(opts.fd)) {
        // A socket with no peer yet: it waits, not reading, for connect() to
        // connect it (as Node's handle wrapping the fd would).
        this.#bound = BoundSource.unconnected(opts.fd);
        boundNotConnected = true;
      } else {
        const err = handle.open(opts.fd);
        if (err) throw sysErrno(err, 'open');
      }
      this[kHandle] = handle;
    }
    this.#userRead = UserBufferReader.from(opts.onread);
    this.#noDelay = Boolean(opts.noDelay);
    this.#keepAlive = Boolean(opts.keepAlive);
    this.#keepAliveDelay = ~~((opts.keepAliveInitialDelay ?? 0) / 1000);
    if (HAS_TYPE_OF_SERVICE) {
      if (opts.typeOfService !== undefined) validateInt32(opts.typeOfService, 'options.typeOfService', 0, 255);
      this.#tos = opts.typeOfService;
    }

    this.on('end', onReadableStreamEnd);
    // Node's initSocketHandle un-destroys the stream unconditionally: a socket
    // that an already aborted signal destroyed inside Duplex's constructor
    // comes out not destroyed (its 'error'/'close' are already queued).
    (this as unknown as { _undestroy(): void })._undestroy();
    if (this[kHandle]) this.#initHandle(this[kHandle]);

    // An accepted connection starts reading at once unless the server pauses it.
    if (this[kHandle] && opts.readable !== false && !boundNotConnected) {
      if (opts.pauseOnCreate) {
        this[kHandle].reading = false;
        this[kHandle].readStop();
        (this as unknown as { readableFlowing: boolean | null }).readableFlowing = false;
      } else if (!opts.manualStart) {
        this.read(0);
      }
    }
    // stream.Duplex already destroys the socket with an AbortError on abort;
    // Node additionally marks it so pending autoSelectFamily attempts stop.
    if (signal) {
      const onAbort = (): void => { this._aborted = true; };
      if (signal.aborted) process.nextTick(onAbort);
      else process.nextTick(() => signal.addEventListener('abort', onAbort, { once: true }));
    }
    // Checked last, as Node does (what came before has happened when it throws).
    if (SOCKET_BLOCK_LIST && opts.blockList) {
      (this as { blockList?: BlockList }).blockList = validateBlockList(opts.blockList, 'options.blockList');
    }
  }

  // Shared by every handle (`this` is the handle, as in Node's onStreamRead):
  // two closures per socket would cost about 150 bytes of every connection.
  static readonly #onHandleRead = function (this: StreamHandle, buf: Buffer | null): void {
    (this.owner as Socket).#onRead(buf);
  };
  static readonly #onHandleReadError = function (this: StreamHandle, status: number): void {
    (this.owner as Socket).destroy(sysErrno(status, 'read'));
  };

  #initHandle(handle: StreamHandle): void {
    handle.owner = this;
    handle.onread = Socket.#onHandleRead;
    handle.onreaderror = Socket.#onHandleReadError;
  }

  // ---- connecting ----

  // The connect forms node:net documents, in the order @types/node declares
  // them (overload order decides assignability to node:net's Socket type).
  connect(options: NodeSocketConnectOpts, connectionListener?: () => void): this;
  connect(port: number, host: string, connectionListener?: () => void): this;
  connect(port: number, connectionListener?: () => void): this;
  connect(path: string, connectionListener?: () => void): this;
  // protonet's own option types (a port may be a numeric string, as at run time).
  connect(options: TcpConnectOptions | IpcConnectOptions, connectionListener?: () => void): this;
  connect(...args: unknown[]): this {
    let normalized: Normalized;
    if (Array.isArray(args[0]) && (args[0] as Normalized)[normalizedArgs]) normalized = args[0] as Normalized;
    else normalized = normalizeArgs(args);
    const options = normalized[0];
    const cb = normalized[1];

    if (CLIENT_SOCKET_IN_CONNECT && netClientSocket.hasSubscribers) netClientSocket.publish({ socket: this });
    if (cb !== null) this.once('connect', cb);
    this.#connectCalled = true;
    if (options.port === undefined && options.path == null) {
      throw simple.missingArgs('options', 'port', 'path');
    }
    if (this._parent?.connecting) return this;
    // A socket reconnecting after 'end' gets its write() back.
    if (this.write !== Socket.prototype.write) this.write = Socket.prototype.write;
    if (this.destroyed) {
      this[kHandle] = null;
      this._peername = null;
      this._sockname = null;
      (this as unknown as { _undestroy(): void })._undestroy();
    }
    // An adopted BoundSocket fixes the transport, whatever the options say
    // (once destroyed, the path option decides again, as for any socket).
    const pipe = this.#bound?.adopted && this[kHandle] ? this[kHandle].isPipe : Boolean(options.path);
    if (NET_DEBUG) debug('pipe', pipe, options.path);
    if (!this[kHandle]) {
      this[kHandle] = new StreamHandle();
      this.#initHandle(this[kHandle]);
    }
    this._unrefTimer();
    this.connecting = true;
    if (pipe) {
      validateString(options.path, 'options.path');
      connectPipe(this.#connector(), options.path);
    } else {
      this.#lookupAndConnect(options);
    }
    return this;
  }

  // What connect.ts's sequence uses of this socket; made on the first connect
  // (most sockets are accepted and never connect).
  #connector(): ConnectHost {
    if (this.#connectHost !== null) return this.#connectHost;
    const socket = this;
    this.#connectHost = {
      get destroyed() { return socket.destroyed; },
      get connecting() { return socket.connecting; },
      get _aborted() { return socket._aborted; },
      get autoSelectFamilyAttemptedAddresses() { return socket.autoSelectFamilyAttemptedAddresses; },
      set autoSelectFamilyAttemptedAddresses(list: string[]) { socket.autoSelectFamilyAttemptedAddresses = list; },
      emit: (event: string, ...args: unknown[]) => this.emit(event, ...args),
      destroy: (err?: Error) => { this.destroy(err); },
      _getsockname: () => this._getsockname(),
      handle: (fresh = false) => {
        if (fresh) {
          this[kHandle]?.close();
          this[kHandle] = new StreamHandle();
          this.#initHandle(this[kHandle]);
        }
        return this[kHandle]!;
      },
      takeBoundFd: () => (this.#bound?.held ? this.#takeBoundFd() : -1),
      blocked: (address: string, family: 4 | 6) => this.#blocked(address, family),
      afterConnect: () => this.#afterConnect(),
      setAttemptTimer: (timer: NodeJS.Timeout | null) => { this.#attemptTimer = timer; },
    };
    return this.#connectHost;
  }

  // Hands the bound fd to the handle that connects from it, first noting its
  // name: a connect that fails at once reports it ("- Local (ip:port)") after
  // the fd is gone.
  #takeBoundFd(): number {
    this._getsockname();
    return this.#bound!.take();
  }

  #lookupAndConnect(options: NormalizedOptions): void {
    const localAddress = options.localAddress as string | undefined;
    const localPort = options.localPort as number | undefined;
    const host = (options.host as string | undefined) || 'localhost';
    let port = options.port as number;
    let autoSelectFamily = options.autoSelectFamily as boolean | undefined;
    let attemptTimeout = options.autoSelectFamilyAttemptTimeout as number | undefined;

    if (CONNECT_VALIDATES_HOST) {
      validateString(host, 'options.host');
      if (host.includes('\0')) throw invalidArgValue('options.host', host, 'must be a string without null bytes');
    }
    // An adopted BoundSocket has its local address and family already.
    if (this.#bound?.adopted) {
      if (localAddress !== undefined || localPort !== undefined) {
        throw invalidArgValue('options', options,
          'localAddress and localPort cannot be used with an adopted bound socket');
      }
      autoSelectFamily = false;
    }
    if (localAddress && !isIP(localAddress)) throw simple.invalidIpAddress(localAddress);
    if (localPort) validateNumber(localPort, 'options.localPort');
    if (typeof port !== 'undefined') {
      if (typeof port !== 'number' && typeof port !== 'string') {
        throw invalidArgType('options.port', ['number', 'string'], port);
      }
      validatePort(port);
    }
    port |= 0;
    if (autoSelectFamily != null) validateBoolean(autoSelectFamily, 'options.autoSelectFamily');
    else autoSelectFamily = getDefaultAutoSelectFamily();
    if (attemptTimeout != null) {
      validateInt32(attemptTimeout, 'options.autoSelectFamilyAttemptTimeout', 1);
      if (attemptTimeout < 10) attemptTimeout = 10;
    } else {
      attemptTimeout = getDefaultAutoSelectFamilyAttemptTimeout();
    }

    // An IP literal needs no lookup: connect on the next tick, as Node does.
    const addressType = isIP(host);
    if (addressType) {
      // From a BoundSocket Node connects in this tick (the kernel's source
      // address is readable at once); failures still come as events later.
      if (this.#bound?.adopted) {
        internalConnect(this.#connector(), [{ address: host, family: addressType as 4 | 6 }], port, localAddress, localPort, attemptTimeout);
        return;
      }
      process.nextTick(() => {
        if (this.connecting) internalConnect(this.#connector(), [{ address: host, family: addressType as 4 | 6 }], port, localAddress, localPort, attemptTimeout!);
      });
      return;
    }

    if (options.lookup != null) validateFunction(options.lookup, 'options.lookup');
    const lookup = (options.lookup as LookupFn | undefined) ?? (dns.lookup as unknown as LookupFn);
    const family = socketToDnsFamily(options.family);
    const dnsopts = { family, hints: (options.hints as number | undefined) || 0 } as dns.LookupOptions;
    if (process.platform !== 'win32' && family !== 4 && family !== 6 && dnsopts.hints === 0) {
      dnsopts.hints = dns.ADDRCONFIG;
    }
    if (NET_DEBUG) {
      debug('connect: find host', host);
      debug('connect: dns options', dnsopts);
    }
    this._host = host;

    if (family !== 4 && family !== 6 && !localAddress && autoSelectFamily) {
      if (NET_DEBUG) debug('connect: autodetecting');
      dnsopts.all = true;
      lookup(host, dnsopts, (err, addresses) => {
        if (!this.connecting) return;
        if (err) {
          this.emit('lookup', err, undefined, undefined, host);
          process.nextTick(() => this.destroy(err));
          return;
        }
        const list = addresses as dns.LookupAddress[];
        const groups: [ConnectTarget[], ConnectTarget[]] = [[], []];
        let preferred: 4 | 6 | 0 = 0;
        for (const { address, family: fam } of list) {
          this.emit('lookup', err, address, fam, host);
          if (!this.connecting) return;
          if (isIP(address) && (fam === 4 || fam === 6)) {
            if (!preferred) preferred = fam;
            const group = groups[fam === preferred ? 0 : 1];
            if (!group.some((t) => t.address === address)) group.push({ address, family: fam });
          }
        }
        if (groups[0].length === 0 && groups[1].length === 0) {
          const first = list[0];
          const e = first && !isIP(first.address) ? simple.invalidIpAddress(first.address)
            : simple.invalidAddressFamily(first?.family, options.host, options.port);
          process.nextTick(() => this.destroy(e));
          return;
        }
        // Alternate families, preferred first (RFC 8305 ordering as Node does).
        const targets: ConnectTarget[] = [];
        for (let i = 0; i < Math.max(groups[0].length, groups[1].length); i++) {
          if (i < groups[0].length) targets.push(groups[0][i]);
          if (i < groups[1].length) targets.push(groups[1][i]);
        }
        if (NET_DEBUG) {
          if (targets.length === 1) debug('connect/multiple: only one address found, switching back to single connection');
          else debug('connect/multiple: will try the following addresses', targets);
        }
        this._unrefTimer();
        internalConnect(this.#connector(), targets, port, localAddress, localPort, attemptTimeout!);
      });
      return;
    }

    lookup(host, dnsopts, (err, ip, addrType) => {
      this.emit('lookup', err, ip, addrType, host);
      if (!this.connecting) return;
      if (err) {
        process.nextTick(() => this.destroy(err));
      } else if (!isIP(ip as string)) {
        const e = simple.invalidIpAddress(ip);
        process.nextTick(() => this.destroy(e));
      } else if (addrType !== 4 && addrType !== 6) {
        const e = simple.invalidAddressFamily(addrType, options.host, options.port);
        process.nextTick(() => this.destroy(e));
      } else {
        this._unrefTimer();
        internalConnect(this.#connector(), [{ address: ip as string, family: addrType }], port, localAddress, localPort, attemptTimeout!);
      }
    });
  }

  // options.blockList (Node 23.4+) denies this remote address.
  #blocked(address: string, family: 4 | 6): boolean {
    return (this as { blockList?: BlockList }).blockList?.check(address, family === 6 ? 'ipv6' : 'ipv4') === true;
  }

  // Node's afterConnect on success: options, then 'connect' and 'ready' in
  // one go, then the first read unless paused.
  #afterConnect(): void {
    this.connecting = false;
    this._sockname = null;
    this._unrefTimer();
    const handle = this[kHandle]!;
    if (this.#noDelay) handle.setNoDelay(true);
    if (this.#keepAlive) handle.setKeepAlive(true, this.#keepAliveDelay);
    // A TOS asked for before the socket existed; a failure does not stop the
    // connection, but is reported (node:net: except EBADF, and not on Windows).
    if (this.#tos !== undefined && !handle.isPipe) {
      const err = handle.setTypeOfService(this.#tos);
      if (err && err !== Err.EBADF && process.platform !== 'win32') this.emit('error', sysErrno(err, 'setTypeOfService'));
    }
    this.emit('connect');
    this.emit('ready');
    if (!this.isPaused()) this.read(0);
  }

  // ---- reading ----

  override _read(_size: number): void {
    if (NET_DEBUG) debug('_read - n', _size, 'isConnecting?', !!this.connecting, 'hasHandle?', !!this[kHandle]);
    if (this.connecting || !this[kHandle]) {
      if (NET_DEBUG) debug('_read wait for connection');
      this.once('connect', () => this._read(_size));
    } else if (!this[kHandle].reading) {
      this.#tryReadStart();
    }
  }

  #tryReadStart(): void {
    if (this.#userRead?.holding && !this.#userRead.flush(this)) return;
    if (NET_DEBUG) debug('Socket._handle.readStart');
    this[kHandle]!.reading = true;
    const err = this[kHandle]!.readStart();
    if (err) this.destroy(sysErrno(err, 'read'));
  }

  // Node's onStreamRead: push; stop the handle when the stream is full.
  #onRead(buf: Buffer | null): void {
    if (buf === null) {
      // EOF: end the readable side; 'end' follows once buffered data is read
      // (with onread: once the bytes held while paused are delivered).
      if (this.destroyed) return;
      if (this.#userRead?.holdEof()) return;
      this.push(null);
      this.read(0);
      return;
    }
    if (this.destroyed) return;
    this._unrefTimer();
    const ok = this.#userRead ? this.#userRead.deliver(this, buf) : this.push(buf);
    const handle = this[kHandle];
    if (!ok && handle && handle.reading) {
      handle.reading = false;
      handle.readStop();
    }
  }

  // Node's read: with onread, a handle that stopped (the callback returned
  // false) starts again when the stream is read. Not while pause()d: here a
  // read(0) from the stream's own machinery would otherwise deliver the bytes
  // held back (Node's stopped handle has none).
  override read(size?: number): unknown {
    if (this.#userRead && !this.#userRead.paused && !this.connecting && this[kHandle] && !this[kHandle].reading) {
      this.#tryReadStart();
    }
    return super.read(size);
  }

  // Node's pause/resume: with onread, stopping the flow stops the handle.
  override pause(): this {
    if (this.#userRead) this.#userRead.paused = true;
    if (this.#userRead && !this.connecting && this[kHandle] && this[kHandle].reading) {
      this[kHandle].reading = false;
      if (!this.destroyed) this[kHandle].readStop();
    }
    return super.pause();
  }

  override resume(): this {
    if (this.#userRead) this.#userRead.paused = false;
    if (this.#userRead && !this.connecting && this[kHandle] && !this[kHandle].reading) {
      if (this.#userRead.flush(this)) this.#tryReadStart();
    }
    return super.resume();
  }

  // ---- writing ----

  // Node's write on a socket with no connection and none under way fails
  // inside the call (the stream is errored before write() returns), so it
  // answers false. Here that failure waits for the rest of the tick (see
  // _writeGeneric), which the stream cannot know: answer as Node does.
  override write(chunk: unknown, cb?: Callback): boolean;
  override write(chunk: unknown, encoding?: BufferEncoding, cb?: Callback): boolean;
  override write(chunk: unknown, encoding?: BufferEncoding | Callback, cb?: Callback): boolean {
    const ok = (Duplex.prototype.write as (c: unknown, e: unknown, f: unknown) => boolean).call(this, chunk, encoding, cb);
    return ok && (this[kHandle] !== null || this.connecting);
  }

  override _writev(chunks: Array<{ chunk: unknown; encoding: BufferEncoding }>, cb: Callback): void {
    this._writeGeneric(true, chunks, '', cb);
  }

  override _write(data: unknown, encoding: BufferEncoding, cb: Callback): void {
    this._writeGeneric(false, data, encoding, cb);
  }

  _writeGeneric(writev: boolean, data: unknown, encoding: string, cb: Callback): void {
    // Writes made while connecting wait for 'connect' (the stream buffers the
    // rest); if the socket closes first they fail like Node's.
    if (this.connecting) {
      this._pendingData = data;
      this._pendingEncoding = encoding;
      const onClose = (): void => cb(simple.socketClosedBeforeConnection());
      this.once('connect', () => {
        this.off('close', onClose);
        this._writeGeneric(writev, data, encoding, cb);
      });
      this.once('close', onClose);
      return;
    }
    this._pendingData = null;
    this._pendingEncoding = '';
    const handle = this[kHandle];
    if (!handle) {
      if (!this.#connectCalled && !this.destroyed) {
        // A new socket's first write may come before its connect():
        // tls.connect({ socket }) writes its hello at once, and Node's docs
        // allow connecting that socket afterwards (TLS itself waits for the
        // 'connect' of node:net's own sockets, not of ours). The write waits
        // for the rest of this tick; a socket still not connecting then fails
        // as Node's does at once (ERR_SOCKET_CLOSED).
        process.nextTick(() => {
          if (this.connecting || this[kHandle]) this._writeGeneric(writev, data, encoding, cb);
          else cb(simple.socketClosed());
        });
        return;
      }
      cb(simple.socketClosed());
      return;
    }
    this._unrefTimer();

    const chunks: Uint8Array[] = [];
    let bytes = 0;
    const add = (chunk: unknown, enc: string): void => {
      const u8 = toBytes(chunk, enc);
      chunks.push(u8);
      bytes += u8.byteLength;
    };
    if (writev) for (const c of data as Array<{ chunk: unknown; encoding: string }>) add(c.chunk, c.encoding);
    else add(data, encoding);

    const req: WriteReq = {
      bytes: 0,
      async: false,
      chunks: null,
      oncomplete: (status) => this.#onWriteComplete(status, cb),
    };
    const err = handle.writev(req, chunks, bytes);
    if (err !== 0) {
      cb(sysErrno(err, 'write'));
      return;
    }
    if (!req.async) {
      cb();
    } else {
      this.#lastWriteQueueSize = req.bytes;
    }
  }

  // Node's onWriteComplete.
  #onWriteComplete(status: number, cb: Callback): void {
    if (WRITE_ERROR_AFTER_DESTROY && status < 0) {
      cb(sysErrno(status, 'write'));
      return;
    }
    if (this.destroyed) {
      cb(null);
      return;
    }
    if (status < 0) {
      cb(sysErrno(status, 'write'));
      return;
    }
    this._unrefTimer();
    this.#lastWriteQueueSize = 0;
    cb(null);
  }

  // ---- ending and destroying ----

  override _final(cb: Callback): void {
    // A socket not connected yet ends once it is (FINAL_WAITS_WHILE_CONNECTING).
    if (FINAL_WAITS_WHILE_CONNECTING ? this.connecting : this.pending) {
      if (NET_DEBUG) debug('_final: not yet connected');
      this.once('connect', () => this._final(cb));
      return;
    }
    if (!this[kHandle]) {
      cb();
      return;
    }
    if (NET_DEBUG) debug('_final: not ended, call shutdown()');
    const err = this[kHandle].shutdown(() => {
      if (NET_DEBUG) debug('afterShutdown destroyed=%j', this.destroyed);
      cb();
    });
    if (err === 1 || err === Err.ENOTCONN) {
      cb();
    } else if (err !== 0) {
      cb(sysErrno(err, 'shutdown'));
    }
  }

  override _destroy(exception: Error | null, cb: (err: Error | null) => void): void {
    if (NET_DEBUG) debug('destroy');
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#attemptTimer) clearTimeout(this.#attemptTimer);
    this.#attemptTimer = null;
    this.connecting = false;
    this.#bound?.dispose();
    if (NET_DEBUG) debug('close');
    const handle = this[kHandle];
    if (handle) {
      if (NET_DEBUG) debug('close handle');
      const isException = Boolean(exception);
      this.#bytesRead = handle.bytesRead;
      this.#bytesWritten = handle.bytesWritten;
      handle.onread = null;
      handle.onconnect = null;
      if (this.#resetOnClose) {
        this.#resetOnClose = false;
        const err = handle.reset(() => this.#emitClose(isException));
        if (err) this.emit('error', sysErrno(err, 'reset'));
      } else {
        handle.close(() => this.#emitClose(isException));
      }
      this[kHandle] = null;
      this._sockname = null;
      cb(exception);
    } else {
      cb(exception);
      // Node emits this 'close' without the hadError argument (and, sharing
      // the server's function for it, says 'SERVER: emit close').
      process.nextTick(() => {
        if (NET_DEBUG) debug('SERVER: emit close');
        this.emit('close');
      });
    }
    const server = this._server as { _connections: number; _emitCloseIfDrained?: () => void } | null;
    if (server) {
      if (NET_DEBUG) debug('has server');
      server._connections--;
      server._emitCloseIfDrained?.();
    }
  }

  #emitClose(isException: boolean): void {
    if (NET_DEBUG) debug('emit close');
    this.emit('close', isException);
  }

  /** Closes with a TCP RST: the peer sees ECONNRESET. */
  resetAndDestroy(): this {
    if (this[kHandle]) {
      // Only TCP has a reset; Node throws for a Unix socket's handle, connected or not.
      if (this[kHandle].isPipe) throw simple.invalidHandleType();
      if (this.connecting) {
        if (NET_DEBUG) debug('reset wait for connection');
        this.once('connect', () => this._reset());
      } else {
        this._reset();
      }
    } else {
      this.destroy(simple.socketClosed());
    }
    return this;
  }

  #resetOnClose = false;

  _reset(): this {
    if (NET_DEBUG) debug('reset connection');
    this.#resetOnClose = true;
    return this.destroy();
  }

  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  // ---- timeouts and options ----

  setTimeout(msecs: number, callback?: () => void): this {
    if (this.destroyed) return this;
    this.timeout = msecs;
    const ms = getTimerDuration(msecs, 'msecs');
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (ms === 0) {
      if (callback !== undefined) {
        validateFunction(callback, 'callback');
        this.removeListener('timeout', callback);
      }
    } else {
      this.#timer = setTimeout(() => this._onTimeout(), ms);
      this.#timer.unref();
      if (callback !== undefined) {
        validateFunction(callback, 'callback');
        this.once('timeout', callback);
      }
    }
    return this;
  }

  // A write still draining suppresses the timeout (Node's kLastWriteQueueSize).
  _onTimeout(): void {
    const handle = this[kHandle];
    if (this.#lastWriteQueueSize > 0 && handle) {
      if (this.#lastWriteQueueSize !== handle.writeQueueSize) {
        this.#lastWriteQueueSize = handle.writeQueueSize;
        this._unrefTimer();
        return;
      }
    }
    if (NET_DEBUG) debug('_onTimeout');
    this.emit('timeout');
  }

  _unrefTimer(): void {
    for (let s: Socket | null = this; s !== null; s = s._parent) s.#timer?.refresh();
  }

  setNoDelay(noDelay?: boolean): this {
    const enable = Boolean(noDelay === undefined ? true : noDelay);
    if (!this[kHandle] || this.connecting || this.#bound?.held) {
      this.#noDelay = enable;
      return this;
    }
    // Node skips a handle without setNoDelay (a user's own handle object).
    if (typeof this[kHandle].setNoDelay === 'function' && enable !== this.#noDelay) {
      this.#noDelay = enable;
      this[kHandle].setNoDelay(enable);
    }
    return this;
  }

  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    // Newer Node (24) also takes { enable, initialDelay, interval, count }.
    // The interval and count are not applied: the native handle sets only the idle time.
    if (KEEPALIVE_OPTIONS && enable !== null && typeof enable === 'object') {
      const o = enable as { enable?: boolean; initialDelay?: number };
      enable = o.enable;
      initialDelay = o.initialDelay;
    }
    const on = Boolean(enable);
    const delay = ~~((initialDelay ?? 0) / 1000);
    if (!this[kHandle] || this.connecting || this.#bound?.held) {
      this.#keepAlive = on;
      this.#keepAliveDelay = delay;
      return this;
    }
    if (typeof this[kHandle].setKeepAlive === 'function'
      && (on !== this.#keepAlive || (on && this.#keepAliveDelay !== delay))) {
      this.#keepAlive = on;
      this.#keepAliveDelay = delay;
      this[kHandle].setKeepAlive(on, delay);
    }
    return this;
  }

  // setTypeOfService / getTypeOfService: where the running Node's net has
  // them (Node 24.15+); removed from the prototype below otherwise. The byte
  // is IP_TOS on an IPv4 socket and IPV6_TCLASS on an IPv6 one; asked for
  // before the socket has a descriptor, it is kept and set on connect.
  setTypeOfService(tos: number): this {
    if (Number.isNaN(tos)) throw invalidArgType('tos', 'number', tos);
    validateInt32(tos, 'tos', 0, 255);
    const handle = this[kHandle];
    if (!handle || handle.isPipe || this.#bound?.held) {
      this.#tos = tos;
      return this;
    }
    if (tos !== this.#tos) {
      this.#tos = tos;
      const err = handle.setTypeOfService(tos);
      // Windows often refuses the option; node:net treats it as best effort there.
      if (err && process.platform !== 'win32') throw sysErrno(err, 'setTypeOfService');
    }
    return this;
  }

  getTypeOfService(): number {
    const handle = this[kHandle];
    if (!handle || handle.isPipe || this.#bound?.held) return this.#tos !== undefined ? this.#tos : 0;
    const res = handle.getTypeOfService();
    if (res < 0) {
      if (process.platform === 'win32') return this.#tos !== undefined ? this.#tos : 0;
      throw sysErrno(res, 'getTypeOfService');
    }
    return res;
  }

  ref(): this {
    this[kHandle]?.ref();
    return this;
  }

  unref(): this {
    this[kHandle]?.unref();
    return this;
  }

  // ---- names and state ----

  get _handle(): StreamHandle | null { return this[kHandle]; }
  set _handle(handle: StreamHandle | null) { this[kHandle] = handle; }

  address(): Partial<NameInfo> | Record<string, never> {
    return this._getsockname();
  }

  _getsockname(): Partial<NameInfo> {
    // Read off the prototype itself (Node's getters answer undefined there).
    if (!(#bound in this)) return kEmpty;
    const bound = this.#bound;
    if (bound?.path !== undefined) return { address: bound.path };
    if (bound?.held) {
      if (!this._sockname) {
        const name = bound.sockname();
        if (name === null) return {};
        this._sockname = name;
      }
      return this._sockname;
    }
    if (!this[kHandle] || this[kHandle].isPipe) return {};
    if (!this._sockname) {
      this._sockname = {};
      const err = this[kHandle].getsockname(this._sockname);
      if (err !== 0) return {};
    }
    return this._sockname;
  }

  _getpeername(): Partial<NameInfo> {
    if (!this[kHandle] || this[kHandle].isPipe || this.connecting) return this._peername ?? kEmpty;
    if (!this._peername) {
      const out: Partial<NameInfo> = {};
      const err = this[kHandle].getpeername(out);
      if (err) return out;
      this._peername = out;
    }
    return this._peername;
  }

  get remoteAddress(): string | undefined { return this._getpeername().address; }
  get remoteFamily(): string | undefined { return this._getpeername().family; }
  get remotePort(): number | undefined { return this._getpeername().port; }
  get localAddress(): string | undefined { return this._getsockname().address; }
  get localPort(): number | undefined { return this._getsockname().port; }
  get localFamily(): string | undefined { return this._getsockname().family; }

  get pending(): boolean { return !this[kHandle] || this.connecting; }

  get readyState(): SocketReadyState {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable && !this.writable) return 'readOnly';
    if (!this.readable && this.writable) return 'writeOnly';
    return 'closed';
  }

  // Typed `number` as in @types/node; undefined without a handle, as in Node.
  get bufferSize(): number {
    return (this[kHandle] ? this.writableLength : undefined) as number;
  }

  get bytesRead(): number {
    if (this[kHandle]) return this[kHandle].bytesRead;
    return (#bytesRead in this ? this.#bytesRead : undefined) as number;
  }

  /** Node's legacy names for `connecting` and `bytesWritten`. */
  get _connecting(): boolean { return this.connecting; }
  get _bytesDispatched(): number {
    if (this[kHandle]) return this[kHandle].bytesWritten;
    return (#bytesWritten in this ? this.#bytesWritten : undefined) as number;
  }

  // Node counts what was handed to the handle plus what still waits in the
  // stream's buffer or for the connection.
  // Typed `number` as in @types/node; undefined once the stream is gone, as in Node.
  get bytesWritten(): number {
    if (!(#bytesWritten in this)) return undefined as unknown as number;
    let bytes = this[kHandle] ? this[kHandle].bytesWritten : this.#bytesWritten;
    const buffered = (this as unknown as { writableBuffer?: Array<{ chunk: unknown; encoding: BufferEncoding }> }).writableBuffer;
    if (!buffered) return undefined as unknown as number;
    for (const el of buffered) bytes += byteLength(el.chunk, el.encoding);
    const data = this._pendingData;
    if (Array.isArray(data)) {
      for (const el of data as Array<{ chunk: unknown; encoding: BufferEncoding }>) bytes += byteLength(el.chunk, el.encoding);
    } else if (data) {
      bytes += byteLength(data, this._pendingEncoding as BufferEncoding);
    }
    return bytes;
  }

  override end(cb?: () => void): this;
  override end(chunk: unknown, cb?: () => void): this;
  override end(chunk: unknown, encoding?: BufferEncoding, cb?: () => void): this;
  override end(...args: unknown[]): this {
    (Duplex.prototype.end as (...a: unknown[]) => unknown).apply(this, args);
    return this;
  }
}

// node:net's Socket has no [Symbol.asyncDispose] of its own: it inherits the
// stream's (destroy, with an AbortError unless the readable side ended, and
// wait until finished). Only where a runtime's streams lack it, the same here.
if (typeof (Duplex.prototype as unknown as Record<symbol, unknown>)[Symbol.asyncDispose] !== 'function') {
  Object.defineProperty(Socket.prototype, Symbol.asyncDispose, {
    configurable: true,
    writable: true,
    async value(this: Socket): Promise<void> {
      let error: Error | null = null;
      if (!this.destroyed) {
        error = this.readableEnded ? null : new AbortError();
        this.destroy(error ?? undefined);
      }
      await new Promise<void>((resolve, reject) => {
        finished(this, (err) => (err && err !== error ? reject(err) : resolve()));
      });
    },
  });
}

if (!HAS_TYPE_OF_SERVICE) {
  // Not in this Node's net: not on protonet's Socket either.
  delete (Socket.prototype as Partial<Socket>).setTypeOfService;
  delete (Socket.prototype as Partial<Socket>).getTypeOfService;
}

// Socket's events and their listener arguments (node:net's documented ones).
// Merged into the class as typed overloads, so listeners typecheck as with
// node:net and a protonet Socket is assignable to node:net's Socket type.
export interface SocketEventMap {
  close: [hadError: boolean];
  connect: [];
  connectionAttempt: [ip: string, port: number, family: number];
  connectionAttemptFailed: [ip: string, port: number, family: number, error: Error];
  connectionAttemptTimeout: [ip: string, port: number, family: number];
  data: [data: Buffer];
  drain: [];
  end: [];
  error: [err: Error];
  lookup: [err: Error, address: string, family: string | number, host: string];
  ready: [];
  timeout: [];
}

export interface Socket {
  addListener<E extends keyof SocketEventMap>(event: E, listener: EventListener<SocketEventMap[E]>): this;
  addListener(event: string | symbol, listener: AnyListener): this;
  on<E extends keyof SocketEventMap>(event: E, listener: EventListener<SocketEventMap[E]>): this;
  on(event: string | symbol, listener: AnyListener): this;
  once<E extends keyof SocketEventMap>(event: E, listener: EventListener<SocketEventMap[E]>): this;
  once(event: string | symbol, listener: AnyListener): this;
  prependListener<E extends keyof SocketEventMap>(event: E, listener: EventListener<SocketEventMap[E]>): this;
  prependListener(event: string | symbol, listener: AnyListener): this;
  prependOnceListener<E extends keyof SocketEventMap>(event: E, listener: EventListener<SocketEventMap[E]>): this;
  prependOnceListener(event: string | symbol, listener: AnyListener): this;
  emit<E extends keyof SocketEventMap>(event: E, ...args: SocketEventMap[E]): boolean;
  emit(event: string | symbol, ...args: unknown[]): boolean;
}

// Node's onReadableStreamEnd: after the peer's FIN, a socket that is not
// half-open refuses further writes with EPIPE.
function onReadableStreamEnd(this: Socket): void {
  if (!this.allowHalfOpen) {
    this.write = writeAfterFIN as Socket['write'];
  }
}

function writeAfterFIN(this: Socket, chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
  if (!this.writableEnded) {
    return (Duplex.prototype.write as (...a: unknown[]) => boolean).call(this, chunk, encoding, cb);
  }
  if (typeof encoding === 'function') {
    cb = encoding;
  }
  const er = genericNodeError('This socket has been ended by the other party', { code: 'EPIPE' });
  if (typeof cb === 'function') process.nextTick(cb as (e: Error) => void, er);
  this.destroy(er);
  return false;
}

// Node maps the names and passes anything else through unchanged.
function socketToDnsFamily(family: unknown): number | undefined {
  switch (family) {
    case 'IPv4': return 4;
    case 'IPv6': return 6;
    default: return family as number | undefined;
  }
}

function toBytes(chunk: unknown, encoding: string): Uint8Array {
  if (typeof chunk === 'string') return Buffer.from(chunk, (encoding || 'utf8') as BufferEncoding);
  if (chunk instanceof Uint8Array) return chunk;
  const view = chunk as ArrayBufferView;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function byteLength(chunk: unknown, encoding: BufferEncoding): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, encoding);
  return (chunk as ArrayBufferView).byteLength;
}

function sysErrno(err: number, syscall: string): SystemError {
  const [code, errno] = describeErr(err);
  return errnoException(code, errno, syscall);
}


