// diagnostics.ts - the node:diagnostics_channel channels node:net publishes.
//
// Channels are process-wide by name: a tool subscribed to 'net.server.socket'
// gets the same Channel object from diagnostics_channel.channel() that this
// module publishes on, so it sees protonet's sockets next to node:net's. The
// tracing channel 'net.server.listen' is its sub-channels
// 'tracing:net.server.listen:<phase>'; node:net publishes asyncStart, asyncEnd
// and error only, and so does protonet (see server.ts for where).
//
// A runtime without diagnostics_channel (or an older one without some
// channel feature) gets no-ops: `hasSubscribers` stays false.
import { Socket as NodeSocket } from 'node:net';

import { FOREIGN_RUNTIME } from './runtime';

interface ChannelLike {
  readonly hasSubscribers: boolean;
  publish(message: unknown): void;
}

const silent: ChannelLike = { hasSubscribers: false, publish() {} };

function channel(name: string): ChannelLike {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const dc = require('node:diagnostics_channel') as { channel?: (n: string) => ChannelLike };
    const ch = typeof dc.channel === 'function' ? dc.channel(name) : undefined;
    if (ch && typeof ch.publish === 'function' && 'hasSubscribers' in ch) return ch;
  } catch {
    /* no diagnostics_channel in this runtime */
  }
  return silent;
}

// Held here for the life of the process: Node keeps channels only weakly
// while nobody subscribes, and these must stay the ones tools look up.
export const netClientSocket = channel('net.client.socket');
export const netServerSocket = channel('net.server.socket');
export const udpSocketChannel = channel('udp.socket');
export const listenAsyncStart = channel('tracing:net.server.listen:asyncStart');
export const listenAsyncEnd = channel('tracing:net.server.listen:asyncEnd');
export const listenError = channel('tracing:net.server.listen:error');

/**
 * Where this Node's net publishes 'net.client.socket': Node 20 only from
 * net.connect()/createConnection(), after making the socket; later lines
 * (nodejs/node#58349) from Socket.prototype.connect, so socket.connect() and
 * tls.connect() publish too. Read off the running node:net itself (the name
 * of its channel in Socket.prototype.connect's source), not off a version
 * number, since the change was backported. Bun and Deno: as Node 20.
 */
export const CLIENT_SOCKET_IN_CONNECT: boolean = (() => {
  if (FOREIGN_RUNTIME) return false;
  try {
    return Function.prototype.toString.call(NodeSocket.prototype.connect).includes('netClientSocketChannel');
  } catch {
    return false;
  }
})();
