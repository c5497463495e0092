// serve_foreign.ts - serveHttp() for an http.Server that is not a net.Server.
//
// Bun's http.Server is an EventEmitter over Bun.serve, not a net.Server: its
// listening, address(), close(), ref()/unref() and getConnections() read Bun's
// own listener, which a server fed by serveHttp() does not have. So that it
// behaves as after server.listen() (what serveHttp() promises), those five are
// given to the served server itself as own properties that answer from the
// protonet listener, with node:net's rules:
//   - close(cb) closes the listener; 'close' is emitted once it is closed and
//     every connection it fed the server has closed; cb gets
//     ERR_SERVER_NOT_RUNNING when the server was not listening;
//   - a failed listen leaves the server not listening;
//   - closing the listener directly closes the server too.
// The runtime's own close() still runs first: it stops the server's timers and
// closes its idle keep-alive connections, as Node's http.Server.close() does.
import type { EventEmitter } from 'node:events';
import type * as net from 'node:net';

import { simple } from './errors';
import type { Server } from './server';
import type { Socket } from './socket';

/** What serveHttp() tells the code that makes the served server report the listener. */
export interface Served {
  /** A connection accepted by the listener, before the server sees it. */
  connected(socket: Socket): void;
  /** listen() threw an argument error: the server is not listening. */
  listenThrew(): void;
}

type Close = (this: EventEmitter, callback?: (err?: Error) => void) => unknown;

export function serveForeignServer(server: net.Server, listener: Server): Served {
  const runtimeClose = (Object.getPrototypeOf(server) as { close?: Close }).close;
  // As net.Server's _handle: set from serveHttp() until close() or a failed listen.
  let open = true;
  let connections = 0;
  let pipeName: string | null = null;

  const emitCloseIfDrained = (): void => {
    if (open || connections > 0) return;
    process.nextTick(() => server.emit('close'));
  };

  const own = (name: string, value: unknown): void => {
    Object.defineProperty(server, name, { value, configurable: true, writable: true, enumerable: false });
  };
  Object.defineProperty(server, 'listening', {
    configurable: true,
    enumerable: true,
    get: () => open && listener.listening,
  });
  own('address', () => (open ? listener.address() : pipeName));
  own('getConnections', (callback: (err: Error | null, count: number) => void) => {
    if (typeof callback === 'function') process.nextTick(callback, null, connections);
    return server;
  });
  own('ref', () => {
    listener.ref();
    return server;
  });
  own('unref', () => {
    listener.unref();
    return server;
  });
  own('close', (callback?: (err?: Error) => void) => {
    if (typeof callback === 'function') {
      if (open) server.once('close', callback);
      else server.once('close', () => callback(simple.serverNotRunning()));
    }
    runtimeClose?.call(server);
    if (open) {
      open = false;
      if (listener.listening) listener.close();
    }
    emitCloseIfDrained();
    return server;
  });

  listener.on('listening', () => {
    const addr = listener.address();
    if (typeof addr === 'string') pipeName = addr;
    server.emit('listening');
  });
  listener.on('error', (err: Error) => {
    if (!listener.listening) open = false;
    server.emit('error', err);
  });
  listener.on('close', () => {
    // The listener was closed directly: close the served server as well.
    if (open) server.close();
  });

  return {
    connected(socket: Socket): void {
      connections++;
      socket.once('close', () => {
        connections--;
        emitCloseIfDrained();
      });
    },
    listenThrew(): void {
      open = false;
    },
  };
}
