// server.ts - class Server extends EventEmitter, node:net's Server on a
// protonet listening StreamHandle.
import * as dns from 'node:dns';
import * as fs from 'node:fs';
import { EventEmitter } from 'node:events';
import type { DropArgument as NodeDropArgument } from 'node:net';
import { getDefaultHighWaterMark } from 'node:stream';
import { isIP, isIPv6, type BlockList } from 'node:net';

import { isPipeName, normalizeArgs, toNumber } from './args';
import { adoptableBase } from './callable';
import { BoundSocket, adoptBoundSocket, unlinkBoundPath } from './bound_socket';
import { Err, native } from './binding';
import {
  errnoException, invalidArgType, nodeErrno, simple, uvExceptionWithHostPort, type SystemError,
} from './errors';
import type { AnyListener, EventListener } from './events';
import { NET_DEBUG, debug } from './debug';
import { listenAsyncEnd, listenAsyncStart, listenError, netServerSocket } from './diagnostics';
import {
  LISTEN_FLAGS_WITHOUT_HOST, LISTEN_LOOKUP_ALL, LISTEN_REUSE_PORT, MAX_CONNECTIONS_ZERO_DROPS, PIPE_CHMOD_SETS_MODE,
  SERVER_BLOCK_LIST,
} from './node_version';
import { Socket } from './socket';
import { StreamHandle, describeErr, guessHandleType, type NameInfo } from './stream_handle';
import { invalidArgValue, validateBlockList, validateNumber, validatePort } from './validate';

export interface ServerOptions {
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  highWaterMark?: number;
  /** Connections from addresses it denies are closed unseen (where the running Node's net has it). */
  blockList?: BlockList;
}

export interface ListenOptions {
  port?: number | string | null;
  host?: string;
  backlog?: number;
  exclusive?: boolean;
  ipv6Only?: boolean;
  /** SO_REUSEPORT: several listeners share the port (where the running Node's net has it). */
  reusePort?: boolean;
  path?: string;
  readableAll?: boolean;
  writableAll?: boolean;
  /** Aborting closes the server. */
  signal?: AbortSignal;
  /** Listen on an existing listening handle (another server's `_handle`). */
  handle?: unknown;
  /** Listen on a caller's bound socket fd. */
  fd?: number;
}

// V8's ToInt32 as a native call applies it: unary plus, so a BigInt or a
// Symbol throws the same TypeError Node's handle.listen() throws.
function toInt32(value: unknown): number {
  return (+(value as number)) | 0;
}

// libuv's uv_tcp_flags, which _listen2 takes: listen({ ipv6Only: true }) and
// listen({ reusePort: true }) (only true counts, as in node:net's getFlags).
const UV_TCP_IPV6ONLY = 1;
const UV_TCP_REUSEPORT = 2;
function listenFlags(options: { ipv6Only?: unknown; reusePort?: unknown }): number {
  return (options.ipv6Only === true ? UV_TCP_IPV6ONLY : 0)
    | (LISTEN_REUSE_PORT && options.reusePort === true ? UV_TCP_REUSEPORT : 0);
}

// fe80::/10: the first 10 bits 1111111010.
function isIpv6LinkLocal(ip: string): boolean {
  if (!isIPv6(ip)) return false;
  const first = parseInt(ip.split(':', 1)[0] || '0', 16);
  return (first & 0xffc0) === 0xfe80;
}
const DEFAULT_IPV4_ADDR = '0.0.0.0';
const DEFAULT_IPV6_ADDR = '::';

// EventEmitter, except that net.Server.call(obj) of pre-class code initialises obj (callable.ts).
const ServerBase = adoptableBase(EventEmitter);

