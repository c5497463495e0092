// internal.ts - test-only helpers, reachable as `require('protonet/internal')`
// and deliberately absent from the node:net-compatible main export.
import type { Server } from './server';
import type { Socket } from './socket';
import type { TcpHandle } from './tcp_handle';

export type SockOptName =
  | 'TCP_NODELAY' | 'SO_KEEPALIVE' | 'TCP_KEEPIDLE' | 'TCP_KEEPINTVL' | 'TCP_KEEPCNT'
  | 'SO_REUSEADDR' | 'IPV6_V6ONLY' | 'SO_RCVBUF' | 'SO_SNDBUF' | 'IP_TOS' | 'IPV6_TCLASS';

/**
 * Reads an int socket option of a socket's or server's fd back from the
 * kernel (getsockopt), to check that options really reached it. Returns the
 * value, or a negative errno (-EBADF when there is no open handle).
 */
export function getsockopt(target: Socket | Server, name: SockOptName): number {
  const handle = (target as unknown as { _handle: TcpHandle | null })._handle;
  if (!handle) return -9;
  return handle.getsockopt(name);
}
