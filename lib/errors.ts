// errors.ts - errors in Node's exact shape.
//
// Two families, as in Node's lib/internal/errors.js:
//  - argument/state errors (`ERR_*`): a TypeError/RangeError/Error whose
//    `code` is an own enumerable property and whose stack and toString() read
//    "TypeError [ERR_X]: message";
//  - system errors: a plain Error with errno (Node's negative number for this
//    platform), code, syscall and, for sockets, address and port.
import { format, getSystemErrorMap, inspect } from 'node:util';

type ErrorCtor = typeof Error | typeof TypeError | typeof RangeError;

/** Builds an `ERR_*` error the way Node's NodeError does. */
export function nodeError(Base: ErrorCtor, code: string, message: string): Error {
  const limit = Error.stackTraceLimit;
  const err = new Base(message);
  // Node shows the code in the stack's first line; set the name only while the
  // stack is captured (V8 formats it lazily from the name at first access).
  Object.defineProperty(err, 'name', { value: `${Base.name} [${code}]`, configurable: true, writable: true });
  void err.stack;
  delete (err as { name?: string }).name;
  Error.stackTraceLimit = limit;
  (err as Error & { code: string }).code = code;
  Object.defineProperty(err, 'toString', {
    value(this: Error) { return `${this.name} [${code}]: ${this.message}`; },
    enumerable: false, writable: true, configurable: true,
  });
  return err;
}

// ---- how Node describes a received value in ERR_INVALID_ARG_TYPE et al. ----

/** "Received type number (5)", "Received null", "Received an instance of Foo" (Node's determineSpecificType). */
export function describeReceived(value: unknown): string {
  return ` Received ${determineSpecificType(value)}`;
}

function determineSpecificType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'bigint':
      return `type bigint (${value}n)`;
    case 'number':
      if (value === 0) return 1 / value === -Infinity ? 'type number (-0)' : 'type number (0)';
      return `type number (${String(value)})`;
    case 'boolean':
      return `type boolean (${value})`;
    case 'symbol':
      return `type symbol (${String(value)})`;
    case 'function':
      return `function ${(value as { name?: string }).name}`;
    case 'object': {
      const ctor = (value as { constructor?: { name?: string } }).constructor;
      if (ctor && 'name' in ctor) return `an instance of ${ctor.name}`;
      return inspect(value, { depth: -1 });
    }
    case 'string': {
      let v = value;
      if (v.length > 28) v = `${v.slice(0, 25)}...`;
      return v.indexOf("'") === -1 ? `type string ('${v}')` : `type string (${JSON.stringify(v)})`;
    }
    default: {
      let shown = inspect(value, { colors: false });
      if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
      return `type ${typeof value} (${shown})`;
    }
  }
}

const kTypes = new Set(['string', 'function', 'number', 'object', 'Function', 'Object', 'boolean', 'bigint', 'symbol']);

function joinList(items: string[]): string {
  if (items.length === 1) return items[0];
  if (items.length === 2) return `${items[0]} or ${items[1]}`;
  return `${items.slice(0, -1).join(', ')}, or ${items[items.length - 1]}`;
}

/** Node's ERR_INVALID_ARG_TYPE message for `name` expecting `expected`. */
export function invalidArgType(name: string, expected: string | string[], actual: unknown): Error {
  const list = Array.isArray(expected) ? expected : [expected];
  const kind = name.endsWith(' argument') ? '' : name.includes('.') ? 'property' : 'argument';
  let msg = kind === '' ? `The ${name} ` : `The "${name}" ${kind} `;
  msg += 'must be ';
  const types: string[] = [];
  const instances: string[] = [];
  const other: string[] = [];
  for (const t of list) {
    if (kTypes.has(t)) types.push(t.toLowerCase());
    else if (/^[A-Z][a-zA-Z0-9]*$/.test(t)) instances.push(t);
    else other.push(t);
  }
  // Node lists a plain object among the instances when there are any.
  const objIdx = types.indexOf('object');
  if (instances.length > 0 && objIdx !== -1) { types.splice(objIdx, 1); instances.push('Object'); }
  if (types.length > 0) {
    msg += types.length > 1 ? `one of type ${joinList(types)}` : `of type ${types[0]}`;
    if (instances.length > 0 || other.length > 0) msg += ' or ';
  }
  if (instances.length > 0) {
    msg += instances.length > 1 ? `an instance of ${joinList(instances)}` : `an instance of ${instances[0]}`;
    if (other.length > 0) msg += ' or ';
  }
  if (other.length > 1) msg += `one of ${joinList(other)}`;
  // Node's article for a lone name with capitals ("an net.BlockList").
  else if (other.length === 1) msg += other[0].toLowerCase() !== other[0] ? `an ${other[0]}` : other[0];
  msg += `.${describeReceived(actual)}`;
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', msg);
}

