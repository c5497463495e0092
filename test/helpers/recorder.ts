/*
 * Recorder: per-object event logs with normalized arguments, for comparing node:net and
 * protonet side by side.
 *
 * Events are captured by wrapping the object's own `emit` (not by adding listeners), so
 * recording never changes behaviour: no 'data' listener that would switch a socket into
 * flowing mode, no 'readable' listener, no listener counts changed. One no-op 'error'
 * listener is added so that an error is recorded instead of crashing the run (the same on
 * both sides).
 *
 * Normalization: ephemeral ports become labels ('PORT', 'PORT2', ... registered by the
 * scenario with rec.port(); any other port number becomes 'EPHEMERAL'); errors become
 * {kind, name, message, code, errno, syscall, address, port, ...}; consecutive 'data'
 * events are coalesced into one entry with the total length (and the text when short),
 * because chunk boundaries are not deterministic; for the same reason runs of 'readable'
 * (which stream internals emit per chunk even without listeners) collapse into one, and a
 * 'readable' between two 'data' events is folded away.
 */
import { createHash, Hash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { NetLike } from './impl';

export type Entry = unknown[];

export interface TrackOptions {
  /** Event names not to record on this object (e.g. 'drain' when its interleaving is racy). */
  ignore?: string[];
  /** Record each 'data' chunk as its own entry (only where chunking is deterministic). */
  chunks?: boolean;
  /** Do not record 'data' in the sequence; append one ['data(total)', ...] entry at the end. */
  dataTotal?: boolean;
  /** Do not require this object to have emitted 'close' (default: required). */
  noClose?: boolean;
}

interface DataAcc {
  kind: 'buffer' | 'string';
  length: number;
  text: string;
  hash: Hash;
  chunks: number;
}

interface Tracked {
  name: string;
  obj: EventEmitter;
  opts: TrackOptions;
  closed: boolean;
  logged: boolean;
}

const TEXT_LIMIT = 256;
const IGNORED_ALWAYS = new Set(['newListener', 'removeListener']);

export class Recorder {
  readonly logs: Record<string, Entry[]> = {};
  private readonly tracked: Tracked[] = [];
  private readonly ports = new Map<number, string>();
  private readonly dataAcc = new Map<Entry, DataAcc>();
  private readonly totals = new Map<string, DataAcc>();
  private frozen = false;
  private closeWaiters: Array<() => void> = [];

  constructor(readonly net: NetLike) {}

  /** Registers an ephemeral port under a stable label; returns the label. */
  port(p: number, label?: string): string {
    const existing = this.ports.get(p);
    if (existing) return existing;
    const l = label ?? (this.ports.size === 0 ? 'PORT' : `PORT${this.ports.size + 1}`);
    this.ports.set(p, l);
    return l;
  }

  /**
   * Registers `p` under `label` even if it was seen before: for a scenario that closes
   * each server before the next listens, where the kernel may hand the same port out again.
   */
  portAgain(p: number, label: string): string {
    this.ports.set(p, label);
    return label;
  }

  /** A port value as it should appear in a log. */
  normPort(p: unknown): unknown {
    if (typeof p !== 'number' || !Number.isInteger(p) || p <= 0) return p;
    return this.ports.get(p) ?? 'EPHEMERAL';
  }

  normMessage(msg: string): string {
    let out = msg;
    for (const [p, l] of this.ports) {
      out = out.replace(new RegExp(`(?<=[:\\s(])${p}(?!\\d)`, 'g'), l);
    }
    return out;
  }

  normAddressInfo(a: unknown): unknown {
    if (a === null || typeof a !== 'object') return a;
    const o = a as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) {
      out[k] = /port$/i.test(k) ? this.normPort(o[k]) : this.normValue(o[k]);
    }
    return out;
  }

  normError(e: unknown): unknown {
    if (!(e instanceof Error)) return { notAnError: this.normValue(e) };
    const err = e as Error & Record<string, unknown>;
    const out: Record<string, unknown> = {
      kind: baseKind(err),
      name: err.name,
      message: this.normMessage(err.message),
    };
    for (const k of ['code', 'errno', 'syscall', 'address', 'port', 'hostname', 'localAddress', 'localPort', 'info']) {
      if (k in err && err[k] !== undefined) {
        out[k] = k === 'port' || k === 'localPort' ? this.normPort(err[k]) : this.normValue(err[k]);
      }
    }
    if (e instanceof AggregateError) out.errors = e.errors.map((x) => this.normError(x));
    return out;
  }

  normValue(v: unknown): unknown {
    if (v === null || v === undefined) return v;
    if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : v;
    if (typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'function') return '[function]';
    if (v instanceof Error) return this.normError(v);
    if (Buffer.isBuffer(v)) return { buffer: v.length <= TEXT_LIMIT ? v.toString('hex') : `len ${v.length}` };
    if (v instanceof this.net.Socket) return '[Socket]';
    if (v instanceof this.net.Server) return '[Server]';
    if (Array.isArray(v)) return v.map((x) => this.normValue(x));
    if (typeof v === 'object') {
      const ctor = (v as object).constructor?.name;
      if (ctor && ctor !== 'Object') return `[${ctor}]`;
      return this.normAddressInfo(v);
    }
    return String(v);
  }

  /**
   * Starts logging an object's events under `name` (a '#2', '#3' suffix is added when the
   * name is taken) and registers it for cleanup. Returns the name used.
   */
  track(name: string, obj: EventEmitter, opts: TrackOptions = {}): string {
    let unique = name;
    for (let i = 2; unique in this.logs; i++) unique = `${name}#${i}`;
    this.logs[unique] = [];
    const t: Tracked = { name: unique, obj, opts, closed: false, logged: true };
    this.tracked.push(t);
    this.wrap(t);
    obj.on('error', () => {});
    return unique;
  }

  /** Registers an object for cleanup only (no log). */
  own<T extends EventEmitter>(obj: T): T {
    const t: Tracked = { name: '', obj, opts: { noClose: true }, closed: false, logged: false };
    this.tracked.push(t);
    obj.on('error', () => {});
    obj.once('close', () => {
      t.closed = true;
    });
    return obj;
  }

  /** Adds a scenario-defined entry ['#label', ...values] to an object's log. */
  note(name: string, label: string, ...values: unknown[]): void {
    if (this.frozen) return;
    const log = (this.logs[name] ??= []);
    log.push([`#${label}`, ...values.map((v) => this.normValue(v))]);
  }

  /** A callback that notes its arguments (e.g. a write or close callback). */
  cb(name: string, label: string): (...args: unknown[]) => void {
    return (...args: unknown[]) => {
      this.note(name, label, ...args.map((a) => (a instanceof Error ? this.normError(a) : a)));
    };
  }

  /** Runs fn and notes what it returned or threw. */
  attempt(name: string, label: string, fn: () => unknown): unknown {
    try {
      const r = fn();
      this.note(name, label, 'returned', r);
      return r;
    } catch (e) {
      this.note(name, label, 'threw', this.normError(e));
      return undefined;
    }
  }

  private wrap(t: Tracked): void {
    const obj = t.obj as EventEmitter & { emit: (ev: string | symbol, ...args: unknown[]) => boolean };
    const orig = obj.emit;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const rec = this;
    obj.emit = function (this: EventEmitter, ev: string | symbol, ...args: unknown[]): boolean {
      if (typeof ev === 'string') rec.record(t, ev, args);
      return orig.call(this, ev, ...args);
    };
  }

  private record(t: Tracked, ev: string, args: unknown[]): void {
    if (ev === 'close') {
      t.closed = true;
      const w = this.closeWaiters;
      this.closeWaiters = [];
      for (const f of w) f();
    }
    if (this.frozen || IGNORED_ALWAYS.has(ev) || t.opts.ignore?.includes(ev)) return;
    const log = this.logs[t.name];
    if (ev === 'data') {
      const chunk = args[0] as Buffer | string;
      if (t.opts.dataTotal) {
        let acc = this.totals.get(t.name);
        if (!acc) this.totals.set(t.name, (acc = newAcc(chunk)));
        addChunk(acc, chunk);
        return;
      }
      let last = log[log.length - 1];
      // 'readable' between two 'data' entries only reflects chunking: fold it away.
      const prev = log[log.length - 2];
      if (!t.opts.chunks && last && last[0] === 'readable' && prev && prev[0] === 'data' && this.dataAcc.has(prev)) {
        log.pop();
        last = prev;
      }
      if (!t.opts.chunks && last && last[0] === 'data' && this.dataAcc.has(last)) {
        addChunk(this.dataAcc.get(last)!, chunk);
        return;
      }
      const entry: Entry = ['data'];
      const acc = newAcc(chunk);
      addChunk(acc, chunk);
      this.dataAcc.set(entry, acc);
      log.push(entry);
      return;
    }
    // Runs of 'readable' (emitted by stream internals once per chunk) are chunk-dependent.
    if (ev === 'readable' && !t.opts.chunks && log.length > 0 && log[log.length - 1][0] === 'readable') return;
    log.push([ev, ...this.normArgs(ev, args)]);
  }

  private normArgs(ev: string, args: unknown[]): unknown[] {
    switch (ev) {
      case 'error':
        return [this.normError(args[0])];
      case 'lookup':
        return [args[0] ? this.normError(args[0]) : args[0], args[1], args[2], args[3]];
      case 'connectionAttempt':
      case 'connectionAttemptTimeout':
        return [args[0], this.normPort(args[1]), args[2]];
      case 'connectionAttemptFailed':
        return [args[0], this.normPort(args[1]), args[2], this.normError(args[3])];
      case 'connection':
        return [args[0] instanceof this.net.Socket ? '[Socket]' : this.normValue(args[0])];
      case 'drop':
        return [this.normAddressInfo(args[0])];
      default:
        return args.map((a) => this.normValue(a));
    }
  }

  /** Stops recording; later events are not logged (they are not deterministic). */
  freeze(): void {
    this.frozen = true;
  }

  /** Waits until every tracked object that must close has emitted 'close', or ms elapse. */
  async waitClosed(ms: number): Promise<string[]> {
    const pending = (): string[] =>
      this.tracked.filter((t) => t.logged && !t.opts.noClose && !t.closed).map((t) => t.name);
    const deadline = Date.now() + ms;
    while (pending().length > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.closeWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return pending();
  }

  /** Names of logged objects that must close. */
  mustClose(): string[] {
    return this.tracked.filter((t) => t.logged && !t.opts.noClose).map((t) => t.name);
  }

  /** Destroys every socket and closes every server this recorder knows; bounded. */
  async cleanup(ms = 2000): Promise<void> {
    const waits: Array<Promise<void>> = [];
    for (const t of this.tracked) {
      const o = t.obj as EventEmitter & {
        destroy?: () => void;
        close?: () => void;
        listening?: boolean;
        destroyed?: boolean;
      };
      if (t.closed) continue;
      waits.push(
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          o.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          try {
            if (typeof o.destroy === 'function') {
              if (o.destroyed) {
                clearTimeout(timer);
                resolve();
              } else o.destroy();
            } else if (typeof o.close === 'function') o.close();
            else {
              clearTimeout(timer);
              resolve();
            }
          } catch {
            clearTimeout(timer);
            resolve();
          }
        }),
      );
    }
    await Promise.all(waits);
  }

  /** The logs, with coalesced data entries finalized. */
  result(): Record<string, Entry[]> {
    const out: Record<string, Entry[]> = {};
    for (const [name, log] of Object.entries(this.logs)) {
      out[name] = log.map((e) => {
        const acc = this.dataAcc.get(e);
        return acc ? ['data', summarize(acc)] : e;
      });
      const total = this.totals.get(name);
      if (total) out[name].push(['data(total)', summarize(total)]);
    }
    return out;
  }
}

function newAcc(chunk: Buffer | string): DataAcc {
  return { kind: typeof chunk === 'string' ? 'string' : 'buffer', length: 0, text: '', hash: createHash('sha256'), chunks: 0 };
}

function addChunk(acc: DataAcc, chunk: Buffer | string): void {
  const kind = typeof chunk === 'string' ? 'string' : 'buffer';
  if (kind !== acc.kind) acc.kind = 'mixed' as 'buffer';
  acc.length += chunk.length;
  acc.chunks++;
  if (acc.text.length <= TEXT_LIMIT) acc.text += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
  acc.hash.update(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
}

function summarize(acc: DataAcc): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: acc.kind, length: acc.length };
  if (acc.length <= TEXT_LIMIT) out.text = acc.text;
  else out.sha256 = acc.hash.copy().digest('hex').slice(0, 16);
  return out;
}

function baseKind(e: Error): string {
  for (const C of [RangeError, TypeError, SyntaxError, AggregateError] as const) {
    if (e instanceof C) return C.name;
  }
  return 'Error';
}
