// A first-in first-out queue on a growable circular array: O(1) push and
// shift without the copying of Array.prototype.shift on long queues.

/** A FIFO queue. */
export class Deque<T> {
  #items: (T | undefined)[];
  #head = 0;
  #size = 0;

  constructor(initialCapacity = 16) {
    this.#items = new Array(initialCapacity);
  }

  /** Items in the queue. */
  get size(): number {
    return this.#size;
  }

  /** Appends `item` at the tail. */
  push(item: T): void {
    const items = this.#items;
    if (this.#size === items.length) this.#grow();
    const n = this.#items.length;
    this.#items[(this.#head + this.#size) & (n - 1)] = item;
    this.#size++;
  }

  /** Removes and returns the head; `undefined` when empty. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const items = this.#items;
    const item = items[this.#head];
    items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (items.length - 1);
    this.#size--;
    return item;
  }

  /** The head, left in place. */
  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#head];
  }

  /** Removes every item; returns them, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    while (this.#size > 0) out.push(this.shift()!);
    return out;
  }

  /** Keeps only the items for which `keep` returns `true`, in order. */
  compact(keep: (item: T) => boolean): void {
    const kept = this.drain().filter(keep);
    for (const item of kept) this.push(item);
  }

  #grow(): void {
    const old = this.#items;
    const n = old.length;
    const next = new Array<T | undefined>(n * 2);
    for (let i = 0; i < n; i++) next[i] = old[(this.#head + i) & (n - 1)];
    this.#items = next;
    this.#head = 0;
  }
}
