// bun_tls.ts - lets Bun's tls run server-side TLS over a protonet socket.
//
// `new tls.TLSSocket(socket, { isServer: true })` in Bun calls the method
// net.Socket.prototype[Symbol.for('::bunUpgradeServerTLS::')] (Bun's own
// net.Socket). That method reads `socket._handle`: when it is set, Bun takes
// it for one of its own native sockets and asks it to upgrade itself
// (`handle.upgradeTLS(...)`), which a protonet StreamHandle cannot do; when it is
// null, Bun runs TLS over the socket as over any other stream.Duplex (its
// TLS engine reads 'data' and calls write()/end()), which is exactly what a
// protonet socket is. So, under Bun only, that method sees a protonet
// socket's `_handle` as null for the duration of the synchronous call; Bun
// keeps a reference to the socket itself, never to the handle, on that path.
// That path only adds listeners, starts Bun's TLS engine (which waits for the
// client's hello) and calls resume() (whose work runs on a later tick): no I/O
// and no destroy() happen on the socket while its handle is hidden.
//
// The client side needs nothing: Bun's tls.connect({ socket }) already takes
// the Duplex path for any socket that is not its own net.Socket. Node and Deno
// never call this method, and nothing is installed there.
import { Socket as RuntimeSocket } from 'node:net';

import type { Socket } from './socket';
import { RUNTIME } from './runtime';

const kUpgradeServerTLS = Symbol.for('::bunUpgradeServerTLS::');
const kProtonetAware = Symbol('protonet.bunServerTls');

type UpgradeServerTLS = (this: unknown, connection: unknown, tlsOptions: unknown) => unknown;

/** Installs the wrapper once per process, when running in Bun and Bun has the method. */
export function installBunServerTls(isProtonetSocket: (value: unknown) => value is Socket): void {
  if (RUNTIME !== 'bun') return;
  const proto = RuntimeSocket.prototype as unknown as Record<symbol, UpgradeServerTLS & { [kProtonetAware]?: true }>;
  const original = proto[kUpgradeServerTLS];
  if (typeof original !== 'function' || original[kProtonetAware]) return;
  const wrapped = function upgradeServerTLS(this: unknown, connection: unknown, tlsOptions: unknown): unknown {
    if (!isProtonetSocket(connection) || connection._handle === null) {
      return original.call(this, connection, tlsOptions);
    }
    const handle = connection._handle;
    connection._handle = null;
    try {
      return original.call(this, connection, tlsOptions);
    } finally {
      // Only if Bun left it alone (it sets _handle only on its own sockets).
      if (connection._handle === null) connection._handle = handle;
    }
  } as UpgradeServerTLS & { [kProtonetAware]?: true };
  wrapped[kProtonetAware] = true;
  proto[kUpgradeServerTLS] = wrapped;
}