export class Server extends ServerBase {
  _connections = 0;
  _handle: StreamHandle | null = null;
  _unref = false;
  _pipeName: string | null = null;
  /** Node's "family:address:port" of the listen() request (port as asked). */
  _connectionKey?: string;
  allowHalfOpen: boolean;
  pauseOnConnect: boolean;
  noDelay: boolean;
  keepAlive: boolean;
  keepAliveInitialDelay: number;
  highWaterMark: number;
  /** Undefined until set, as in Node (typed as @types/node types it). */
  declare maxConnections: number;
  /**
   * @deprecated Since Node v0.9.7 (gone at run time in Node 20 too): use
   * getConnections(). Declared only so that a protonet Server is assignable to
   * @types/node's net.Server, which still lists it.
   */
  declare connections: number;
  #listeningId = 1;
  #listenerClosing = false; // Windows: the listening socket is being closed by its loop
  #closesDeferred = 0;      // 'close' events waiting for that
  /** Node's child_process.send(server) bookkeeping: the connection lists handed to children (_setupWorker). */
  _usingWorkers = false;
  _workers: WorkerSocketList[] = [];

  constructor(connectionListener?: (socket: Socket) => void);
  constructor(options?: ServerOptions, connectionListener?: (socket: Socket) => void);
  constructor(options?: ServerOptions | ((socket: Socket) => void), connectionListener?: (socket: Socket) => void) {
    super();
    let opts: ServerOptions;
    if (typeof options === 'function') {
      this.on('connection', options);
      opts = {};
    } else if (options == null || typeof options === 'object') {
      opts = { ...options };
      if (typeof connectionListener === 'function') this.on('connection', connectionListener);
    } else {
      throw invalidArgType('options', 'Object', options);
    }
    if (opts.keepAliveInitialDelay !== undefined) {
      validateNumber(opts.keepAliveInitialDelay, 'options.keepAliveInitialDelay');
      if (opts.keepAliveInitialDelay < 0) opts.keepAliveInitialDelay = 0;
    }
    if (opts.highWaterMark !== undefined) {
      validateNumber(opts.highWaterMark, 'options.highWaterMark');
      if (opts.highWaterMark < 0) opts.highWaterMark = getDefaultHighWaterMark(false);
    }
    this.allowHalfOpen = opts.allowHalfOpen || false;
    this.pauseOnConnect = Boolean(opts.pauseOnConnect);
    this.noDelay = Boolean(opts.noDelay);
    this.keepAlive = Boolean(opts.keepAlive);
    this.keepAliveInitialDelay = ~~((opts.keepAliveInitialDelay ?? 0) / 1000);
    this.highWaterMark = opts.highWaterMark ?? getDefaultHighWaterMark(false);
    if (SERVER_BLOCK_LIST && opts.blockList) {
      (this as { blockList?: BlockList }).blockList = validateBlockList(opts.blockList, 'options.blockList');
    }
  }

  get listening(): boolean { return Boolean(this._handle); }

