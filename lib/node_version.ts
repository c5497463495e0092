// node_version.ts - the major version of the Node running protonet: where
// node:net changed behaviour between releases, protonet follows the Node it runs in.
// Each such behaviour is named here once; call sites test the name, not a version.
import * as nodeNet from 'node:net';
import { Server as NodeServer, Socket as NodeSocket } from 'node:net';

import { FOREIGN_RUNTIME } from './runtime';

// Bun and Deno report a Node version for compatibility, but their own net,
// stream and libuv stand-ins match no single Node release; there protonet keeps
// the behaviour of the Node 20 it was first written against (and which their
// test runs compare it with).
export { FOREIGN_RUNTIME };
const [major, minor] = FOREIGN_RUNTIME ? [20, 0] : process.versions.node.split('.').map(Number);
export const NODE_MAJOR = major || 0;

/**
 * Whether the running Node has a change that shipped in release `first` (a
 * [major, minor]) and was backported to the 22 line in 22.`backport22`.
 */
function since(first: [number, number], backport22?: number): boolean {
  if (NODE_MAJOR === 22 && backport22 !== undefined && minor >= backport22) return true;
  return NODE_MAJOR > first[0] || (NODE_MAJOR === first[0] && minor >= first[1]);
}

/**
 * Whether this Node's socket.setKeepAlive takes (enable, initialDelay, interval,
 * count) and the options-object form ({ enable, initialDelay, interval, count }).
 */
export const KEEPALIVE_OPTIONS = NodeSocket.prototype.setKeepAlive.length > 2;

/**
 * Whether this Node's net has BoundSocket (added in Node 24): protonet exports
 * its own only then, so that its exports stay node:net's. Never under Bun or
 * Deno (Node 20's behaviour there).
 */
export const HAS_BOUND_SOCKET = !FOREIGN_RUNTIME && typeof (nodeNet as Record<string, unknown>).BoundSocket === 'function';

/**
 * Whether this Node's sockets have setTypeOfService/getTypeOfService (and the
 * typeOfService option): Node 24.15+. protonet's have them only then. Never
 * under Bun or Deno (Node 20's surface there).
 */
export const HAS_TYPE_OF_SERVICE = !FOREIGN_RUNTIME
  && typeof (NodeSocket.prototype as unknown as Record<string, unknown>).setTypeOfService === 'function';

/**
 * Whether this Node's net still exports the deprecated _setSimultaneousAccepts
 * (removed in Node 24): protonet exports its own only then. Always under Bun
 * and Deno (Node 20's surface).
 */
export const HAS_SET_SIMULTANEOUS_ACCEPTS = FOREIGN_RUNTIME
  || typeof (nodeNet as Record<string, unknown>)._setSimultaneousAccepts === 'function';

/**
 * server.listen({ readableAll, writableAll }) on a Unix socket: libuv's
 * uv_pipe_chmod sets exactly the asked bits from Node 24 (libuv 1.52);
 * before (libuv 1.46) it adds them to the socket file's mode.
 */
export const PIPE_CHMOD_SETS_MODE = NODE_MAJOR >= 24;

/**
 * server.maxConnections = 0 drops every connection (nodejs/node#48276: 21.0);
 * before, 0 (or any falsy value) means no limit, as undefined/null do.
 */
export const MAX_CONNECTIONS_ZERO_DROPS = since([21, 0]);

/** socket.connect() validates options.host first (a string without null bytes): Node 24. */
export const CONNECT_VALIDATES_HOST = NODE_MAJOR >= 24;

/**
 * A write's callback gets its error even once the socket is destroyed (a
 * write cancelled by the close gets ECANCELED): Node 24. Before, a destroyed
 * socket's write callbacks get no error.
 */
export const WRITE_ERROR_AFTER_DESTROY = NODE_MAJOR >= 24;

/**
 * end() before the socket is connected waits for 'connect' only while a
 * connect is under way (`connecting`): Node 24. Before, it waits while the
 * socket is `pending`, so one that never connects never finishes.
 */
export const FINAL_WAITS_WHILE_CONNECTING = NODE_MAJOR >= 24;

/** server.listen({ reusePort: true }) sets SO_REUSEPORT (nodejs/node#55408: 23.1, 22.12); before, the option is ignored. */
export const LISTEN_REUSE_PORT = since([23, 1], 12);

/**
 * server.listen({ port }) with no host passes listen({ ipv6Only, reusePort })'s
 * flags on: the change that brought reusePort plumbed them through there too.
 * Before it, ipv6Only without a host is ignored (checked on Node 20 and 24).
 */
export const LISTEN_FLAGS_WITHOUT_HOST = LISTEN_REUSE_PORT;

/**
 * server.listen(port, hostname) resolves with dns.lookup(host, { all: true })
 * and listens on the first address that is not IPv6 link-local
 * (nodejs/node#54264: 23.0, 22.9); before, dns.lookup(host) and its one answer.
 */
export const LISTEN_LOOKUP_ALL = since([23, 0], 9);

