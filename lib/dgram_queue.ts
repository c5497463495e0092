// dgram_queue.ts - what a dgram socket is asked to do while it binds: sends,
// a connect, a close. node:dgram keeps them in order and runs them once
// 'listening' is emitted (after bind()'s own callback, which was registered
// first); a failed bind ('error', seen through errorMonitor so that it does
// not count as handled) throws them away.
import EventEmitter from 'node:events';

export class SendQueue {
  /** The waiting operations; undefined when nothing waits (node:dgram's `_queue`). */
  entries: Array<() => void> | undefined;

  constructor(private readonly owner: EventEmitter) {}

  get active(): boolean {
    return this.entries !== undefined;
  }

  push(op: () => void): void {
    if (this.entries === undefined) {
      this.entries = [];
      this.owner.once(EventEmitter.errorMonitor, this.#onError);
      this.owner.once('listening', this.#onListening);
    }
    this.entries.push(op);
  }

  readonly #onListening = (): void => {
    this.owner.removeListener(EventEmitter.errorMonitor, this.#onError);
    const ops = this.entries ?? [];
    this.entries = undefined;
    for (const op of ops) op();
  };

  readonly #onError = (): void => {
    this.owner.removeListener('listening', this.#onListening);
    this.entries = undefined;
  };
}
