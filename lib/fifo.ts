// fifo.ts - a first-in first-out queue whose take is O(1).
//
// Array.prototype.shift() moves every element once an array is large (V8
// copies it, with a write barrier per slot), so a queue that grows to
// thousands (datagrams waiting on a full socket buffer) would cost O(n) per
// completion. This keeps a head index and drops the taken prefix in one
// splice once it is the larger part.
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number { return this.#items.length - this.#head; }

  push(item: T): void { this.#items.push(item); }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined; // let it be collected
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return item;
  }
}