  // The listen forms node:net documents, in the order @types/node declares
  // them (overload order decides assignability to node:net's Server type).
  listen(port?: number, hostname?: string, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number, hostname?: string, listeningListener?: () => void): this;
  listen(port?: number, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number, listeningListener?: () => void): this;
  listen(path: string, backlog?: number, listeningListener?: () => void): this;
  listen(path: string, listeningListener?: () => void): this;
  listen(options: ListenOptions, listeningListener?: () => void): this;
  listen(handle: unknown, backlog?: number, listeningListener?: () => void): this;
  listen(handle: unknown, listeningListener?: () => void): this;
  listen(...args: unknown[]): this {
    const normalized = normalizeArgs(args);
    let options = normalized[0] as ListenOptions & Record<string, unknown>;
    const cb = normalized[1];
    if (this._handle) throw simple.serverAlreadyListen();
    if (listenAsyncStart.hasSubscribers) listenAsyncStart.publish({ server: this, options });
    if (cb !== null) this.once('listening', cb);
    const backlogFromArgs = toNumber(args.length > 1 && args[1]) || toNumber(args.length > 2 && args[2]);
    // (boundSocket[, backlog][, cb]) or ({ handle: boundSocket }[, ...]): take
    // the BoundSocket's fd over (it is spent from here on) and listen on it.
    const bound = options instanceof BoundSocket ? options
      : options.handle instanceof BoundSocket ? options.handle : null;
    if (bound !== null) {
      const { fd, path } = adoptBoundSocket(bound);
      if (path !== undefined) this._pipeName = path;
      this.#listeningId++;
      this.#debugHaveHandle(backlogFromArgs);
      this.#listenOnBound(fd, path, toInt32(backlogFromArgs || 511));
      return this;
    }
    // (handle[, backlog][, cb]): a server's handle, or { handle } / { _handle }.
    options = ((options as Record<string, unknown>)._handle || options.handle || options) as typeof options;
    this.#listeningId++;
    if (options instanceof StreamHandle) {
      this.#listenOnHandle(options, backlogFromArgs);
      return this;
    }
    addServerAbortSignalOption(this, options);
    // (handle[, backlog][, cb]) where handle is { fd }.
    if (typeof options.fd === 'number' && options.fd >= 0) {
      this._listen2(null, null, null, backlogFromArgs, options.fd);
      return this;
    }

    if (args.length === 0 || typeof args[0] === 'function'
      || (typeof options.port === 'undefined' && 'port' in options) || options.port === null) {
      options.port = 0;
    }
    if (typeof options.port === 'number' || typeof options.port === 'string') {
      validatePort(options.port, 'options.port');
      // Kept as given: Node converts it (ToInt32) only when the handle listens.
      const backlog: unknown = options.backlog || backlogFromArgs;
      const port = (options.port as number) | 0;
      const flags = listenFlags(options);
      if (options.host) {
        this.#lookupAndListen(port, options.host, backlog, flags);
      } else {
        // Before reusePort, node:net passes no flags here: ipv6Only without
        // a host is ignored (the default '::' stays dual-stack).
        this._listen2(null, port, 4, backlog, undefined, LISTEN_FLAGS_WITHOUT_HOST ? flags : undefined);
      }
      return this;
    }
    // (path[, backlog][, cb]) or (options[, cb]) with a path: a Unix socket.
    if (options.path && isPipeName(options.path)) {
      // fchmod cannot apply to an abstract socket (it has no file).
      if (options.path[0] === '\0' && (options.readableAll || options.writableAll)) {
        throw invalidArgValue('options', options,
          'can not set readableAll or writableAllt to true when path is abstract unix socket');
      }
      const path = options.path;
      this._pipeName = path;
      const backlog: unknown = options.backlog || backlogFromArgs;
      this._listen2(path, -1, -1, backlog, undefined);
      const handle = this._handle as StreamHandle | null;
      if (!handle) return this; // the error comes on the next tick
      let mode = 0;
      if (options.readableAll === true) mode |= 0o444;
      if (options.writableAll === true) mode |= 0o222;
      // On Windows the path is a named pipe, which libuv opens to everyone
      // through its security descriptor; protonet leaves the pipe's default
      // one (docs/compatibility.md, Known differences).
      if (mode !== 0 && process.platform !== 'win32') {
        // libuv's uv_pipe_chmod: sets exactly the bits, or adds them.
        try {
          if (PIPE_CHMOD_SETS_MODE) {
            fs.chmodSync(path, mode);
          } else {
            const st = fs.statSync(path);
            if ((st.mode & mode) !== mode) fs.chmodSync(path, (st.mode | mode) & 0o7777);
          }
        } catch (err) {
          handle.close();
          this._handle = null;
          // fs's error already carries Node's code and errno.
          const e = err as NodeJS.ErrnoException;
          throw errnoException(e.code ?? 'EINVAL', e.errno ?? nodeErrno('EINVAL'), 'uv_pipe_chmod');
        }
      }
      return this;
    }
    if (!('port' in options || 'path' in options)) {
      throw invalidArgValue('options', options, 'must have the property "port" or "path"');
    }
    throw invalidArgValue('options', options);
  }

