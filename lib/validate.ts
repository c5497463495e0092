// validate.ts - argument validation with Node's errors and messages.
import { BlockList, isIP } from 'node:net';

import { invalidArgType, invalidArgValue, outOfRange, socketBadPort } from './errors';

export { isIP };

/** Node's validatePort: a number or numeric string in 0..65535 (integers only). */
export function validatePort(port: unknown, name = 'Port', allowZero = true): number {
  if ((typeof port !== 'number' && typeof port !== 'string')
    || (typeof port === 'string' && port.trim().length === 0)
    || +port !== (+port >>> 0)
    || (port as number) > 0xffff
    || (port === 0 && !allowZero)) {
    throw socketBadPort(name, port, allowZero);
  }
  return (port as number) | 0;
}

export function validateNumber(value: unknown, name: string, min?: number, max?: number): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'number', value);
  if ((min != null && value < min) || (max != null && value > max) || ((min != null || max != null) && Number.isNaN(value))) {
    const range = `${min != null ? `>= ${min}` : ''}${min != null && max != null ? ' && ' : ''}${max != null ? `<= ${max}` : ''}`;
    throw outOfRange(name, range, value);
  }
}

export function validateInt32(value: unknown, name: string, min = -2147483648, max = 2147483647): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
}

export function validateFunction(value: unknown, name: string): asserts value is (...args: unknown[]) => unknown {
  if (typeof value !== 'function') throw invalidArgType(name, 'Function', value);
}

export function validateBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'boolean', value);
}

export function validateString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw invalidArgType(name, 'string', value);
}

/** Node's timer duration check (setTimeout on sockets). */
export function getTimerDuration(msecs: unknown, name: string): number {
  validateNumber(msecs, name);
  if (msecs < 0 || !Number.isFinite(msecs)) {
    throw outOfRange(name, 'a non-negative finite number', msecs);
  }
  // Node warns and clamps to 1 above TIMEOUT_MAX (2^31 - 1).
  if (msecs > 2147483647) {
    process.emitWarning(`${msecs} does not fit into a 32-bit signed integer.\nTimer duration was truncated to 2147483647.`,
      'TimeoutOverflowWarning');
    return 2147483647;
  }
  return msecs;
}

export { invalidArgValue };

/** Node's check of options.blockList: node:net's own BlockList class. */
export function validateBlockList(value: unknown, name: string): BlockList {
  const isBlockList = (BlockList as unknown as { isBlockList?: (v: unknown) => boolean }).isBlockList;
  if (isBlockList ? !isBlockList(value) : !(value instanceof BlockList)) {
    throw invalidArgType(name, 'net.BlockList', value);
  }
  return value as BlockList;
}

/** Node's validateUint32: an integer in 0..2^32-1 (1.. when positive). */
export function validateUint32(value: unknown, name: string, positive = false): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  const min = positive ? 1 : 0;
  if (value < min || value > 4294967295) throw outOfRange(name, `>= ${min} && <= 4294967295`, value);
}

/** Node's validateAbortSignal: undefined, or an object with `aborted`. */
export function validateAbortSignal(signal: unknown, name: string): void {
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) {
    throw invalidArgType(name, 'AbortSignal', signal);
  }
}

/** Node's validateObject with its default options: no null, no array, no function. */
export function validateObject(value: unknown, name: string): asserts value is Record<string, unknown> {
  if (value === null || Array.isArray(value) || typeof value !== 'object') throw invalidArgType(name, 'Object', value);
}
