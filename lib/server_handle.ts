// server_handle.ts - node:net's exported internal _createServerHandle.
//
// Node's cluster primary calls its own net's, never protonet's; protonet
// exports one so that its module has node:net's names, and makes it work the
// same way: a socket bound (not listening) for `server.listen(handle)`, or a
// negative errno. Node returns a libuv handle; protonet returns the
// BoundSocket its listen(handle) and new Socket({ handle }) take over.
import { BoundSocket, boundSocketFromFd } from './bound_socket';
import { NET_DEBUG, debug } from './debug';
import { systemErrorInfo } from './errors';
import { guessHandleType } from './stream_handle';

// libuv's UV_TCP_IPV6ONLY.
const UV_TCP_IPV6ONLY = 1;
// Returned to the caller as Node's number for EINVAL (-22 on Linux, libuv's
// -4071 on Windows).
const UV_EINVAL = systemErrorInfo('EINVAL', -22)[1];

export function createServerHandle(address?: string | null, port?: number | null, addressType?: number | null,
  fd?: number | null, flags?: number): BoundSocket | number {
  if (typeof fd === 'number' && fd >= 0) {
    const type = Number.isInteger(fd) ? guessHandleType(fd) : 'INVALID';
    if (type !== 'TCP' && type !== 'PIPE') {
      if (NET_DEBUG) debug('listen invalid fd=%d:', fd, `Unsupported fd type: ${type}`);
      return UV_EINVAL;
    }
    return boundSocketFromFd(fd, type === 'PIPE');
  }
  if (NET_DEBUG) debug('bind to', address || 'any');
  if (port === -1 && addressType === -1) return bind({ path: address as string });
  if (!address) {
    // '::' (dual stack), else 0.0.0.0 where there is no IPv6.
    const dual = bind({ host: '::', port: port ?? 0, ipv6Only: ((flags ?? 0) & UV_TCP_IPV6ONLY) !== 0 });
    return typeof dual === 'number' ? createServerHandle('0.0.0.0', port) : dual;
  }
  const ipv6Only = addressType === 6 && ((flags ?? 0) & UV_TCP_IPV6ONLY) !== 0;
  return bind({ host: address, port: port ?? 0, ipv6Only });
}

function bind(options: ConstructorParameters<typeof BoundSocket>[0]): BoundSocket | number {
  try {
    return new BoundSocket(options);
  } catch (err) {
    const errno = (err as { errno?: unknown }).errno;
    return typeof errno === 'number' ? errno : UV_EINVAL;
  }
}
