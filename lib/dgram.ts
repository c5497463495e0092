// dgram.ts - the `protonet/dgram` entry: node:dgram's names (createSocket,
// Socket, the deprecated _createSocketHandle) over protonet's engine.
import { Socket as NodeDgramSocket } from 'node:dgram';
import { deprecate } from 'node:util';

import { callableClass } from './callable';
import { nodeErrno } from './errors';
import { Socket as SocketClass, type SocketOptions, type SocketType } from './dgram_socket';
import { UdpHandle, udpFdType } from './udp_handle';

export type { BindOptions, SocketOptions, SocketType } from './dgram_socket';
export type { RemoteInfo } from './udp_handle';

/** dgram.Socket; `Socket.call(this, type)` of pre-class subclasses works as with node:dgram's. */
export const Socket = callableClass(SocketClass, NodeDgramSocket as never);
export type Socket = SocketClass;

export function createSocket(type: SocketType | SocketOptions, listener?: (msg: Buffer, rinfo: import('./udp_handle').RemoteInfo) => void): Socket {
  return new SocketClass(type, listener);
}

// node:dgram's EINVAL for an fd that is not a UDP socket (libuv's number on this platform).
const UV_EINVAL = nodeErrno('EINVAL');

/**
 * The cluster module's helper: a handle bound to address:port (or opened on
 * fd), or the negative errno of the failure. Deprecated (DEP0112) as in Node.
 */
function createSocketHandle(address: string, port: number, addressType: SocketType, fd?: number, flags?: number): UdpHandle | number {
  if (addressType !== 'udp4' && addressType !== 'udp6') new SocketClass(addressType); // throws node:dgram's error
  const handle = new UdpHandle(addressType === 'udp4' ? 4 : 6);
  let err = 0;
  if (Number.isInteger(fd) && (fd as number) > 0 && (fd as number) <= 0x7fffffff) {
    err = udpFdType(fd as number) === 'UDP' ? handle.open(fd as number) : UV_EINVAL;
  } else if (port || address) {
    err = handle.bind(address, port || 0, flags ?? 0);
  }
  if (err) {
    handle.close();
    return err;
  }
  return handle;
}

export const _createSocketHandle = deprecate(createSocketHandle, 'dgram._createSocketHandle() is deprecated', 'DEP0112');
