// https.ts - Node's https client over protonet sockets.
//
// tls.connect({ socket }) runs TLS over any duplex stream; https.Agent's own
// createConnection() (session cache, servername) passes its options to
// tls.connect(), so handing it a protonet socket is all it takes.
import * as https from 'node:https';
import type * as net from 'node:net';
import type * as tls from 'node:tls';

import { connectForAgent, toNetSocket, type AgentConnectOptions } from './http';

type HttpsCreateConnection = (options: AgentConnectOptions & tls.ConnectionOptions) => tls.TLSSocket;

/**
 * An https.Agent whose TLS connections run over protonet sockets:
 * `https.request({ host, port, agent: new protonet.HttpsAgent({ ca }) })`.
 * TLS session reuse, servername (SNI) and pooling are https.Agent's own.
 */
export class HttpsAgent extends https.Agent {
  override createConnection(
    options: AgentConnectOptions & tls.ConnectionOptions,
    _callback?: (err: Error | null, socket: net.Socket) => void,
  ): net.Socket {
    const socket = connectForAgent(options);
    const tlsConnect = (https.Agent.prototype as unknown as { createConnection: HttpsCreateConnection }).createConnection;
    return tlsConnect.call(this, { ...options, socket: toNetSocket(socket) });
  }
}