/**
 * A Unix socket path longer than sun_path is refused with EINVAL on listen
 * and connect (libuv's UV_PIPE_NO_TRUNCATE, nodejs/node#52347, semver-major:
 * 22.0); before, libuv truncates it to sun_path's size.
 */
export const PIPE_NO_TRUNCATE = since([22, 0]);

// node:net's own constructors tell whether they take a blockList: where they
// do, a value that is not a BlockList throws ERR_INVALID_ARG_TYPE at once
// (nodejs/node#56075 and #56079: 23.4, 22.13). The probes build nothing that
// lives on (no handle, no listener).
function rejectsBadBlockList(construct: () => unknown): boolean {
  if (FOREIGN_RUNTIME) return false;
  try {
    construct();
    return false;
  } catch (err) {
    return (err as { code?: string }).code === 'ERR_INVALID_ARG_TYPE';
  }
}

/** new Socket({ blockList }) / net.connect({ blockList }): connects to blocked addresses fail with ERR_IP_BLOCKED. */
export const SOCKET_BLOCK_LIST = rejectsBadBlockList(() => new NodeSocket({ blockList: true } as never));

/** net.createServer({ blockList }): connections from blocked addresses are closed before 'connection'. */
export const SERVER_BLOCK_LIST = rejectsBadBlockList(() => new NodeServer({ blockList: true } as never));

// ---- node:dgram ----
// Where node:dgram grew a feature, the running Node's own dgram module is asked
// (its functions' source text names what they handle): a release-number table
// would have to track backports to every line.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeDgramSocket = (require('node:dgram') as typeof import('node:dgram')).Socket as unknown as
  { toString(): string; prototype: Record<string, unknown> };
function dgramSourceHas(fn: { toString(): string } | undefined, word: string): boolean {
  if (FOREIGN_RUNTIME || typeof fn !== 'function') return false;
  return Function.prototype.toString.call(fn).includes(word);
}

/** createSocket({ reusePort }) sets SO_REUSEPORT (nodejs/node#55403: 23.1, 22.12); before, the option is ignored. */
export const DGRAM_REUSE_PORT = dgramSourceHas(nodeDgramSocket, 'reusePort');

/** createSocket({ receiveBlockList, sendBlockList }) (23.4, 22.13): datagrams from/to blocked addresses are dropped or refused. */
export const DGRAM_BLOCK_LISTS = dgramSourceHas(nodeDgramSocket, 'receiveBlockList');

/** Socket#bindSync() and Socket#connectSync() (Node 24 line): binding and connecting to numeric addresses inline. */
export const DGRAM_SYNC_METHODS = !FOREIGN_RUNTIME && typeof nodeDgramSocket.prototype.bindSync === 'function'
  && typeof nodeDgramSocket.prototype.connectSync === 'function';

/**
 * bind(cb) drops its 'listening' callback on a failed bind through an
 * errorMonitor listener; before, through an 'error' listener, which also
 * counts as handling the error (no throw when the user has none).
 */
export const DGRAM_BIND_ERROR_MONITOR = dgramSourceHas(nodeDgramSocket.prototype.bind as never, 'errorMonitor');

let zeroStringPort: boolean | undefined;
/**
 * Whether a port of '0' (a string) counts as zero where zero is refused
 * (connect(), send()): newer validatePort compares `+port === 0`, Node 20's
 * `port === 0`. node:dgram is asked once, with a call that fails before it
 * touches its socket either way (the address check comes after the port's).
 */
export function dgramRefusesZeroStringPort(): boolean {
  if (zeroStringPort === undefined) {
    zeroStringPort = false;
    if (!FOREIGN_RUNTIME) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const s = (require('node:dgram') as typeof import('node:dgram')).createSocket('udp4');
      try {
        s.connect('0' as never, 5 as never);
      } catch (err) {
        zeroStringPort = (err as { code?: string }).code === 'ERR_SOCKET_BAD_PORT';
      } finally {
        s.close();
      }
    }
  }
  return zeroStringPort;
}

let swallowsGroupError: boolean | undefined;
/**
 * add/dropMembership with a multicast address that cannot become a string (a
 * null-prototype object, a Symbol, a throwing toString): the binding of Node
 * 24 (and 22.23) drops that conversion's exception when the interface argument
 * is no string, and the call fails with EINVAL; Node 20's throws it. Either way
 * a failing interface conversion comes first. node:dgram is asked once, on a
 * new socket (the address is parsed before any socket option is touched).
 */
export function dgramMembershipSwallowsGroupError(): boolean {
  if (swallowsGroupError === undefined) {
    swallowsGroupError = false;
    if (!FOREIGN_RUNTIME) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const s = (require('node:dgram') as typeof import('node:dgram')).createSocket('udp4');
      try {
        s.addMembership(Object.create(null) as string);
      } catch (err) {
        swallowsGroupError = (err as { code?: string }).code === 'EINVAL';
      } finally {
        s.close();
      }
    }
  }
  return swallowsGroupError;
}
