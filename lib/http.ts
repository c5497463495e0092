// http.ts - Node's http (and https/tls) servers and clients on protonet sockets.
//
// Node's http.Server is a net.Server that reacts to 'connection' events; it
// never needs its own listening handle to serve a socket. serveHttp() listens
// with a protonet Server and feeds each accepted socket to the http server,
// and makes the http server behave as if it were listening itself: listening,
// address(), close(), getConnections(), ref()/unref() and the 'listening',
// 'error', 'close' events all work on it as they do after server.listen().
//
// On the client side, Agent is an http.Agent whose createConnection() is
// protonet's connect(), so http.request({ agent }) runs over protonet.
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import { Server as RuntimeNetServer } from 'node:net';
import type { Duplex } from 'node:stream';

import { invalidArgValue, nodeErrno, simple } from './errors';
import { serveForeignServer, type Served } from './serve_foreign';
import { Server, type ListenOptions } from './server';
import { Socket, type SocketOptions, type TcpConnectOptions } from './socket';
import type { NameInfo } from './stream_handle';

/** The parts of node:net's Server that its own methods run on (lib/net.js). */
interface NetServerInternals {
  _handle: unknown;
  _connections: number;
  _unref?: boolean;
  _pipeName?: string;
  _emitCloseIfDrained(): void;
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  /** seconds, as net.Server stores it */
  keepAliveInitialDelay?: number;
  highWaterMark?: number;
}

const kServedBy = Symbol('protonet.servedBy');

/**
 * Stands in for the listening handle of the served server: node:net's
 * Server.prototype.close/ref/unref/listening call these.
 */
class PipeListenerAdapter {
  protected readonly listener: Server;

  constructor(listener: Server) {
    this.listener = listener;
  }

  close(): void {
    if (this.listener.listening) this.listener.close();
  }

  ref(): void {
    this.listener.ref();
  }

  unref(): void {
    this.listener.unref();
  }
}

/**
 * For a TCP listener, also getsockname(): net.Server.prototype.address() calls it (for a
 * Unix socket, node:net has no getsockname and address() returns server._pipeName).
 */
class TcpListenerAdapter extends PipeListenerAdapter {
  /** Fills `out`, returns 0 or a negative errno. */
  getsockname(out: Partial<NameInfo>): number {
    const addr = this.listener.address();
    // Node's own number: node:net turns it into the error (not bound yet).
    if (addr === null || typeof addr === 'string') return nodeErrno('EINVAL');
    Object.assign(out, addr);
    return 0;
  }
}

/** The listen() argument forms accepted after the server: node:net's. */
export type ServeListenArgs =
  | [port?: number | string | null, hostname?: string, backlog?: number, listeningListener?: () => void]
  | [port?: number | string | null, hostname?: string, listeningListener?: () => void]
  | [port?: number | string | null, backlog?: number, listeningListener?: () => void]
  | [port?: number | string | null, listeningListener?: () => void]
  | [options: ListenOptions, listeningListener?: () => void];

/**
 * Serves a node:net-based server (http.Server, https.Server, tls.Server, an
 * http2 server, or a plain net.Server with a 'connection' listener) on a
 * protonet listener: `serveHttp(server, ...listenArgs)` is `server.listen(...listenArgs)`
 * with the sockets running on protonet.
 *
 * - Every accepted protonet socket is handed over with `server.emit('connection', socket)`;
 *   the protonet listener takes its options (allowHalfOpen, noDelay, keepAlive,
 *   keepAliveInitialDelay, pauseOnConnect, highWaterMark) from `server`.
 * - `server.listening`, `server.address()`, `server.getConnections()`, `server.ref()`,
 *   `server.unref()`, `server.maxConnections` work as after `server.listen()`.
 * - 'listening' and 'error' of the listener are emitted on `server` (a listen callback
 *   becomes a once('listening') listener of `server`, as with server.listen()).
 * - `server.close()` closes the listener; `server` emits 'close' once it and every
 *   connection it was fed are closed (node:net's rule). Closing the returned listener
 *   directly closes `server` too.
 * - Bun's http.Server is not a net.Server: the same is done there by serve_foreign.ts. Bun's
 *   https.Server cannot be served (it does TLS in Bun.serve; see docs/compatibility.md, "Platforms and runtimes", for the way).
 *
 * Returns the protonet listener.
 */