  // Node's listen(handle): take over an existing listening handle; errors and
  // 'listening' on the next tick as for any listen.
  #listenOnHandle(handle: StreamHandle, backlog: number | false): void {
    this.#debugHaveHandle(backlog);
    if (!handle.isListening) {
      const [code, errno, desc] = describeErr(Err.EINVAL);
      this.#listenFailed(uvExceptionWithHostPort(code, errno, desc, 'listen', null as unknown as undefined, -1));
      return;
    }
    if (handle.isPipe) this._pipeName = this._pipeName ?? null;
    this.#startListening(handle);
  }

  // listen() on an adopted BoundSocket's fd: 'listening' on the next tick; a
  // failure (another socket bound to the port with SO_REUSEADDR listens on it
  // already) closes the fd and comes as 'error' on the next tick, as Node's
  // listen on the adopted handle (address null, port -1).
  #listenOnBound(fd: number, path: string | undefined, backlog: number): void {
    const handle = new StreamHandle();
    handle.isPipe = path !== undefined;
    const err = handle.listenFd(fd, backlog);
    if (err !== 0) {
      native.closeFd(fd);
      unlinkBoundPath(path);
      const [code, errno, desc] = describeErr(err);
      this.#listenFailed(uvExceptionWithHostPort(code, errno, desc, 'listen', null as unknown as undefined, -1));
      return;
    }
    this.#startListening(handle);
  }

  // node:net's trace of a listen on a handle it already has (another
  // server's, a BoundSocket's): setupListenHandle with no address.
  #debugHaveHandle(backlog: unknown): void {
    if (!NET_DEBUG) return;
    debug('setupListenHandle', null, -1, -1, backlog, undefined);
    debug('setupListenHandle: have a handle already');
  }

  // A listen that failed: the tracing channel's error phase now, 'error' on
  // the next tick (node:net's setupListenHandle).
  #listenFailed(ex: Error): void {
    if (listenError.hasSubscribers) listenError.publish({ server: this, error: ex });
    process.nextTick(() => this.emit('error', ex));
  }

  /**
   * node:net's setupListenHandle under its legacy name, which node:net calls
   * for every listen that makes its own socket (so that code wrapping it sees
   * them): `address` null for the default ('::', else '0.0.0.0'), a pipe
   * path with port and addressType -1, or a caller's `fd`; `flags` are
   * libuv's (1 IPv6-only, 2 SO_REUSEPORT).
   */
  _listen2(address: string | null, port: number | null, addressType: number | null, backlog: unknown,
    fd?: number, flags?: number): void {
    if (NET_DEBUG) {
      debug('setupListenHandle', address, port, addressType, backlog, fd);
      debug('setupListenHandle: create a handle');
    }
    if (typeof fd === 'number' && fd >= 0) {
      this.#listenOnFd(fd, toInt32(backlog || 511));
      return;
    }
    this.#setupListenHandle(address, port ?? 0, addressType ?? 4, backlog, flags ?? 0);
  }

  // Node's listen({ fd }): a TCP or Unix stream socket the caller bound;
  // anything else fails with EINVAL (createServerHandle).
  #listenOnFd(fd: number, backlog: number): void {
    const handle = new StreamHandle();
    let err: number;
    const type = Number.isInteger(fd) ? guessHandleType(fd) : 'INVALID';
    if (type !== 'TCP' && type !== 'PIPE') {
      if (NET_DEBUG) debug('listen invalid fd=%d:', fd, `Unsupported fd type: ${type}`);
      err = Err.EINVAL;
    } else {
      handle.isPipe = type === 'PIPE';
      err = handle.listenFd(fd, backlog);
    }
    if (err !== 0) {
      const [code, errno, desc] = describeErr(err);
      this.#listenFailed(uvExceptionWithHostPort(code, errno, desc, 'listen', null as unknown as undefined, undefined));
      return;
    }
    this.#startListening(handle);
  }

  // A handle already listening (listen({ fd }), a BoundSocket, another
  // server's handle): route its connections here; 'listening' on the next tick.
  #startListening(handle: StreamHandle): void {
    this._handle = handle;
    if (listenAsyncEnd.hasSubscribers) listenAsyncEnd.publish({ server: this });
    this._connectionKey = '-1:null:-1';
    handle.onconnection = (status, client) => this.#onConnection(status, client);
    if (this._unref) handle.unref();
    process.nextTick(() => {
      if (this._handle) this.emit('listening');
    });
  }

  // Node's lookupAndListen: a lookup error is the server's 'error' (emitted
  // from the lookup's callback); a listen() or close() meanwhile cancels it.
  #lookupAndListen(port: number, host: string, backlog: unknown, flags: number): void {
    const id = this.#listeningId;
    if (LISTEN_LOOKUP_ALL) {
      // Every address, then the first that is not IPv6 link-local (which
      // cannot be bound without an interface), else the first.
      dns.lookup(host, { all: true }, (err, addresses) => {
        if (id !== this.#listeningId) return;
        if (err) {
          this.emit('error', err);
          return;
        }
        const chosen = addresses.find((a) => !isIpv6LinkLocal(a.address)) ?? addresses[0];
        this._listen2(chosen.address, port, chosen.family || 4, backlog, undefined, flags);
      });
      return;
    }
    dns.lookup(host, (err, ip, family) => {
      if (id !== this.#listeningId) return;
      if (err) this.emit('error', err);
      else this._listen2(ip, port, ip ? family : 4, backlog, undefined, flags);
    });
  }

  // Node's setupListenHandle: with no host, try '::' (dual-stack) and fall
  // back to 0.0.0.0 where IPv6 is unavailable; errors and 'listening' come
  // on the next tick.
  #setupListenHandle(address: string | null, port: number, family: number, backlog: unknown, flags: number): void {
    const ipv6Only = (flags & UV_TCP_IPV6ONLY) !== 0;
    const reusePort = (flags & UV_TCP_REUSEPORT) !== 0;
    const handle = new StreamHandle();
    let err: number;
    let addr: string;
    // Node's handle.listen(backlog || 511): ToInt32, which throws for an
    // object that cannot become a number, as Node's does.
    const effectiveBacklog = toInt32(backlog || 511);
    if (family === -1) {
      addr = address!;
      if (NET_DEBUG) debug('bind to', addr);
      err = handle.listenPath(addr, effectiveBacklog);
    } else if (!address) {
      addr = DEFAULT_IPV6_ADDR;
      if (NET_DEBUG) debug('bind to', addr);
      err = handle.listen(addr, port, effectiveBacklog, ipv6Only, reusePort);
      if (err !== 0 && err !== Err.EADDRINUSE) {
        addr = DEFAULT_IPV4_ADDR;
        if (NET_DEBUG) debug('bind to', addr);
        err = handle.listen(addr, port, effectiveBacklog, false, reusePort);
      }
    } else {
      addr = address;
      if (NET_DEBUG) debug('bind to', addr);
      err = handle.listen(addr, port, effectiveBacklog, ipv6Only, reusePort);
    }
    if (err !== 0) {
      const [code, errno, desc] = describeErr(err);
      this.#listenFailed(uvExceptionWithHostPort(code, errno, desc, 'listen', addr, port));
      return;
    }
    this._handle = handle;
    if (listenAsyncEnd.hasSubscribers) listenAsyncEnd.publish({ server: this });
    // With no address asked for, the family is that of the default that bound.
    const keyFamily = address ? family : addr === DEFAULT_IPV6_ADDR ? 6 : 4;
    this._connectionKey = `${keyFamily}:${addr}:${port}`;
    handle.onconnection = (status, client) => this.#onConnection(status, client);
    if (this._unref) handle.unref();
    process.nextTick(() => {
      if (this._handle) this.emit('listening');
    });
  }

  // What "no limit" is depends on the Node (MAX_CONNECTIONS_ZERO_DROPS).
  #overMaxConnections(): boolean {
    const max = this.maxConnections;
    if (MAX_CONNECTIONS_ZERO_DROPS) return max != null && this._connections >= max;
    return Boolean(max) && this._connections >= max;
  }

  // Node's onconnection.
  #onConnection(status: number, client: StreamHandle | null): void {
    if (NET_DEBUG) debug('onconnection');
    if (status !== 0 || client === null) {
      // Out of descriptors the core sheds the backlog quietly, as libuv does
      // for node:net; it reports EMFILE only when it has no spare descriptor
      // to shed with, which libuv reports too (native/core/listener.h).
      const [code, errno] = describeErr(status);
      this.emit('error', errnoException(code, errno, 'accept'));
      return;
    }
    if (this.#overMaxConnections()) {
      const local: Partial<NameInfo> = {};
      const remote: Partial<NameInfo> = {};
      client.getsockname(local);
      client.getpeername(remote);
      client.close();
      this.emit('drop', {
        localAddress: local.address, localPort: local.port, localFamily: local.family,
        remoteAddress: remote.address, remotePort: remote.port, remoteFamily: remote.family,
      });
      return;
    }
    // Node's blockList check on the peer, after maxConnections: the
    // connection is closed with no 'connection' and no 'drop'.
    const blockList = (this as { blockList?: BlockList }).blockList;
    if (blockList) {
      const remote: Partial<NameInfo> = {};
      client.getpeername(remote);
      const family = isIP(remote.address ?? '');
      if (family && blockList.check(remote.address!, family === 6 ? 'ipv6' : 'ipv4')) {
        client.close();
        return;
      }
    }
    const socket = new Socket({
      handle: client,
      allowHalfOpen: this.allowHalfOpen,
      pauseOnCreate: this.pauseOnConnect,
      readable: true,
      writable: true,
      highWaterMark: this.highWaterMark,
    });
    if (this.noDelay) socket.setNoDelay(true);
    if (this.keepAlive) socket.setKeepAlive(true, this.keepAliveInitialDelay * 1000);
    this._connections++;
    socket.server = this;
    socket._server = this;
    this.emit('connection', socket);
    if (netServerSocket.hasSubscribers) netServerSocket.publish({ socket });
  }

  address(): NameInfo | string | null {
    // A pipe handle has no getsockname: Node answers with the path it was
    // given, even after a failed listen.
    if (this._handle && !this._handle.isPipe) {
      const out: Partial<NameInfo> = {};
      const err = this._handle.getsockname(out);
      if (err) {
        const [code, errno] = describeErr(err);
        throw errnoException(code, errno, 'address');
      }
      return out as NameInfo;
    }
    if (this._pipeName) return this._pipeName;
    return null;
  }

  close(cb?: (err?: Error) => void): this {
    // A lookup still in flight for an earlier listen() must not bind now.
    this.#listeningId++;
    if (typeof cb === 'function') {
      if (!this._handle) {
        this.once('close', () => cb(simple.serverNotRunning()));
      } else {
        this.once('close', cb);
      }
    }
    if (this._handle) {
      // libuv removes a pipe server's socket file when it closes the handle
      // (not for Linux abstract names, which have no file).
      // (A Windows named pipe has no file: nothing to remove there.)
      if (this._handle.isPipe && this._pipeName && this._pipeName[0] !== '\0' && process.platform !== 'win32') {
        try { fs.unlinkSync(this._pipeName); } catch { /* already gone */ }
      }
      const handle = this._handle as StreamHandle;
      if (process.platform === 'win32' && handle.isOpen) {
        // Winsock cannot stop a listening socket short of closing it, and
        // the loop closes it a moment after this: 'close' waits for that, so
        // that a connect made once it fired is refused, as in node:net.
        this.#listenerClosing = true;
        handle.onNativeClose = () => {
          this.#listenerClosing = false;
          const n = this.#closesDeferred;
          this.#closesDeferred = 0;
          for (let i = 0; i < n; i++) this.#emitCloseNT();
        };
      }
      handle.close();
      this._handle = null;
    }
    if (this._usingWorkers) {
      let left = this._workers.length;
      const onWorkerClose = (): void => {
        if (--left !== 0) return;
        this._connections = 0;
        this._emitCloseIfDrained();
      };
      // One extra count, so that 'close' comes once even if every list
      // closes while they are polled.
      this._connections++;
      for (const worker of this._workers) worker.close(onWorkerClose);
    } else {
      this._emitCloseIfDrained();
    }
    return this;
  }

  _emitCloseIfDrained(): void {
    if (NET_DEBUG) debug('SERVER _emitCloseIfDrained');
    if (this._handle || this._connections) {
      if (NET_DEBUG) debug('SERVER handle? %j   connections? %d', !!this._handle, this._connections);
      return;
    }
    // Windows: each 'close' due now comes once the loop has closed the socket.
    if (this.#listenerClosing) {
      this.#closesDeferred++;
      return;
    }
    this.#emitCloseNT();
  }

  #emitCloseNT(): void {
    process.nextTick(() => {
      if (NET_DEBUG) debug('SERVER: emit close');
      this.emit('close');
    });
  }

  getConnections(cb: (err: Error | null, count: number) => void): this {
    if (!this._usingWorkers) {
      const count = this._connections;
      process.nextTick(() => cb(null, count));
      return this;
    }
    // Node's: this process's connections plus every worker list's count.
    let left = this._workers.length;
    let total = this._connections;
    const oncount = (err: Error | null, count: number): void => {
      if (err) {
        left = -1;
        process.nextTick(() => cb(err, undefined as unknown as number));
        return;
      }
      total += count;
      if (--left === 0) process.nextTick(() => cb(null, total));
    };
    for (const worker of this._workers) worker.getConnections(oncount);
    return this;
  }

  /**
   * Node's hook for child_process.send(server): `socketList` counts and
   * closes the connections a child took over; it leaves on its 'exit'.
   */
  _setupWorker(socketList: WorkerSocketList): void {
    this._usingWorkers = true;
    this._workers.push(socketList);
    socketList.once('exit', (list: WorkerSocketList) => {
      const index = this._workers.indexOf(list);
      this._workers.splice(index, 1);
    });
  }

  // With captureRejections on, a rejected async 'connection' listener
  // destroys that socket with the error; any other event's becomes 'error'.
  override [EventEmitter.captureRejectionSymbol](err: Error, event: string | symbol, sock?: Socket): void {
    if (event === 'connection') sock?.destroy(err);
    else this.emit('error', err);
  }

  ref(): this {
    this._unref = false;
    this._handle?.ref();
    return this;
  }

  unref(): this {
    this._unref = true;
    this._handle?.unref();
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this._handle) return;
    await new Promise<void>((resolve, reject) => this.close((err) => (err ? reject(err) : resolve())));
  }
}

