// user_read.ts - node:net's `onread` option: received bytes go into the
// caller's buffer (or one its function returns) and to its callback, instead
// of the readable stream.
//
// Node's handle reads straight into the caller's buffer. Here the loop has
// already read into its own chunk, so the bytes are COPIED into the caller's
// buffer, at most buffer.length at a time. A chunk larger than the buffer is
// delivered in several callbacks; if one returns false (or pause() is
// called), the rest, later chunks and the EOF are held and delivered first
// when reading resumes, as Node's stopped handle would read nothing more.

/** What the reader uses of its socket. */
export interface UserReadSink {
  readonly destroyed: boolean;
  push(chunk: Buffer | null): boolean;
  read(size?: number): unknown;
}

type Callback = (this: unknown, n: number, buf: Uint8Array) => boolean | void;

export class UserBufferReader {
  #buf: Uint8Array | null = null;
  #next: (() => Uint8Array) | null = null;
  readonly #callback: Callback;
  // Received while the callback had paused reading; null is the EOF.
  #pending: Array<Buffer | null> | null = null; // allocated on first use
  /** pause() with onread: a chunk already read waits (Node's handle would have stopped). */
  paused = false;

  /** The reader for a Socket's `onread` option, or null when it is not one Node takes. */
  static from(onread: unknown): UserBufferReader | null {
    if (onread === null || typeof onread !== 'object') return null;
    const { buffer, callback } = onread as { buffer?: unknown; callback?: unknown };
    if (!(buffer instanceof Uint8Array || typeof buffer === 'function') || typeof callback !== 'function') return null;
    return new UserBufferReader(buffer as Uint8Array | (() => Uint8Array), callback as Callback);
  }

  private constructor(buffer: Uint8Array | (() => Uint8Array), callback: Callback) {
    if (typeof buffer === 'function') {
      this.#next = buffer;
      const first = buffer();
      if (first instanceof Uint8Array) this.#buf = first;
    } else {
      this.#buf = buffer;
    }
    this.#callback = callback;
  }

  /** Bytes (or the EOF) are held until reading resumes. */
  get holding(): boolean {
    return this.#pending !== null && this.#pending.length > 0;
  }

  /** The EOF: true when it must wait behind held bytes (it is held), false to end now. */
  holdEof(): boolean {
    if (!this.paused && !this.holding) return false;
    (this.#pending ??= []).push(null);
    return true;
  }

  /** One received chunk; false when reading must stop. */
  deliver(sink: UserReadSink, buf: Buffer): boolean {
    if (this.paused || this.holding) {
      (this.#pending ??= []).push(buf);
      return false;
    }
    return this.#copy(sink, buf);
  }

  /** Delivers what was held; false when reading must stay stopped (paused again, or ended). */
  flush(sink: UserReadSink): boolean {
    const pending = this.#pending;
    while (pending !== null && pending.length > 0) {
      const chunk = pending.shift()!;
      if (chunk === null) {
        sink.push(null);
        sink.read(0);
        return false; // ended: nothing more to read
      }
      if (!this.#copy(sink, chunk)) return false;
    }
    return true;
  }

  #copy(sink: UserReadSink, buf: Buffer): boolean {
    let offset = 0;
    while (offset < buf.length) {
      const target = this.#buf;
      if (!target || target.byteLength === 0) return true;
      const n = Math.min(target.byteLength, buf.length - offset);
      buf.copy(target, 0, offset, offset + n);
      offset += n;
      // Called on the socket, as Node calls it.
      const keepReading = this.#callback.call(sink, n, target) !== false;
      if (this.#next) {
        const nextBuf = this.#next();
        if (nextBuf instanceof Uint8Array) this.#buf = nextBuf;
      }
      if (sink.destroyed) return true;
      // A callback that returned false or called pause() gets nothing more
      // until reading resumes; the rest goes first then.
      if (!keepReading || this.paused) {
        if (offset < buf.length) (this.#pending ??= []).unshift(buf.subarray(offset));
        return false;
      }
    }
    return true;
  }
}
