// index.ts - the public surface: the same names as node:net.
import {
  BlockList, Server as NodeServer, Socket as NodeSocket, SocketAddress, isIP, isIPv4, isIPv6,
  type NetConnectOpts as NodeNetConnectOpts,
} from 'node:net';

import { normalizeArgs } from './args';
import { NET_DEBUG, debug } from './debug';
import { CLIENT_SOCKET_IN_CONNECT, netClientSocket } from './diagnostics';
import { callableClass } from './callable';
import { Server as ServerClass, type ListenOptions, type ServerOptions } from './server';
import {
  Socket as SocketClass, getDefaultAutoSelectFamily, getDefaultAutoSelectFamilyAttemptTimeout,
  setDefaultAutoSelectFamily, setDefaultAutoSelectFamilyAttemptTimeout,
  type IpcConnectOptions, type SocketOptions, type TcpConnectOptions,
} from './socket';

import { installBunServerTls } from './bun_tls';

installBunServerTls((value): value is SocketClass => value instanceof SocketClass);

export type { ListenOptions, ServerOptions, SocketOptions, TcpConnectOptions };
export type { IpcConnectOptions, OnReadOptions } from './socket';
// @types/node's net types under their own names, so code written for
// `import type { AddressInfo } from 'net'` compiles against protonet unchanged.
export type {
  AddressInfo, ConnectOpts, DropArgument, IpcNetConnectOpts, IpcSocketConnectOpts, IPVersion, LookupFunction,
  NetConnectOpts, OnReadOpts, ServerOpts, SocketAddressInitOptions, SocketConnectOpts, SocketConstructorOpts,
  SocketReadyState, TcpNetConnectOpts, TcpSocketConnectOpts,
} from 'node:net';

/** net.Socket: also callable without `new`, as node:net's. */
export const Socket = callableClass(SocketClass, NodeSocket);
export type Socket = SocketClass;
/** net.Server: also callable without `new`, as node:net's. */
export const Server = callableClass(ServerClass, NodeServer);
export type Server = ServerClass;

export function createServer(connectionListener?: (socket: Socket) => void): Server;
export function createServer(options?: ServerOptions, connectionListener?: (socket: Socket) => void): Server;
export function createServer(options?: ServerOptions | ((socket: Socket) => void),
  connectionListener?: (socket: Socket) => void): Server {
  return new ServerClass(options as ServerOptions, connectionListener);
}

/** net.connect / net.createConnection in all of Node's argument forms. */
export function connect(options: NodeNetConnectOpts | (TcpConnectOptions & SocketOptions) | (IpcConnectOptions & SocketOptions),
  connectionListener?: () => void): Socket;
export function connect(port: number | string, host?: string, connectionListener?: () => void): Socket;
export function connect(port: number | string, connectionListener?: () => void): Socket;
export function connect(path: string, connectionListener?: () => void): Socket;
export function connect(...args: unknown[]): Socket {
  const normalized = normalizeArgs(args);
  const [options] = normalized;
  if (NET_DEBUG) debug('createConnection', normalized);
  const socket = new SocketClass(options as SocketOptions);
  // Node 20 publishes here; later Nodes from socket.connect() (diagnostics.ts).
  if (!CLIENT_SOCKET_IN_CONNECT && netClientSocket.hasSubscribers) netClientSocket.publish({ socket });
  if ((options as { timeout?: number }).timeout) socket.setTimeout((options as { timeout: number }).timeout);
  return socket.connect(normalized as never);
}

// net.BoundSocket (Node 24): exported only where the running Node's net has
// it, so protonet's names stay node:net's on every version (typed as present:
// check `'BoundSocket' in net` before Node 24).
import { BoundSocket as BoundSocketClass } from './bound_socket';
import { HAS_BOUND_SOCKET, HAS_SET_SIMULTANEOUS_ACCEPTS } from './node_version';
import { createServerHandle } from './server_handle';

export type { BoundSocketOptions } from './bound_socket';
export declare const BoundSocket: typeof BoundSocketClass;
if (HAS_BOUND_SOCKET) {
  (exports as Record<string, unknown>).BoundSocket = BoundSocketClass;
}

export const createConnection = connect;
export const Stream = Socket;

export {
  BlockList, SocketAddress, isIP, isIPv4, isIPv6,
  getDefaultAutoSelectFamily, getDefaultAutoSelectFamilyAttemptTimeout,
  setDefaultAutoSelectFamily, setDefaultAutoSelectFamilyAttemptTimeout,
};

// Node's http/https/tls on protonet (lib/http.ts, lib/https.ts).
export { Agent, createHttpConnection, listenerOf, serveHttp, type HttpConnectOptions, type ServeListenArgs } from './http';
export { HttpsAgent, type HttpsConnectOptions } from './https';

// Node's exported internals that user code still reaches for.
/** node:net's _normalizeArgs: [options, callback-or-null] from connect/listen arguments. */
export const _normalizeArgs = normalizeArgs;

/** node:net's _createServerHandle: a bound, not yet listening socket for server.listen(handle), or -errno (server_handle.ts). */
export const _createServerHandle = createServerHandle;

let warnSimultaneousAccepts = true;
/**
 * Deprecated in Node (DEP0121) and a no-op outside Windows; warns once as Node
 * does. Exported only where the running Node's net still has it (gone in Node 24).
 */
export declare function _setSimultaneousAccepts(_handle?: unknown): void;
if (HAS_SET_SIMULTANEOUS_ACCEPTS) {
  (exports as Record<string, unknown>)._setSimultaneousAccepts = function _setSimultaneousAccepts(_handle?: unknown): void {
    if (warnSimultaneousAccepts) {
      process.emitWarning('net._setSimultaneousAccepts() is deprecated and will be removed.', 'DeprecationWarning', 'DEP0121');
      warnSimultaneousAccepts = false;
    }
  };
}

// `import net from 'net'` compiled by tsc or Babel to CommonJS reads
// `__importDefault(require('net')).default`: node:net (no __esModule flag) is
// wrapped as { default: net }, but protonet's build carries tsc's __esModule
// flag and is used as is, so its `default` must be the module itself
// (ioredis, node-redis and other TypeScript-built clients import net that way).
Object.defineProperty(exports, 'default', { value: exports, enumerable: false });
