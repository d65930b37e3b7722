// The baseline a user would reach for instead of a timing wheel: a binary
// min-heap of timer objects ordered by (deadline, insertion), with an index
// in each entry so cancel is O(log n). Written here for the benchmark only.

interface HeapTimer {
  deadline: number;
  seq: number;
  callback: () => void;
  index: number;
}

export class BinaryHeapTimers {
  #heap: HeapTimer[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  schedule(deadline: number, callback: () => void): HeapTimer {
    const timer: HeapTimer = { deadline, seq: this.#seq++, callback, index: this.#heap.length };
    this.#heap.push(timer);
    this.#up(timer.index);
    return timer;
  }

  cancel(timer: HeapTimer): boolean {
    const i = timer.index;
    if (i < 0) return false;
    const last = this.#heap.pop()!;
    timer.index = -1;
    if (last !== timer) {
      this.#heap[i] = last;
      last.index = i;
      this.#down(i);
      this.#up(last.index);
    }
    return true;
  }

  advance(now: number): number {
    let fired = 0;
    while (this.#heap.length > 0 && this.#heap[0]!.deadline <= now) {
      const top = this.#heap[0]!;
      this.cancel(top);
      top.callback();
      fired++;
    }
    return fired;
  }

  #less(a: HeapTimer, b: HeapTimer): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
  }

  #up(i: number): void {
    const heap = this.#heap;
    const t = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (!this.#less(t, parent)) break;
      heap[i] = parent;
      parent.index = i;
      i = p;
    }
    heap[i] = t;
    t.index = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const t = heap[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.#less(heap[c + 1]!, heap[c]!)) c++;
      const child = heap[c]!;
      if (!this.#less(child, t)) break;
      heap[i] = child;
      child.index = i;
      i = c;
    }
    heap[i] = t;
    t.index = i;
  }
}
