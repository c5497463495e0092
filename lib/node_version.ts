// node_version.ts - the major version of the Node running protonet: where
// node:net changed behaviour between releases, protonet follows the Node it runs in.
import * as nodeNet from 'node:net';
import { Socket as NodeSocket } from 'node:net';

// Bun and Deno report a Node version for compatibility, but their own net,
// stream and libuv stand-ins match no single Node release; there protonet keeps
// the behaviour of the Node 20 it was first written against (and which their
// test runs compare it with).
const foreignRuntime = 'bun' in process.versions || 'deno' in process.versions;
export const NODE_MAJOR = foreignRuntime ? 20 : Number(process.versions.node.split('.')[0]) || 0;

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
export const HAS_BOUND_SOCKET = !foreignRuntime && typeof (nodeNet as Record<string, unknown>).BoundSocket === 'function';

/**
 * Whether this Node's sockets have setTypeOfService/getTypeOfService (and the
 * typeOfService option): Node 24.15+. protonet's have them only then. Never
 * under Bun or Deno (Node 20's surface there).
 */
export const HAS_TYPE_OF_SERVICE = !foreignRuntime
  && typeof (NodeSocket.prototype as unknown as Record<string, unknown>).setTypeOfService === 'function';

/**
 * Whether this Node's net still exports the deprecated _setSimultaneousAccepts
 * (removed in Node 24): protonet exports its own only then. Always under Bun
 * and Deno (Node 20's surface).
 */
export const HAS_SET_SIMULTANEOUS_ACCEPTS = foreignRuntime
  || typeof (nodeNet as Record<string, unknown>)._setSimultaneousAccepts === 'function';
