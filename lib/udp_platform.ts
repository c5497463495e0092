// udp_platform.ts - where libuv's Windows UDP (src/win/udp.c, which Node's
// udp_wrap runs on there) answers differently from its Unix side. Each such
// behaviour is named here once; lib/udp_handle.ts tests the names, so that
// protonet/dgram answers as node:dgram does on the platform it runs on.
const WINDOWS = process.platform === 'win32';

/**
 * The error of a buffer-size call (get/setRecvBufferSize, ...SendBufferSize)
 * on a socket not bound yet. libuv-win has no socket then and hands
 * INVALID_SOCKET to getsockopt/setsockopt, which say ENOTSOCK; libuv-unix
 * checks its descriptor first (EBADF).
 */
export const UNBOUND_BUFFER_SIZE_ERROR = WINDOWS ? 'ENOTSOCK' : 'EBADF';

/**
 * The lowest multicast TTL accepted. libuv-win's range is -1..255 (the value
 * goes to setsockopt as a DWORD, -1 included); libuv-unix's is 0..255. The
 * unicast TTL is 1..255 on both.
 */
export const MULTICAST_TTL_MIN = WINDOWS ? -1 : 0;

/**
 * bind() on a socket that an implicit bind already bound (addMembership,
 * connect or send before bind, which bind to the any address): libuv-win
 * sees its handle marked bound and returns 0 without a system call, so the
 * socket goes on listening where it was; libuv-unix calls bind() again and
 * the kernel says EINVAL.
 */
export const BIND_WHEN_BOUND_SUCCEEDS = WINDOWS;

/**
 * A receive error stops receiving: libuv-win calls uv_udp_recv_stop before
 * it hands the error to Node (the handle stops keeping the loop alive, and
 * no datagram is read after it); libuv-unix reports it and reads on. The
 * native loop does the same on its side (socket_ops_udp.h).
 */
export const RECV_ERROR_STOPS_RECEIVING = WINDOWS;