export function serveHttp(server: net.Server, ...args: ServeListenArgs): Server {
  const target = server as net.Server & NetServerInternals & { [kServedBy]?: Server };
  if (target._handle || target[kServedBy]?.listening || (!isNetServer(server) && server.listening)) {
    throw simple.serverAlreadyListen();
  }
  if (!isNetServer(server) && server instanceof https.Server) {
    // Bun's https.Server does its TLS inside Bun.serve: a socket handed to it
    // would be answered in plain HTTP, so every handshake would fail.
    throw invalidArgValue('server', server, 'is an https.Server of a runtime that does its TLS in its own listener: '
      + 'serve a tls.Server whose secure sockets go to an http.Server (\'connection\') instead');
  }

  const listener = new Server({
    allowHalfOpen: Boolean(target.allowHalfOpen),
    pauseOnConnect: Boolean(target.pauseOnConnect),
    noDelay: Boolean(target.noDelay),
    keepAlive: Boolean(target.keepAlive),
    keepAliveInitialDelay: (target.keepAliveInitialDelay ?? 0) * 1000,
    ...(typeof target.highWaterMark === 'number' ? { highWaterMark: target.highWaterMark } : {}),
  });
  // One maxConnections for both: the listener drops (and emits 'drop' on server).
  Object.defineProperty(listener, 'maxConnections', {
    configurable: true,
    enumerable: true,
    get: () => server.maxConnections,
    set: (value: number) => { server.maxConnections = value; },
  });
  target[kServedBy] = listener;
  const served = isNetServer(server) ? serveNetServer(target, listener) : serveForeignServer(server, listener);

  listener.on('drop', (info: unknown) => server.emit('drop', info));
  listener.on('connection', (socket: Socket) => {
    socket.server = server;
    served.connected(socket);
    server.emit('connection', socket);
  });

  const last = args[args.length - 1];
  const listenArgs: unknown[] = typeof last === 'function' ? args.slice(0, -1) : [...args];
  if (typeof last === 'function') server.once('listening', last);
  if (target._unref) listener.unref();
  try {
    (listener.listen as (...a: unknown[]) => Server)(...listenArgs);
  } catch (err) {
    // Argument errors throw synchronously, as server.listen() does.
    served.listenThrew();
    if (typeof last === 'function') server.removeListener('listening', last);
    throw err;
  }
  return listener;
}

/**
 * Whether `server` is a net.Server of the running runtime. Node's (and Deno's) http.Server
 * is one; Bun's is not (it is an EventEmitter over Bun.serve), so its listening, address(),
 * close() and connection count are served by serveForeignServer().
 */
function isNetServer(server: net.Server): boolean {
  return server instanceof RuntimeNetServer;
}

/**
 * A node:net Server: its own listening, address(), close(), ref()/unref() and
 * getConnections() run on the handle adapter and on its _connections count.
 */
function serveNetServer(target: net.Server & NetServerInternals, listener: Server): Served {
  let adapter: PipeListenerAdapter = new TcpListenerAdapter(listener);
  // Node's listen() sets the handle synchronously; so do we, so close() works at once.
  target._handle = adapter;

  let listening = false;
  listener.on('listening', () => {
    listening = true;
    const addr = listener.address();
    if (typeof addr === 'string') {
      target._pipeName = addr;
      if (target._handle === adapter) target._handle = adapter = new PipeListenerAdapter(listener);
    }
    target.emit('listening');
  });
  listener.on('error', (err: Error) => {
    // A failed listen leaves the server not listening, as in node:net.
    if (!listening && target._handle === adapter) target._handle = null;
    target.emit('error', err);
  });
  listener.on('close', () => {
    // The listener was closed directly: close the served server as well.
    if (target._handle === adapter) target.close();
  });
  return {
    connected(socket: Socket): void {
      target._connections++;
      socket.once('close', () => {
        target._connections--;
        target._emitCloseIfDrained();
      });
    },
    listenThrew(): void {
      target._handle = null;
    },
  };
}

/** The protonet listener serving `server` (from serveHttp), or null. */
export function listenerOf(server: net.Server): Server | null {
  return (server as { [kServedBy]?: Server })[kServedBy] ?? null;
}

/**
 * Options http.request() / an http.Agent hand to createConnection (Node's), with the socket
 * options protonet's connect() also reads.
 */
export type HttpConnectOptions = http.ClientRequestArgs & Pick<SocketOptions, 'allowHalfOpen' | 'noDelay' | 'keepAlive' | 'keepAliveInitialDelay'>;

/**
 * An http.Agent whose connections are protonet sockets:
 * `http.request({ host, port, agent: new protonet.Agent({ keepAlive: true }) })`.
 * Pooling, keep-alive and scheduling are http.Agent's own.
 */
export class Agent extends http.Agent {
  // http.Agent calls createConnection(options, oncreate) and uses the returned socket.
  override createConnection(options: HttpConnectOptions, _callback?: (err: Error | null, socket: Duplex) => void): Socket {
    return createHttpConnection(options);
  }
}

/**
 * protonet.connect() for options meant for http.request(): the `createConnection` option of
 * http.request() and of ws's WebSocket, and what Agent uses. Unlike connect(), it takes
 * `path` for the request path (Node's http passes it along), not a Unix socket path: that
 * one is `socketPath`, as in http.request().
 */
export function createHttpConnection(options: HttpConnectOptions, _oncreate?: (err: Error | null, socket: Duplex) => void): Socket {
  const opts: Record<string, unknown> = { ...options };
  if (opts.socketPath) opts.path = opts.socketPath;
  else delete opts.path;
  const socket = new Socket(opts as SocketOptions);
  if (typeof opts.timeout === 'number' && opts.timeout) socket.setTimeout(opts.timeout);
  return socket.connect(opts as unknown as TcpConnectOptions);
}
