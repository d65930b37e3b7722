// The executor's ready queue: a binary min-heap ordered earliest deadline
// first, with each entry's position stored in the entry, so an entry can be
// removed from the middle (drop-oldest, cancel) in O(log n). Allocation-free
// once the backing array has grown.

/** What the queue orders by; the entry keeps its own position. */
export interface EdfEntry {
  /** Absolute deadline, ms: earlier runs first. */
  deadline: number;
  /** Breaks deadline ties: higher runs first. */
  priority: number;
  /** Release order, unique per entry: breaks the remaining ties, lower first. */
  seq: number;
  /** Position in the queue, `-1` when not queued. Owned by the queue. */
  heapIndex: number;
}

/** Whether `a` runs before `b`: earlier deadline, then higher priority, then earlier release. */
export function runsBefore(a: EdfEntry, b: EdfEntry): boolean {
  if (a.deadline !== b.deadline) return a.deadline < b.deadline;
  if (a.priority !== b.priority) return a.priority > b.priority;
  return a.seq < b.seq;
}

/**
 * Entries in EDF order with O(log n) push, pop and removal of any entry.
 *
 * @example Earliest deadline first, then priority, then release order
 * ```ts
 * import { EdfQueue } from "./_edf_queue.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const entry = (deadline: number, priority: number, seq: number) =>
 *   ({ deadline, priority, seq, heapIndex: -1 });
 * const queue = new EdfQueue();
 * const late = entry(9, 0, 0);
 * const low = entry(5, 0, 1);
 * const high = entry(5, 1, 2);
 * queue.push(late);
 * queue.push(low);
 * queue.push(high);
 * assertEquals(queue.remove(low), true);
 * assertEquals([queue.pop(), queue.pop(), queue.pop()], [high, late, undefined]);
 * ```
 */
export class EdfQueue<T extends EdfEntry = EdfEntry> {
  readonly #heap: T[] = [];

  /** Entries queued. */
  get size(): number {
    return this.#heap.length;
  }

  /**
   * Adds an entry that is not queued yet.
   *
   * @param entry The entry; its `heapIndex` must be `-1`.
   */
  push(entry: T): void {
    const i = this.#heap.length;
    this.#heap.push(entry);
    this.#siftUp(entry, i);
  }

  /**
   * Removes the entry that runs first.
   *
   * @returns It, or `undefined` when the queue is empty.
   */
  pop(): T | undefined {
    const heap = this.#heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) this.#siftDown(last, 0);
    top.heapIndex = -1;
    return top;
  }

  /**
   * The entry that runs first, left in place.
   *
   * @returns It, or `undefined` when the queue is empty.
   */
  peek(): T | undefined {
    return this.#heap[0];
  }

  /**
   * Removes an entry wherever it is.
   *
   * @param entry The entry.
   * @returns `false` when it was not queued.
   */
  remove(entry: T): boolean {
    const heap = this.#heap;
    const i = entry.heapIndex;
    if (i < 0 || heap[i] !== entry) return false;
    const last = heap.pop()!;
    if (i < heap.length) {
      // The last entry fills the hole, then moves down or up, whichever applies.
      this.#siftDown(last, i);
      if (last.heapIndex === i) this.#siftUp(last, i);
    }
    entry.heapIndex = -1;
    return true;
  }

  #siftUp(entry: T, i: number): void {
    const heap = this.#heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!runsBefore(entry, p)) break;
      heap[i] = p;
      p.heapIndex = i;
      i = parent;
    }
    heap[i] = entry;
    entry.heapIndex = i;
  }

  #siftDown(entry: T, i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && runsBefore(heap[r]!, heap[l]!) ? r : l;
      const child = heap[c]!;
      if (!runsBefore(child, entry)) break;
      heap[i] = child;
      child.heapIndex = i;
      i = c;
    }
    heap[i] = entry;
    entry.heapIndex = i;
  }
}
