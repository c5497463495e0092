/*
 * Helpers for the http/https/tls/ws integration tests: the same scenario runs with node:net
 * and with protonet on either side (server: server.listen() vs protonet.serveHttp(); client:
 * http.Agent vs protonet.Agent, net.connect vs protonet.connect for raw sockets). Everything
 * a test opens is registered with a Cleanup and torn down in afterEach, bounded in time.
 */
import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import * as http from 'node:http';
import type * as netTypes from 'node:net';
import { nodeNet } from './impl';

export type Protonet = typeof import('../../dist/index');
export type Kind = 'node:net' | 'protonet';
export const KINDS: Kind[] = ['node:net', 'protonet'];

let protonetModule: Protonet | undefined;
/** protonet itself (not switched by PROTONET_TEST_IMPL: these tests compare it with node:net). */
export function protonet(): Protonet {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  protonetModule ??= require('protonet') as Protonet;
  return protonetModule;
}

/** The net-like module of a side (for raw sockets). */
export function netOf(kind: Kind): typeof netTypes {
  return kind === 'node:net' ? nodeNet : (protonet() as unknown as typeof netTypes);
}

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** Runs registered teardown functions (last first), each bounded by a timeout. */
export class Cleanup {
  #fns: Array<() => unknown> = [];

  add(fn: () => unknown): void {
    this.#fns.push(fn);
  }

  async run(ms = 3000): Promise<void> {
    const fns = this.#fns.reverse();
    this.#fns = [];
    for (const fn of fns) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.resolve().then(fn).catch(() => undefined),
        new Promise((r) => { timer = setTimeout(r, ms); }),
      ]);
      clearTimeout(timer);
    }
  }

  /** Destroys every connection the server sees, then closes it. */
  server(server: netTypes.Server): void {
    const sockets = new Set<netTypes.Socket>();
    server.on('connection', (s: netTypes.Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    this.add(() => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    }));
  }
}

/** Listens `server` on 127.0.0.1 with the given side: server.listen() or protonet.serveHttp(). */
export function serve(kind: Kind, server: netTypes.Server, cleanup: Cleanup): Promise<number> {
  cleanup.server(server);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for listen')), 5000);
    server.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    const onListening = (): void => {
      clearTimeout(timer);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : -1);
    };
    if (kind === 'node:net') server.listen(0, '127.0.0.1', onListening);
    else protonet().serveHttp(server, 0, '127.0.0.1', onListening);
  });
}

/** An http.Agent of the given side. */
export function agentOf(kind: Kind, opts: http.AgentOptions, cleanup: Cleanup): http.Agent {
  const agent = kind === 'node:net' ? new http.Agent(opts) : new (protonet().Agent)(opts);
  cleanup.add(() => agent.destroy());
  return agent;
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  reusedSocket: boolean;
}

/** One request; `body` (if any) is written in `chunk`-sized writes honouring backpressure. */
export function request(opts: http.RequestOptions, body?: Buffer, chunk = 64 * 1024, ms = 15000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`request ${opts.method ?? 'GET'} ${opts.path} timed out after ${ms} ms`));
    }, ms);
    const req = http.request(opts, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), reusedSocket: req.reusedSocket });
      });
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (!body) {
      req.end();
      return;
    }
    let off = 0;
    const pump = (): void => {
      while (off < body.length) {
        const piece = body.subarray(off, off + chunk);
        off += piece.length;
        if (!req.write(piece)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

/** Writes `data` to a stream in chunks, honouring backpressure; resolves when all is queued. */
export async function writeAll(stream: NodeJS.WritableStream & EventEmitter, data: Buffer, chunk = 64 * 1024): Promise<void> {
  for (let off = 0; off < data.length; off += chunk) {
    if (!stream.write(data.subarray(off, off + chunk))) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => { stream.removeListener('error', onError); resolve(); };
        const onError = (e: Error): void => { stream.removeListener('drain', onDrain); reject(e); };
        stream.once('drain', onDrain);
        stream.once('error', onError);
      });
    }
  }
}

/** What a raw client socket saw: every byte, and how it ended. */
export interface RawOutcome {
  text: string;
  ended: boolean;
  error: string | null;
  /** ms from `start` until 'close'. */
  closedAfter: number;
}

/** Connects a raw socket of the given side, writes `send`, collects until close (or ms). */
export function rawExchange(kind: Kind, port: number, send: string, ms: number, cleanup: Cleanup,
  onData?: (all: string, socket: netTypes.Socket) => void): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = netOf(kind).connect(port, '127.0.0.1');
    cleanup.add(() => socket.destroy());
    const start = Date.now();
    const out: RawOutcome = { text: '', ended: false, error: null, closedAfter: -1 };
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(out);
    }, ms);
    socket.setEncoding('latin1');
    socket.on('connect', () => { if (send) socket.write(send); });
    socket.on('data', (d: string) => {
      out.text += d;
      onData?.(out.text, socket);
    });
    socket.on('end', () => { out.ended = true; });
    socket.on('error', (e: NodeJS.ErrnoException) => { out.error = e.code ?? e.message; });
    socket.on('close', () => {
      clearTimeout(timer);
      out.closedAfter = Date.now() - start;
      resolve(out);
    });
  });
}

/** Drops headers whose values change from run to run (Date), for comparisons. */
export function stableHttpText(text: string): string {
  return text.replace(/\r\nDate: [^\r]*/gi, '\r\nDate: <date>');
}

/**
 * Runs a test body with uncaught exceptions turned into its failure (an exception thrown
 * inside http/tls/ws code on top of a socket is the implementation's behaviour under test);
 * the process's own handlers come back when the cleanup has run (so late throws from objects
 * of this test are still caught and do not fail whichever test runs next).
 */
export function guarded<T>(cleanup: Cleanup, body: () => Promise<T>): Promise<T> {
  const saved = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  let fail: (e: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => { fail = reject; });
  const onUncaught = (e: unknown): void => {
    if (e instanceof Error) e.message = `uncaught exception: ${e.message}`;
    fail(e);
  };
  process.on('uncaughtException', onUncaught);
  cleanup.add(() => {
    process.removeListener('uncaughtException', onUncaught);
    for (const l of saved) process.on('uncaughtException', l as NodeJS.UncaughtExceptionListener);
  });
  return Promise.race([body(), failed]);
}

/** Listens `server` on a Unix socket path with the given side. */
export function servePath(kind: Kind, server: netTypes.Server, sockPath: string, cleanup: Cleanup): Promise<void> {
  cleanup.server(server);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for listen')), 5000);
    server.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    const onListening = (): void => {
      clearTimeout(timer);
      resolve();
    };
    if (kind === 'node:net') server.listen(sockPath, onListening);
    else protonet().serveHttp(server, sockPath, onListening);
  });
}
