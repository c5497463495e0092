// bound_socket.ts - net.BoundSocket (Node 24): a TCP or Unix stream socket
// bound to a local address without listening or connecting, until a Server
// (listen(bound) / listen({ handle: bound })) or a Socket
// (new Socket({ handle: bound }), then connect()) adopts it.
//
// The socket is bound here, on the JS thread (bind never blocks, as libuv's
// uv_tcp_bind/uv_pipe_bind run on Node's main thread), and held as a plain fd
// that no I/O loop knows about yet. Adoption hands the fd over: the BoundSocket
// is then spent, as Node's is.
import * as fs from 'node:fs';

import { Err, loadNative, native } from './binding';
import { errnoException, exceptionWithHostPort, invalidArgType, invalidArgValue, nodeError } from './errors';
import { describeErr, type NameInfo } from './stream_handle';
import { isIP, validateBoolean, validatePort, validateString } from './validate';

export interface BoundSocketOptions {
  /** A numeric IP address (no DNS lookup); '0.0.0.0', or '::' with ipv6Only. */
  host?: string;
  port?: number | string;
  ipv6Only?: boolean;
  reusePort?: boolean;
  /** A Unix socket path (a leading '\0' for a Linux abstract name); excludes the TCP options. */
  path?: string;
}

/** What a Server or Socket takes over from a BoundSocket. */
export interface AdoptedBound {
  fd: number;
  /** The Unix socket path, or undefined for TCP. */
  path: string | undefined;
}

function handleAdopted(): Error {
  return nodeError(Error, 'ERR_SOCKET_HANDLE_ADOPTED', 'The bound socket has already been adopted by a server or socket');
}

// libuv removes the file of a Unix socket it bound when the handle closes (not
// for an abstract name, which has none).
export function unlinkBoundPath(path: string | undefined): void {
  if (path === undefined || path === '' || path[0] === '\0') return;
  try { fs.unlinkSync(path); } catch { /* already gone */ }
}

let consume: (bound: BoundSocket) => AdoptedBound;
// Set by boundSocketFromFd for the one construction it makes.
let fromFd: { fd: number; isPipe: boolean } | null = null;

export class BoundSocket {
  // The bound fd while this object owns it; null once adopted or closed.
  #fd: number | null = null;
  #address: Partial<NameInfo> = {};
  #path: string | undefined;

  constructor(options: BoundSocketOptions = {}) {
    if (fromFd !== null) {
      // An fd someone else made (no path of its own to unlink: '' for a Unix socket).
      this.#fd = fromFd.fd;
      this.#path = fromFd.isPipe ? '' : undefined;
      return;
    }
    // Node's validateObject: a plain object, not null, not an array.
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw invalidArgType('options', 'object', options);
    }
    if (options.path !== undefined) {
      this.#bindPath(options);
      return;
    }
    const port = validatePort(options.port ?? 0, 'options.port');
    const ipv6Only = options.ipv6Only ?? false;
    validateBoolean(ipv6Only, 'options.ipv6Only');
    const reusePort = options.reusePort ?? false;
    validateBoolean(reusePort, 'options.reusePort');
    let host = options.host;
    if (host === undefined || host === null) {
      host = ipv6Only ? '::' : '0.0.0.0';
    } else {
      validateString(host, 'options.host');
      if (isIP(host) === 0) {
        throw invalidArgValue('options.host', host,
          'must be a numeric IP address; net.BoundSocket does not perform DNS resolution');
      }
    }
    loadNative();
    const fd = native.bind(host, port, ipv6Only, reusePort);
    // Node reads the name back at once (getsockname), so the OS-chosen port of
    // a port-0 bind is known and a conflict throws here, from the constructor.
    const name = fd >= 0 ? native.socknameFd(fd) : fd;
    if (typeof name === 'number') {
      if (fd >= 0) native.closeFd(fd);
      // libuv's uv_tcp_bind turns EAFNOSUPPORT into EINVAL.
      const err = name === Err.EAFNOSUPPORT ? Err.EINVAL : name;
      const [code, errno] = describeErr(err);
      throw exceptionWithHostPort(code, errno, 'bind', host, port);
    }
    this.#address = { address: name[0], family: name[2] === 6 ? 'IPv6' : 'IPv4', port: name[1] };
    this.#fd = fd;
  }

  // A Unix socket (Node's Pipe): path excludes every TCP option; the bind (and
  // its errors) happen now.
  #bindPath(options: BoundSocketOptions): void {
    const { path, host, port, ipv6Only, reusePort } = options;
    if (host !== undefined || port !== undefined || ipv6Only !== undefined || reusePort !== undefined) {
      throw invalidArgValue('options', options, 'path is mutually exclusive with host, port, ipv6Only, and reusePort');
    }
    validateString(path, 'options.path');
    if (path[0] === '\0' && process.platform !== 'linux') {
      throw invalidArgValue('options.path', path, 'abstract socket paths are only supported on Linux');
    }
    loadNative();
    const fd = native.bindPath(path);
    if (fd < 0) {
      // libuv's uv_pipe_bind answers EACCES where bind(2) says ENOENT (a
      // directory of the path does not exist).
      const err = fd === Err.ENOENT ? Err.EACCES : fd;
      const [code, errno] = describeErr(err);
      throw errnoException(code, errno, 'bind');
    }
    this.#fd = fd;
    this.#path = path;
  }

  /** The bound address ({ address, family, port }), or the path of a Unix socket. */
  address(): Partial<NameInfo> | string {
    if (this.#fd === null) throw handleAdopted();
    return this.#path ?? this.#address;
  }

  /** The socket's file descriptor; it stays this object's until adopted or closed. */
  fd(): number {
    if (this.#fd === null) throw handleAdopted();
    return this.#fd;
  }

  /** Closes a socket nobody adopted (removing a Unix socket's file). */
  close(): void {
    if (this.#fd === null) throw handleAdopted();
    this.#release();
  }

  /** `using bound = new BoundSocket(...)`: close() unless adopted or closed already. */
  [Symbol.dispose](): void {
    if (this.#fd !== null) this.#release();
  }

  /** True for a Unix socket, false for TCP. */
  get isPipe(): boolean {
    return this.#path !== undefined;
  }

  #release(): void {
    native.closeFd(this.#fd!);
    this.#fd = null;
    unlinkBoundPath(this.#path);
  }

  static {
    consume = (bound) => {
      if (bound.#fd === null) throw handleAdopted();
      const fd = bound.#fd;
      bound.#fd = null;
      return { fd, path: bound.#path };
    };
  }
}

/**
 * A BoundSocket owning a caller's socket fd as it is (net._createServerHandle
 * with an fd, as Node's handle.open(fd)): closed with it unless adopted.
 */
export function boundSocketFromFd(fd: number, isPipe: boolean): BoundSocket {
  fromFd = { fd, isPipe };
  try {
    return new BoundSocket();
  } finally {
    fromFd = null;
  }
}

/** Takes the fd over from `bound` (Node's kBoundSocketConsume); throws once it is spent. */
export function adoptBoundSocket(bound: BoundSocket): AdoptedBound {
  return consume(bound);
}