export function invalidArgValue(name: string, value: unknown, reason = 'is invalid'): Error {
  const kind = name.includes('.') ? 'property' : 'argument';
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  return nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The ${kind} '${name}' ${reason}. Received ${shown}`);
}

export function socketBadPort(name: string, port: unknown, allowZero = true): Error {
  const op = allowZero ? '>=' : '>';
  return nodeError(RangeError, 'ERR_SOCKET_BAD_PORT',
    `${name} should be ${op} 0 and < 65536.${describeReceived(port)}.`);
}

// Node groups the digits of large integers: 9_007_199_254_740_992.
function addNumericalSeparator(digits: string): string {
  let res = '';
  let i = digits.length;
  const start = digits[0] === '-' ? 1 : 0;
  for (; i >= start + 4; i -= 3) res = `_${digits.slice(i - 3, i)}${res}`;
  return `${digits.slice(0, i)}${res}`;
}

export function outOfRange(name: string, range: string, received: unknown): Error {
  let shown: string;
  if (Number.isInteger(received) && Math.abs(received as number) > 2 ** 32) {
    shown = addNumericalSeparator(String(received));
  } else if (typeof received === 'bigint') {
    shown = String(received);
    if (received > 2n ** 32n || received < -(2n ** 32n)) shown = addNumericalSeparator(shown);
    shown += 'n';
  } else {
    shown = inspect(received);
  }
  return nodeError(RangeError, 'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${shown}`);
}

export const simple = {
  serverAlreadyListen: () => nodeError(Error, 'ERR_SERVER_ALREADY_LISTEN', 'Listen method has been called more than once without closing.'),
  serverNotRunning: () => nodeError(Error, 'ERR_SERVER_NOT_RUNNING', 'Server is not running.'),
  socketClosed: () => nodeError(Error, 'ERR_SOCKET_CLOSED', 'Socket is closed'),
  socketConnectionTimeout: () => nodeError(Error, 'ERR_SOCKET_CONNECTION_TIMEOUT', 'Socket connection timeout'),
  socketClosedBeforeConnection: () => nodeError(Error, 'ERR_SOCKET_CLOSED_BEFORE_CONNECTION', 'Socket closed before the connection was established'),
  // Node's form for one group of alternatives: 'The "a" or "b" argument must be specified'.
  missingArgs: (...names: string[]) => nodeError(TypeError, 'ERR_MISSING_ARGS',
    `The ${names.map((n) => `"${n}"`).join(' or ')} argument must be specified`),
  invalidIpAddress: (ip: unknown) => nodeError(TypeError, 'ERR_INVALID_IP_ADDRESS', format('Invalid IP address: %s', ip)),
  invalidAddressFamily: (family: unknown, host: unknown, port: unknown) => Object.assign(
    nodeError(RangeError, 'ERR_INVALID_ADDRESS_FAMILY', `Invalid address family: ${String(family)} ${String(host)}:${String(port)}`),
    { host, port }),
  objectModeUnsupported: (name: string, value: unknown) => invalidArgValue(name, value, 'is not supported'),
  // Node's wording, shared with child_process' send(): only a TCP handle can be reset.
  invalidHandleType: () => nodeError(TypeError, 'ERR_INVALID_HANDLE_TYPE', 'This handle type cannot be sent'),
  ipBlocked: (ip: string) => nodeError(Error, 'ERR_IP_BLOCKED', `IP(${ip}) is blocked by net.BlockList`),
};

/** Node's AbortError (lib/internal/errors.js): code ABORT_ERR, optional cause. */
export class AbortError extends Error {
  code = 'ABORT_ERR';
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}

// ---- system errors ----

let nameToErrno: Map<string, number> | undefined;
let errnoToEntry: Map<number, [string, string]> | undefined;

function systemMaps(): [Map<string, number>, Map<number, [string, string]>] {
  if (!nameToErrno || !errnoToEntry) {
    errnoToEntry = getSystemErrorMap() as Map<number, [string, string]>;
    nameToErrno = new Map();
    for (const [errno, [name]] of errnoToEntry) nameToErrno.set(name, errno);
  }
  return [nameToErrno, errnoToEntry];
}

export interface SystemError extends Error {
  errno: number;
  code: string;
  syscall: string;
  address?: string;
  port?: number;
  localAddress?: string;
  localPort?: number;
}

/**
 * The core reports failures as a negative errno of the platform's C library
 * plus its name (from the addon); Node reports libuv's number for the same
 * name. Returns [code, Node errno, libuv description].
 */
export function systemErrorInfo(name: string, nativeErr: number): [string, number, string] {
  const [byName, byErrno] = systemMaps();
  const errno = byName.get(name) ?? nativeErr;
  const desc = byErrno.get(errno)?.[1] ?? 'unknown error';
  return [name, errno, desc];
}

