// connect.ts - the connect sequence of a Socket: node:net's internalConnect
// (one address, or a Unix socket path) and internalConnectMultiple (several
// addresses tried in turn: autoSelectFamily).
//
// Each attempt is an explicit context (ConnectAttempt) and every attempt's
// outcome goes through ONE handler (onconnect): success continues the
// socket's afterConnect; a failure is built once (connectError) and either
// ends the socket or, for one of several addresses, moves to the next.
// What the sequence needs from the socket is ConnectHost; the socket's own
// state stays in socket.ts.
import { Err } from './binding';
import { NET_DEBUG, debug } from './debug';
import { exceptionWithHostPort, simple, type SystemError } from './errors';
import { describeErr, type StreamHandle } from './stream_handle';

export interface ConnectTarget { address: string; family: 4 | 6 }

/** What the connect sequence uses of the socket it connects. */
export interface ConnectHost {
  readonly destroyed: boolean;
  readonly connecting: boolean;
  readonly _aborted: boolean;
  autoSelectFamilyAttemptedAddresses: string[];
  emit(event: string, ...args: unknown[]): boolean;
  destroy(err?: Error): void;
  _getsockname(): { address?: string; port?: number };
  /** The socket's handle; `fresh`: close it and make a new one first (the next address). */
  handle(fresh?: boolean): StreamHandle;
  /** The adopted BoundSocket's fd, handed over (-1 when there is none). */
  takeBoundFd(): number;
  /** options.blockList denies this remote address. */
  blocked(address: string, family: 4 | 6): boolean;
  /** Node's afterConnect on success. */
  afterConnect(): void;
  /** The attempt timer of the address being tried (null: none any more); the socket cancels it on destroy. */
  setAttemptTimer(timer: NodeJS.Timeout | null): void;
}

/** One attempt: where it goes, what its errors say, and (of several) how the sequence goes on. */
interface ConnectAttempt {
  address: string;
  port: number | undefined;
  family: 4 | 6 | undefined;
  /** The local address and port it binds to, when given (errors carry them). */
  local?: string;
  localPort?: number;
  /** The "- Local (ip:port)" part of the error message. */
  details?: string;
  multiple?: { errors: SystemError[]; next(canceled?: boolean): void; timer: NodeJS.Timeout | null };
}

/** The error a failed attempt reports, with its local address and port when it bound to one. */
function connectError(a: ConnectAttempt, status: number): SystemError {
  const ex = sysHostPort(status, 'connect', a.address, a.port, a.details);
  if (a.details) {
    ex.localAddress = a.local;
    ex.localPort = a.localPort;
  }
  return ex;
}

// The one completion of every attempt (the handle's onconnect).
function onconnect(host: ConnectHost, a: ConnectAttempt, status: number): void {
  const m = a.multiple;
  if (m) {
    // Node prints libuv's number (on Windows not the C library's errno).
    if (NET_DEBUG) {
      debug('connect/multiple: connection attempt to %s:%s completed with status %s', a.address, a.port,
        status === 0 ? 0 : describeErr(status)[1]);
    }
    if (m.timer) clearTimeout(m.timer);
    host.setAttemptTimer(null);
  }
  if (host.destroyed) return;
  if (NET_DEBUG && (!m || status === 0)) debug('afterConnect');
  if (status === 0) {
    host.afterConnect();
    return;
  }
  const ex = connectError(a, status);
  m?.errors.push(ex);
  host.emit('connectionAttemptFailed', a.address, a.port, a.family, ex);
  if (!m) host.destroy(ex);
  else if (host.connecting) m.next(status === Err.ECANCELED);
}

function watch(host: ConnectHost, handle: StreamHandle, a: ConnectAttempt): void {
  handle.onconnect = (status) => onconnect(host, a, status);
}

/** Node's internalConnect for a pipe: synchronous, 'connectionAttempt' at once; the outcome always comes back asynchronously. */
export function connectPipe(host: ConnectHost, path: string): void {
  const handle = host.handle();
  watch(host, handle, { address: path, port: undefined, family: undefined });
  if (NET_DEBUG) debug('connect: attempting to connect to %s:%d (addressType: %d)', path, undefined, undefined);
  host.emit('connectionAttempt', path, undefined, undefined);
  const fd = host.takeBoundFd();
  const err = fd >= 0 ? handle.connectPathFd(fd, path) : handle.connectPath(path);
  // Refused at once (a path too long for the running Node): destroyed now,
  // with Node's "Local" detail, which for an unnamed Unix socket reads
  // "undefined:undefined".
  if (err !== 0) {
    const name = host._getsockname();
    host.destroy(sysHostPort(err, 'connect', path, undefined, `${name.address}:${name.port}`));
  }
}

/**
 * One target: Node's internalConnect (bind errors as 'bind', no attempt
 * event for them). Several: Node's internalConnectMultiple: each attempt
 * that fails or outlasts `attemptTimeout` (ETIMEDOUT) moves to the next;
 * when all fail, an AggregateError of every attempt's error.
 */
