// node_version.ts - the major version of the Node running protonet: where
// node:net changed behaviour between releases, protonet follows the Node it runs in.
import { Socket as NodeSocket } from 'node:net';

export const NODE_MAJOR = Number(process.versions.node.split('.')[0]) || 0;

/**
 * Whether this Node's socket.setKeepAlive takes (enable, initialDelay, interval,
 * count) and the options-object form ({ enable, initialDelay, interval, count }).
 */
export const KEEPALIVE_OPTIONS = NodeSocket.prototype.setKeepAlive.length > 2;
