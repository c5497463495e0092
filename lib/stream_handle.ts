// stream_handle.ts - a native stream handle (TCP or Unix socket) as the JS
// classes see it.
//
// Plays the part of Node's tcp_wrap and pipe_wrap for socket.ts and server.ts: connect,
// listen, readStart/readStop, writev, shutdown, close, names and options, and
// callbacks (onconnect, onread, onconnection) driven by loop events. It also
// tracks whether the handle is "active" in libuv's sense (reading, connecting,
// writing, shutting down, listening or closing), because only an active,
// ref'd handle keeps the process alive, exactly as in Node.
import { AsyncResource } from 'node:async_hooks';

import { Err, Ev, errName, layout, loadNative, native } from './binding';
import { flushCopiedAtExit } from './copied_flush';
import { systemErrorInfo } from './errors';
import { PIPE_NO_TRUNCATE } from './node_version';
import { addActiveRef, register, unregister, type Registered } from './registry';

export interface WriteReq {
  bytes: number;
  async: boolean;
  chunks: Uint8Array[] | null; // kept alive until the loop wrote them
  done?: boolean; // completed (cancelled) by close before the loop answered
  oncomplete: (status: number) => void;
  // A queued write's async context, made at its write() call as Node's
  // WriteWrap is: the completion runs in it.
  scope?: AsyncResource;
}

export interface NameInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

// Node makes an accepted connection's TCPWrap outside any JS callback, so it
// inherits no AsyncLocalStorage store, not even the listening server's. This
// scope stands in for that top level: made when protonet is loaded (normally
// at the top of a module, where no store is active).
const acceptScope = new AsyncResource('PROTONET', { requireManualDestroy: true });
const IS_WINDOWS = process.platform === 'win32';

// StreamHandle state bits.
const F_OPEN = 1 << 0; // the native side holds an fd for this handle (until Ev.Closed)
const F_CLOSING = 1 << 1;
const F_REFED = 1 << 2;
const F_COUNTED = 1 << 3; // counted in the registry's active-ref total
const F_CONNECTING = 1 << 4;
const F_LISTENING = 1 << 5;
const F_EOF = 1 << 6;
const F_SHUTDOWN_CANCELLED = 1 << 7;

export class StreamHandle implements Registered {
  slot = -1;
  gen = 0;
  loop = 0;

  constructor() {
    // Err's numbers, answered even by a handle never opened, are the addon's.
    loadNative();
  }

  // State bits (F_* above) in one field: an idle server holds thousands of
  // handles, and each boolean property costs a tagged word.
  #flags = F_REFED;
  #shutdownCb: ((status: number) => void) | null = null;
  // Allocated on first use: most handles never queue a write on the loop or
  // get a close callback before they close.
  #closeCbs: (() => void)[] | null = null;
  #writes: WriteReq[] | null = null;

  /** What Node keeps as handle[owner_symbol]: the Socket or Server using it. */
  owner: unknown = null;

  /** A Unix domain socket (Node's Pipe handle): no names, no TCP options. */
  isPipe = false;
  reading = false;
  bytesRead = 0;
  bytesWritten = 0;
  /** Bytes handed to the loop and not yet reported written (libuv's write_queue_size). */
  writeQueueSize = 0;

