// bound_source.ts - the bound, not yet connected socket a net.Socket holds
// before connect(): an adopted net.BoundSocket's fd (Node's kBoundSource) or
// a caller's unconnected fd (new Socket({ fd })). It stays here, owned by the
// Socket and not read, until connect() hands it to the handle that connects
// from it, or destroy() closes it.
import { native } from './binding';
import { unlinkBoundPath } from './bound_socket';
import type { NameInfo } from './stream_handle';

export class BoundSource {
  /**
   * From a BoundSocket: it fixes the transport (TCP or Unix) and the local
   * address, connects in the tick connect() is called, and refuses
   * localAddress/localPort and address-family selection.
   */
  readonly adopted: boolean;
  /** A bound Unix socket's path: the socket's local address for good, closed or not. */
  readonly path: string | undefined;
  // The fd while this object owns it; -1 once handed over or closed.
  #fd: number;
  // The Unix socket file, removed once (libuv unlinks a bound pipe's path on close).
  #unlinkOnClose: string | undefined;

  private constructor(fd: number, path: string | undefined, adopted: boolean) {
    this.#fd = fd;
    this.path = path;
    this.#unlinkOnClose = path;
    this.adopted = adopted;
  }

  /** What new Socket({ handle: boundSocket }) took over. */
  static adopted(fd: number, path: string | undefined): BoundSource {
    return new BoundSource(fd, path, true);
  }

  /** A caller's socket fd with no peer yet (new Socket({ fd })). */
  static unconnected(fd: number): BoundSource {
    return new BoundSource(fd, undefined, false);
  }

  /** Whether the fd is still here (not yet handed to a handle, not closed). */
  get held(): boolean {
    return this.#fd >= 0;
  }

  /** The fd's local name while held; null when it cannot be read. */
  sockname(): Partial<NameInfo> | null {
    const r = native.socknameFd(this.#fd);
    if (typeof r === 'number') return null;
    return { address: r[0], family: r[2] === 6 ? 'IPv6' : 'IPv4', port: r[1] };
  }

  /** Hands the fd to the handle that connects from it; -1 when none is held. */
  take(): number {
    const fd = this.#fd;
    this.#fd = -1;
    return fd;
  }

  /** With the socket's destroy(): closes an fd never handed over, removes the Unix socket file. */
  dispose(): void {
    if (this.#fd >= 0) {
      native.closeFd(this.#fd);
      this.#fd = -1;
    }
    unlinkBoundPath(this.#unlinkOnClose);
    this.#unlinkOnClose = undefined;
  }
}