/**
 * Node's own errno (libuv's UV_* number) for an error name: for values handed
 * to Node itself rather than turned into an error here.
 */
export function nodeErrno(name: string): number {
  return systemMaps()[0].get(name)!;
}

function hostPortDetails(address: string | undefined, port: number | undefined): string {
  if (port && port > 0) return ` ${address}:${port}`;
  if (address) return ` ${address}`;
  return '';
}

/** Node's ExceptionWithHostPort: "connect ECONNREFUSED 127.0.0.1:1". */
export function exceptionWithHostPort(code: string, errno: number, syscall: string,
  address: string | undefined, port: number | undefined, additional?: string): SystemError {
  let details = hostPortDetails(address, port);
  if (additional) details += ` - Local (${additional})`;
  const err = new Error(`${syscall} ${code}${details}`) as SystemError;
  err.errno = errno;
  err.code = code;
  err.syscall = syscall;
  err.address = address;
  if (port) err.port = port;
  return err;
}

/** Node's UVExceptionWithHostPort: "listen EADDRINUSE: address already in use :::80". */
export function uvExceptionWithHostPort(code: string, errno: number, desc: string, syscall: string,
  address: string | undefined, port: number | undefined): SystemError {
  const err = new Error(`${syscall} ${code}: ${desc}${hostPortDetails(address, port)}`) as SystemError;
  err.code = code;
  err.errno = errno;
  err.syscall = syscall;
  err.address = address;
  if (port) err.port = port;
  return err;
}

/** Node's ErrnoException: "read ECONNRESET". */
export function errnoException(code: string, errno: number, syscall: string): SystemError {
  const err = new Error(`${syscall} ${code}`) as SystemError;
  err.errno = errno;
  err.code = code;
  err.syscall = syscall;
  return err;
}

/** A plain Error with a code, as Node's genericNodeError (EPIPE after FIN). */
export function genericNodeError(message: string, props: Record<string, unknown>): Error {
  return Object.assign(new Error(message), props);
}

// ---- node:dgram's own errors ----

export const dgramErrors = {
  badType: () => nodeError(TypeError, 'ERR_SOCKET_BAD_TYPE', 'Bad socket type specified. Valid types are: udp4, udp6'),
  alreadyBound: () => nodeError(Error, 'ERR_SOCKET_ALREADY_BOUND', 'Socket is already bound'),
  notRunning: () => nodeError(Error, 'ERR_SOCKET_DGRAM_NOT_RUNNING', 'Not running'),
  isConnected: () => nodeError(Error, 'ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected'),
  notConnected: () => nodeError(Error, 'ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected'),
  badBufferSize: () => nodeError(TypeError, 'ERR_SOCKET_BAD_BUFFER_SIZE', 'Buffer size must be a positive integer'),
  outOfBounds: (name: string) => nodeError(RangeError, 'ERR_BUFFER_OUT_OF_BOUNDS', `"${name}" is outside of buffer bounds`),
  invalidFdType: (type: string) => nodeError(TypeError, 'ERR_INVALID_FD_TYPE', `Unsupported fd type: ${type}`),
};

export interface SystemErrorContext { errno: number; code: string; message: string; syscall: string }

/**
 * Node's SystemError (ERR_SOCKET_BUFFER_SIZE and kin): "SystemError [CODE]:
 * prefix: syscall returned ECODE (description)", with the context kept as a
 * read-only `info` and errno/syscall as accessors over it, all enumerable.
 */
export function contextSystemError(code: string, prefix: string, ctx: SystemErrorContext): Error {
  const err = nodeError(Error, code, `${prefix}: ${ctx.syscall} returned ${ctx.code} (${ctx.message})`);
  Object.defineProperty(err, 'name', { value: 'SystemError', writable: true, enumerable: false, configurable: true });
  Object.defineProperty(err, 'stack', {
    value: `SystemError [${code}]: ${err.message}${(err.stack ?? '').slice((err.stack ?? '').indexOf('\n'))}`,
    writable: true, enumerable: false, configurable: true,
  });
  Object.defineProperty(err, 'toString', {
    value(this: Error) { return `${this.name} [${code}]: ${this.message}`; },
    enumerable: false, writable: true, configurable: true,
  });
  Object.defineProperty(err, 'info', { value: ctx, enumerable: true, configurable: true, writable: false });
  for (const key of ['errno', 'syscall'] as const) {
    Object.defineProperty(err, key, {
      get() { return ctx[key]; },
      set(v: never) { ctx[key] = v; },
      enumerable: true, configurable: true,
    });
  }
  // Node's SystemError shows its accessors' values when inspected.
  Object.defineProperty(err, inspect.custom, {
    value(this: Error, _depth: number, options: object) {
      return inspect(this, { ...options, getters: true, customInspect: false });
    },
    enumerable: false, writable: true, configurable: true,
  });
  return err;
}
