// args.ts - Node's normalization of connect()/listen() arguments.
//
// (options[, cb]) | (path[, cb]) | ([port][, host][, ...][, cb]); a string
// that is not a non-negative number is a path (a pipe/Unix socket name).

// Named as node:net names its own: NODE_DEBUG=net prints it (createConnection).
export const normalizedArgs = Symbol('normalizedArgs');

export interface NormalizedOptions {
  port?: unknown;
  host?: unknown;
  path?: unknown;
  [key: string]: unknown;
}

export type Normalized = [NormalizedOptions, ((...a: unknown[]) => void) | null] & { [normalizedArgs]?: true };

export function toNumber(x: unknown): number | false {
  const n = Number(x);
  return n >= 0 ? n : false;
}

export function isPipeName(s: unknown): s is string {
  return typeof s === 'string' && toNumber(s) === false;
}

export function normalizeArgs(args: unknown[]): Normalized {
  let arr: Normalized;
  if (args.length === 0) {
    arr = [{}, null];
    arr[normalizedArgs] = true;
    return arr;
  }
  const arg0 = args[0];
  let options: NormalizedOptions = {};
  if (typeof arg0 === 'object' && arg0 !== null) {
    options = arg0 as NormalizedOptions;
  } else if (isPipeName(arg0)) {
    options.path = arg0;
  } else {
    options.port = arg0;
    if (args.length > 1 && typeof args[1] === 'string') options.host = args[1];
  }
  const cb = args[args.length - 1];
  arr = typeof cb === 'function' ? [options, cb as (...a: unknown[]) => void] : [options, null];
  arr[normalizedArgs] = true;
  return arr;
}