/** What child_process hands _setupWorker: a child's share of the server's connections. */
export interface WorkerSocketList {
  getConnections(cb: (err: Error | null, count: number) => void): void;
  close(cb: () => void): void;
  once(event: 'exit', listener: (list: WorkerSocketList) => void): unknown;
}

// Server's events and their listener arguments, merged into the class as
// typed overloads (typed listeners as with node:net; assignable to its Server).
export interface ServerEventMap {
  close: [];
  connection: [socket: Socket];
  error: [err: Error];
  listening: [];
  drop: [data?: NodeDropArgument];
}

export interface Server {
  addListener<E extends keyof ServerEventMap>(event: E, listener: EventListener<ServerEventMap[E]>): this;
  addListener(event: string | symbol, listener: AnyListener): this;
  on<E extends keyof ServerEventMap>(event: E, listener: EventListener<ServerEventMap[E]>): this;
  on(event: string | symbol, listener: AnyListener): this;
  once<E extends keyof ServerEventMap>(event: E, listener: EventListener<ServerEventMap[E]>): this;
  once(event: string | symbol, listener: AnyListener): this;
  prependListener<E extends keyof ServerEventMap>(event: E, listener: EventListener<ServerEventMap[E]>): this;
  prependListener(event: string | symbol, listener: AnyListener): this;
  prependOnceListener<E extends keyof ServerEventMap>(event: E, listener: EventListener<ServerEventMap[E]>): this;
  prependOnceListener(event: string | symbol, listener: AnyListener): this;
  emit<E extends keyof ServerEventMap>(event: E, ...args: ServerEventMap[E]): boolean;
  emit(event: string | symbol, ...args: unknown[]): boolean;
}

// Node's addServerAbortSignalOption: an aborted signal closes the server.
function addServerAbortSignalOption(server: Server, options: { signal?: unknown }): void {
  if (options?.signal === undefined) return;
  const signal = options.signal as AbortSignal;
  if (signal === null || typeof signal !== 'object' || !('aborted' in signal)) {
    throw invalidArgType('options.signal', 'AbortSignal', signal);
  }
  const onAborted = (): void => { server.close(); };
  if (signal.aborted) {
    process.nextTick(onAborted);
  } else {
    signal.addEventListener('abort', onAborted, { once: true });
    server.once('close', () => signal.removeEventListener('abort', onAborted));
  }
}

export type { SystemError };