export function internalConnect(host: ConnectHost, targets: ConnectTarget[], port: number,
  localAddress: string | undefined, localPort: number | undefined, attemptTimeout: number): void {
  if (targets.length === 1) {
    connectOne(host, targets[0], port, localAddress, localPort);
    return;
  }
  host.autoSelectFamilyAttemptedAddresses = [];
  const errors: SystemError[] = [];
  let index = 0;

  const next = (canceled = false): void => {
    if (host._aborted) return;
    if (canceled || index === targets.length) {
      host.destroy(errors.length === 0 ? simple.socketConnectionTimeout() : nodeAggregateError(errors));
      return;
    }
    const current = index++;
    const { address, family } = targets[current];
    const handle = host.handle(current > 0);
    const local = localPort ? (family === 4 ? '0.0.0.0' : '::') : undefined;
    const a: ConnectAttempt = {
      address, port, family, local, localPort, details: local ? `${local}:${localPort}` : undefined,
      multiple: { errors, next, timer: null },
    };
    watch(host, handle, a);
    // A blocked address is an attempt that failed without being tried.
    if (host.blocked(address, family)) {
      const ex = simple.ipBlocked(address);
      errors.push(ex as SystemError);
      host.emit('connectionAttemptFailed', address, port, family, ex);
      next();
      return;
    }
    if (NET_DEBUG && local) {
      debug('connect/multiple: binding to localAddress: %s and localPort: %d (addressType: %d)', local, localPort, family);
    }
    const err = handle.connect(address, port, local, localPort);
    if (err && local && isBindError(err)) {
      errors.push(sysHostPort(err, 'bind', local, localPort));
      next();
      return;
    }
    if (NET_DEBUG) debug('connect/multiple: attempting to connect to %s:%d (addressType: %d)', address, port, family);
    host.emit('connectionAttempt', address, port, family);
    host.autoSelectFamilyAttemptedAddresses.push(`${address}:${port}`);
    if (err) {
      const ex = sysHostPort(err, 'connect', address, port, a.details);
      errors.push(ex);
      host.emit('connectionAttemptFailed', address, port, family, ex);
      next();
      return;
    }
    if (current < targets.length - 1) {
      if (NET_DEBUG) debug('connect/multiple: setting the attempt timeout to %d ms', attemptTimeout);
      const timer = setTimeout(() => {
        if (NET_DEBUG) debug('connect/multiple: connection to %s:%s timed out', address, port);
        host.setAttemptTimer(null);
        host.emit('connectionAttemptTimeout', address, port, family);
        handle.onconnect = null;
        errors.push(connectError(a, Err.ETIMEDOUT));
        handle.close();
        if (host.connecting) next();
      }, attemptTimeout);
      timer.unref();
      a.multiple!.timer = timer;
      host.setAttemptTimer(timer);
    }
  };
  next();
}

function connectOne(host: ConnectHost, target: ConnectTarget, port: number, localAddress: string | undefined,
  localPort: number | undefined): void {
  const { address, family } = target;
  const handle = host.handle();
  const local = localAddress || localPort ? (localAddress || (family === 4 ? '0.0.0.0' : '::')) : undefined;
  const details = local && localPort ? `${local}:${localPort}` : undefined;
  watch(host, handle, { address, port, family, local, localPort, details });
  // Node checks the blockList after 'connectionAttempt', before connecting.
  // Node binds before that; the core binds and connects in one call, so a
  // blocked address whose local address cannot be bound fails here as
  // blocked, where Node reports the bind error.
  if (host.blocked(address, family)) {
    host.emit('connectionAttempt', address, port, family);
    host.destroy(simple.ipBlocked(address));
    return;
  }
  // The core binds and connects in one call; a bind failure is told apart
  // by its errno (what bind(2) can answer) so it is reported as Node's
  // 'bind' error, before any 'connectionAttempt'.
  if (NET_DEBUG && local) {
    debug('connect: binding to localAddress: %s and localPort: %d (addressType: %d)', local, localPort, family);
  }
  const fd = host.takeBoundFd();
  const err = fd >= 0 ? handle.connectFd(fd, address, port) : handle.connect(address, port, local, localPort);
  if (err && local && isBindError(err)) {
    host.destroy(sysHostPort(err, 'bind', local, localPort));
    return;
  }
  if (NET_DEBUG) debug('connect: attempting to connect to %s:%d (addressType: %d)', address, port, family);
  host.emit('connectionAttempt', address, port, family);
  if (err) {
    const name = host._getsockname();
    const sockDetails = name.address !== undefined ? `${name.address}:${name.port}` : undefined;
    host.destroy(sysHostPort(err, 'connect', address, port, sockDetails));
  }
}

function sysHostPort(err: number, syscall: string, address: string, port: number | undefined, details?: string): SystemError {
  const [code, errno] = describeErr(err);
  return exceptionWithHostPort(code, errno, syscall, address, port, details);
}

// Node's NodeAggregateError: an AggregateError with an empty message whose
// code is the first error's.
function nodeAggregateError(errors: SystemError[]): Error {
  const err = new AggregateError(errors) as AggregateError & { code?: string };
  err.code = errors[0]?.code;
  return err;
}

// What bind(2) answers for a local address/port it cannot take; connect(2)
// on a fresh socket answers these only in cases Node reports as bind too.
function isBindError(err: number): boolean {
  return err === Err.EADDRINUSE || err === Err.EADDRNOTAVAIL || err === Err.EACCES || err === Err.EINVAL;
}
