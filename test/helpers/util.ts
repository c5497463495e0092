/* Small bounded async helpers shared by the tests: every wait has a timeout. */
import type { EventEmitter } from 'node:events';
import type * as netTypes from 'node:net';

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves with the event's arguments; rejects after ms with a clear message. */
export function once(emitter: EventEmitter, event: string, ms = 5000, what = ''): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, on);
      reject(new Error(`timed out after ${ms} ms waiting for '${event}'${what ? ` on ${what}` : ''}`));
    }, ms);
    function on(...args: unknown[]): void {
      clearTimeout(timer);
      resolve(args);
    }
    emitter.once(event, on);
  });
}

/** Waits until cond() is true (polling), or rejects after ms. */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(2);
  }
}

/** server.listen(...args) -> the bound port, or rejects with the listen error. */
export function listen(server: netTypes.Server, ...args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for listen')), 5000);
    const onError = (e: Error): void => {
      clearTimeout(timer);
      reject(e);
    };
    server.once('error', onError);
    (server.listen as (...a: unknown[]) => unknown)(...args, () => {
      clearTimeout(timer);
      server.removeListener('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : -1);
    });
  });
}

/** Closes a server and waits for its 'close'. */
export function closeServer(server: netTypes.Server, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for server close')), ms);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A port on which nothing listens (bound with node:net-like `net`, then closed). */
export async function freePort(net: typeof netTypes, host = '127.0.0.1'): Promise<number> {
  const s = net.createServer();
  const p = await listen(s, 0, host);
  await closeServer(s);
  return p;
}

/** Deterministic non-periodic bytes: xorshift128+ seeded per call. */
export function prngBytes(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let s0 = (seed ^ 0x9e3779b9) >>> 0 || 1;
  let s1 = (seed * 0x85ebca6b) >>> 0 || 2;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= x << 11;
    x ^= x >>> 8;
    s1 = (x ^ y ^ (y >>> 19)) >>> 0;
    out.writeUInt32LE((s1 + y) >>> 0, i);
  }
  for (; i < n; i++) out[i] = (s0 + i) & 0xff;
  return out;
}
