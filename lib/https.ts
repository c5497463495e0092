// https.ts - Node's https client over protonet sockets.
//
// tls.connect({ socket }) runs TLS over any duplex stream; https.Agent's own
// createConnection() (session cache, servername) passes its options to
// tls.connect(), so handing it a protonet socket is all it takes.
import * as https from 'node:https';
import type { Duplex } from 'node:stream';
import type * as tls from 'node:tls';

import { createHttpConnection, type HttpConnectOptions } from './http';

export type HttpsConnectOptions = HttpConnectOptions & tls.ConnectionOptions;

type TlsCreateConnection = (options: HttpsConnectOptions) => tls.TLSSocket;
const httpsCreateConnection = (https.Agent.prototype as unknown as { createConnection: TlsCreateConnection }).createConnection;

/**
 * An https.Agent whose TLS connections run over protonet sockets:
 * `https.request({ host, port, agent: new protonet.HttpsAgent({ ca }) })`.
 * TLS session reuse, servername (SNI) and pooling are https.Agent's own.
 */
export class HttpsAgent extends https.Agent {
  override createConnection(options: HttpsConnectOptions, _callback?: (err: Error | null, socket: Duplex) => void): tls.TLSSocket {
    return httpsCreateConnection.call(this, { ...options, socket: createHttpConnection(options) });
  }
}