  onconnect: ((status: number) => void) | null = null;
  // onread: a chunk, or null at EOF. Node 24's http.Agent swaps a socket's
  // handle.onread for its freeSocketOnReadGuard while the socket idles in the
  // pool (any read there, bytes or EOF or error, destroys the socket: response
  // poisoning), then restores Node's own reader, onStreamRead. Neither can run
  // on this handle (they read Node's internal stream state), so: the first
  // reader set is the owner's; onStreamRead means "the owner's reader again";
  // any other reader gets Node's guard behaviour (the owner is destroyed).
  #onread: ((buf: Buffer | null) => void) | null = null;
  #reader: ((buf: Buffer | null) => void) | null = null;
  get onread(): ((buf: Buffer | null) => void) | null { return this.#onread; }
  set onread(fn: ((buf: Buffer | null) => void) | null) {
    if (fn !== null && fn.name === 'onStreamRead' && this.#reader !== null) fn = this.#reader;
    else if (fn === null || this.#reader === null) this.#reader = fn;
    this.#onread = fn;
  }
  /** True (after the owner is destroyed) when a foreign reader such as the Agent's guard is in place. */
  #guarded(): boolean {
    if (this.#onread === this.#reader) return false;
    (this.owner as { destroy?: () => void } | null)?.destroy?.();
    return true;
  }
  onreaderror: ((status: number) => void) | null = null;
  onconnection: ((status: number, client: StreamHandle | null) => void) | null = null;

  #has(bit: number): boolean { return (this.#flags & bit) !== 0; }
  #set(bit: number, on: boolean): void { this.#flags = on ? this.#flags | bit : this.#flags & ~bit; }

  get isOpen(): boolean { return (this.#flags & (F_OPEN | F_CLOSING)) === F_OPEN; }
  /** Called once the loop has closed the descriptor (Ev.Closed), if set. */
  onNativeClose: (() => void) | null = null;

  /**
   * Node's handle.fd: the descriptor, -1 when there is none (yet, or any
   * more), and always -1 on Windows, where Node's handles report none.
   */
  get fd(): number { return this.isOpen && !IS_WINDOWS ? native.fd(this.slot, this.gen) : -1; }

  // The async context the handle was made in, as Node's TCPWrap is an
  // AsyncWrap made where connect() or the server's accept ran: the loop's
  // events for this handle run inside it (deliver), so AsyncLocalStorage and
  // async_hooks see in socket callbacks what they see with node:net. Node's
  // own modules also ask socket._handle for its async id (http's client,
  // when it reuses a keep-alive socket).
  readonly #scope = new AsyncResource('TCPWRAP', { requireManualDestroy: true });
  getAsyncId(): number { return this.#scope.asyncId(); }

  // ---- opening ----

  /** Starts a connect; 0, or a negative errno (nothing was opened). */
  connect(ip: string, port: number, localIp?: string, localPort?: number): number {
    register(this);
    const err = native.connect(this.slot, this.gen, this.loop, ip, port, localIp ?? null, localPort ?? 0);
    // libuv reports a refused loopback connect asynchronously, never from
    // connect() itself; keep that timing so events keep Node's order.
    return this.#opened(err, 'connecting', err === Err.ECONNREFUSED);
  }

  /** Starts a connect to a Unix socket path. Like libuv's pipe connect, a
   * failure to connect arrives through onconnect, never from this call; a
   * path longer than sun_path is cut to fit before Node 22 (uv_pipe_connect)
   * and refused from this call since (uv_pipe_connect2 with
   * UV_PIPE_NO_TRUNCATE): the core's EINVAL, which connect() itself never
   * answers for a Unix socket. */
  connectPath(path: string): number {
    this.isPipe = true;
    register(this);
    const err = native.connectPath(this.slot, this.gen, this.loop, path, !PIPE_NO_TRUNCATE);
    // (On Windows a pipe name with a NUL in it is refused from the call too.)
    return this.#opened(err, 'connecting', !((PIPE_NO_TRUNCATE || IS_WINDOWS) && err === Err.EINVAL));
  }

  /** Starts a connect from a caller's bound fd (a net.BoundSocket), as connect() does;
   * the fd is this handle's from here on (closed at once if the connect fails now). */
  connectFd(fd: number, ip: string, port: number): number {
    register(this);
    const err = native.connectFd(this.slot, this.gen, this.loop, fd, ip, port);
    return this.#opened(err, 'connecting', err === Err.ECONNREFUSED);
  }

  /** connectPath() from a caller's bound Unix socket fd (a net.BoundSocket). */
  connectPathFd(fd: number, path: string): number {
    this.isPipe = true;
    register(this);
    return this.#opened(native.connectPathFd(this.slot, this.gen, this.loop, fd, path), 'connecting', true);
  }

  listenPath(path: string, backlog: number): number {
    this.isPipe = true;
    register(this);
    return this.#opened(native.listenPath(this.slot, this.gen, this.loop, path, backlog, !PIPE_NO_TRUNCATE),
      'listening', false);
  }

  listen(ip: string, port: number, backlog: number, ipv6Only: boolean, reusePort = false): number {
    register(this);
    return this.#opened(native.listen(this.slot, this.gen, this.loop, ip, port, backlog, ipv6Only, reusePort),
      'listening', false);
  }

  /** Listens on a caller's bound stream socket fd (server.listen({ fd })); 0 or -errno. */
  listenFd(fd: number, backlog: number): number {
    register(this);
    const err = (native as unknown as { listenFd(s: number, g: number, l: number, fd: number, b: number): number })
      .listenFd(this.slot, this.gen, this.loop, fd, backlog);
    if (err !== 0) {
      unregister(this);
      return err;
    }
    this.#set(F_OPEN, true);
    this.#set(F_LISTENING, true);
    this.#sync();
    return 0;
  }

  /** A listening handle (server.listen(otherServer._handle) takes it over). */
  get isListening(): boolean { return this.isOpen && this.#has(F_LISTENING); }

  /** Reads an int socket option back from the kernel (tests); value or -errno. */
  getsockopt(name: string): number {
    if (!this.isOpen) return Err.EBADF;
    return (native as unknown as { getsockopt(s: number, g: number, n: string): number })
      .getsockopt(this.slot, this.gen, name);
  }

  /** Wraps a caller's connected socket fd (new Socket({ fd })); 0 or -errno. */
  open(fd: number): number {
    register(this);
    return this.#opened(native.open(this.slot, this.gen, this.loop, fd), 'connected', false);
  }

  // Bookkeeping after a native open call: on success the handle is open in
  // the given state; on failure its slot is released and the error either
  // returned or, with `deferError`, delivered later through onconnect.
  #opened(err: number, state: 'connecting' | 'listening' | 'connected', deferError: boolean): number {
    if (err === 0) {
      this.#set(F_OPEN, true);
      this.#set(F_CONNECTING, state === 'connecting');
      this.#set(F_LISTENING, state === 'listening');
      this.#sync();
      return 0;
    }
    unregister(this);
    if (!deferError) return err;
    this.#set(F_CONNECTING, true);
    setImmediate(() => {
      this.#set(F_CONNECTING, false);
      if (!this.#has(F_CLOSING)) this.onconnect?.(err);
    });
    return 0;
  }

  /** Takes ownership of an accepted fd. Reading starts when readStart() is called. */
  static adopt(fd: number): StreamHandle {
    const h = new StreamHandle();
    register(h);
    h.#set(F_OPEN, true);
    native.adopt(h.slot, h.gen, h.loop, fd, false);
    h.#sync();
    return h;
  }

  // ---- reading ----

  readStart(): number {
    if (!this.isOpen || this.#has(F_EOF)) return 0;
    this.reading = true;
    native.readStart(this.slot, this.gen);
    this.#sync();
    return 0;
  }

  readStop(): number {
    if (!this.isOpen) return 0;
    this.reading = false;
    native.readStop(this.slot, this.gen);
    this.#sync();
    return 0;
  }

  // ---- writing ----

  /** 0 with req.async telling whether a completion follows, or a negative errno. */
  writev(req: WriteReq, chunks: Uint8Array[], bytes: number): number {
    if (!this.isOpen) return Err.EBADF;
    const r = native.writev(this.slot, this.gen, chunks);
    if (r < 0) return r;
    this.bytesWritten += bytes;
    req.bytes = bytes;
    if (r === 0 || r === layout.writeCopied) {
      if (r !== 0) flushCopiedAtExit();
      req.async = false;
      return 0;
    }
    req.async = true;
    // The completion runs in the write() call's context, as with Node's
    // WriteWrap (AsyncLocalStorage.run() changes the store without a new
    // async id, so there is no cheap test for "same context"; ~0.1 us).
    req.scope = new AsyncResource('WRITEWRAP', { requireManualDestroy: true });
    req.chunks = chunks;
    this.writeQueueSize += bytes;
    (this.#writes ??= []).push(req);
    this.#sync();
    return 0;
  }

  /** 0 (oncomplete follows, always as its own callback) or a negative errno (ENOTCONN when not open). */
  shutdown(oncomplete: (status: number) => void): number {
    if (!this.isOpen) return Err.ENOTCONN;
    const r = native.shutdown(this.slot, this.gen);
    if (r < 0) return r;
    this.#shutdownCb = oncomplete;
    this.#sync();
    // 1: the FIN already went out from this thread; the completion still
    // arrives as an event, as a separate callback like libuv's.
    return 0;
  }

  // ---- closing ----

  close(cb?: () => void): void {
    if (cb) (this.#closeCbs ??= []).push(cb);
    if (this.#has(F_CLOSING)) return;
    this.#set(F_CLOSING, true);
    this.reading = false;
    if (this.#has(F_OPEN)) native.close(this.slot, this.gen);
    this.#scheduleCloseCallbacks();
  }

  /** Closes with RST instead of FIN (resetAndDestroy); 0 or -errno. */
  reset(cb: () => void): number {
    if (this.#has(F_CLOSING) || !this.#has(F_OPEN)) {
      this.close(cb);
      return 0;
    }
    (this.#closeCbs ??= []).push(cb);
    this.#set(F_CLOSING, true);
    this.reading = false;
    const err = native.reset(this.slot, this.gen);
    this.#scheduleCloseCallbacks();
    return err;
  }

  // libuv runs close callbacks in the closing phase of the loop iteration in
  // which uv_close was called (after setImmediate callbacks queued before),
  // and cancels pending writes and the shutdown first. The callbacks run on
  // that schedule here; the loop closes the fd meanwhile, and its kEvClosed
  // (which may come later) only frees the slot and the liveness count.
  #scheduleCloseCallbacks(): void {
    this.#sync();
    setImmediate(() => {
      for (const req of this.#writes ?? []) {
        if (!req.done) {
          req.done = true;
          req.oncomplete(Err.ECANCELED);
        }
      }
      const shutdownCb = this.#shutdownCb;
      if (shutdownCb && !this.#has(F_SHUTDOWN_CANCELLED)) {
        this.#set(F_SHUTDOWN_CANCELLED, true);
        shutdownCb(Err.ECANCELED);
      }
      this.#set(F_CONNECTING, false);
      this.#set(F_LISTENING, false);
      const cbs = this.#closeCbs;
      this.#closeCbs = null;
      if (cbs !== null) for (const fn of cbs) fn();
      this.#sync();
    });
  }

  // ---- liveness ----

  ref(): void { this.#set(F_REFED, true); this.#sync(); }
  unref(): void { this.#set(F_REFED, false); this.#sync(); }
  hasRef(): boolean { return this.#has(F_REFED); }

  // libuv's notion of an active handle, counted only while ref'd.
  #sync(): void {
    const active = this.#has(F_OPEN) && (this.#has(F_CLOSING | F_CONNECTING | F_LISTENING) || this.reading
      || (this.#writes !== null && this.#writes.length > 0) || this.#shutdownCb !== null);
    const counted = active && this.#has(F_REFED);
    if (counted !== this.#has(F_COUNTED)) {
      this.#set(F_COUNTED, counted);
      addActiveRef(counted ? 1 : -1);
    }
  }

  // ---- names and options (one-shot calls on the JS thread) ----

  getsockname(out: Partial<NameInfo>): number { return this.#name(out, false); }
  getpeername(out: Partial<NameInfo>): number { return this.#name(out, true); }

  #name(out: Partial<NameInfo>, peer: boolean): number {
    if (!this.isOpen || this.isPipe) return Err.EBADF;
    const r = peer ? native.peername(this.slot, this.gen) : native.sockname(this.slot, this.gen);
    if (typeof r === 'number') return r;
    out.address = r[0];
    out.family = r[2] === 6 ? 'IPv6' : 'IPv4';
    out.port = r[1];
    return 0;
  }

  // Pipes have no TCP options: Node skips the call for them.
  setNoDelay(enable: boolean): number {
    return this.isOpen && !this.isPipe ? native.setNoDelay(this.slot, this.gen, enable) : 0;
  }

  setKeepAlive(enable: boolean, delaySecs: number): number {
    return this.isOpen && !this.isPipe ? native.setKeepAlive(this.slot, this.gen, enable, delaySecs) : 0;
  }

  /** IP_TOS / IPV6_TCLASS by the socket's family: 0 or -errno (EBADF with no descriptor yet, as libuv). */
  setTypeOfService(tos: number): number {
    return this.isOpen ? native.setTypeOfService(this.slot, this.gen, tos) : Err.EBADF;
  }

  /** The TOS / traffic class byte read back from the kernel, or -errno. */
  getTypeOfService(): number {
    return this.isOpen ? native.getTypeOfService(this.slot, this.gen) : Err.EBADF;
  }

  // ---- events from the loop ----

  /** The registry's entry point: one loop event, in this handle's async context. */
  deliver(type: Ev, value: number, buf: Buffer | undefined): void {
    this.#scope.runInAsyncScope(this.onEvent, this, type, value, buf);
  }

  onEvent(type: Ev, value: number, buf: Buffer | undefined): void {
    switch (type) {
      case Ev.Connect:
        this.#set(F_CONNECTING, false);
        this.#sync();
        if (!this.#has(F_CLOSING)) this.onconnect?.(value);
        return;
      case Ev.Data:
        if (this.#has(F_CLOSING)) return;
        this.bytesRead += buf!.length;
        if (!this.#guarded()) this.#onread?.(buf!);
        return;
      case Ev.Eof:
        this.#set(F_EOF, true);
        this.reading = false;
        this.#sync();
        if (!this.#has(F_CLOSING) && !this.#guarded()) this.#onread?.(null);
        return;
      case Ev.ReadError:
        this.reading = false;
        this.#sync();
        if (!this.#has(F_CLOSING) && !this.#guarded()) this.onreaderror?.(value);
        return;
      case Ev.WriteDone: {
        const req = this.#writes?.shift();
        if (req === undefined) return;
        this.writeQueueSize -= req.bytes;
        req.chunks = null; // the loop is done with this memory
        this.#sync();
        if (!req.done) {
          req.done = true;
          // libuv cancels the writes pending at uv_close (ECANCELED): a failure
          // the loop saw for one after close() is not what libuv would report.
          const status = value < 0 && this.#has(F_CLOSING) ? Err.ECANCELED : value;
          if (req.scope === undefined) {
            req.oncomplete(status);
          } else {
            req.scope.runInAsyncScope(req.oncomplete, req, status);
            req.scope.emitDestroy();
          }
        }
        return;
      }
      case Ev.ShutdownDone: {
        const cb = this.#shutdownCb;
        this.#shutdownCb = null;
        this.#sync();
        if (cb && !this.#has(F_SHUTDOWN_CANCELLED)) cb(value);
        return;
      }
      case Ev.Connection:
        if (this.#has(F_CLOSING) || this.onconnection === null) {
          native.closeFd(value);
          return;
        }
        {
          const client = acceptScope.runInAsyncScope(StreamHandle.adopt, StreamHandle, value);
          client.isPipe = this.isPipe;
          this.onconnection(0, client);
        }
        return;
      case Ev.AcceptError:
        if (!this.#has(F_CLOSING)) this.onconnection?.(value, null);
        return;
      case Ev.Closed:
        // Every earlier event of this handle was delivered before this one.
        unregister(this);
        this.#scope.emitDestroy();
        this.#set(F_OPEN, false);
        this.#writes = null;
        this.#shutdownCb = null;
        this.#sync();
        if (this.onNativeClose) {
          const cb = this.onNativeClose;
          this.onNativeClose = null;
          cb();
        }
        return;
    }
  }
}

/** [code, Node errno, description] for a negative errno the core returned. */
export function guessHandleType(fd: number): string {
  loadNative();
  return native.guessHandleType(fd);
}

export function describeErr(err: number): [string, number, string] {
  return systemErrorInfo(errName(err), err);
}
