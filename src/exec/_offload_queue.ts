// The offload pool's queue of jobs waiting for a worker, and the rule that
// decides which worker gets the next batch of them.

import type { JobRecord, WorkerSlot } from "./_offload_slot.ts";

/** Jobs waiting for a worker, oldest first: a head index over an array, compacted now and then. */
export class JobQueue {
  #items: JobRecord[] = [];
  #head = 0;

  /** Jobs waiting. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Adds a job at the back. */
  push(record: JobRecord): void {
    this.#items.push(record);
  }

  /** Puts a job back at the front (its worker died or hung before it ran). */
  unshift(record: JobRecord): void {
    this.#items.splice(this.#head, 0, record);
  }

  /** Removes a waiting job (cancelled). @returns Whether it was waiting. */
  remove(record: JobRecord): boolean {
    const i = this.#items.indexOf(record, this.#head);
    if (i < 0) return false;
    this.#items.splice(i, 1);
    return true;
  }

  /** Takes up to `count` jobs from the front. */
  take(count: number): JobRecord[] {
    const taken = this.#items.slice(this.#head, this.#head + count);
    this.#head += taken.length;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return taken;
  }

  /** Takes every waiting job. */
  drain(): JobRecord[] {
    const all = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return all;
  }
}

/**
 * Chooses the worker for the next batch of `waiting` jobs: an idle worker
 * first (the waiting jobs shared out among the idle ones), else the least
 * loaded with room; never one blocked by a long synchronous job, so that a
 * quick job does not wait behind a slow one while another worker could run it.
 * While the pool may still grow (`growRoom` > 0), busy workers get nothing
 * more and the share of an idle one counts the workers yet to start, so that
 * a burst waits in the queue (and makes the pool grow) rather than behind
 * the first worker.
 *
 * @param slots The pool's workers.
 * @param waiting Jobs waiting.
 * @param batch Jobs per message at most.
 * @param perWorker Jobs a worker may hold at most.
 * @param growRoom Workers the pool may still start.
 * @returns The worker and how many jobs to send it, or `undefined` when none has room.
 */
export function pickWorker(
  slots: readonly WorkerSlot[],
  waiting: number,
  batch: number,
  perWorker: number,
  growRoom = 0,
): { slot: WorkerSlot; count: number } | undefined {
  let best: WorkerSlot | undefined;
  let idle = 0;
  for (const slot of slots) {
    if (slot.dead || slot.blocked || slot.inFlight.size >= perWorker) continue;
    if (slot.inFlight.size === 0) idle++;
    else if (growRoom > 0) continue;
    if (best === undefined || slot.inFlight.size < best.inFlight.size) best = slot;
  }
  if (best === undefined || waiting === 0) return undefined;
  const share = idle > 0 ? Math.ceil(waiting / (idle + growRoom)) : waiting;
  return { slot: best, count: Math.min(batch, perWorker - best.inFlight.size, share) };
}
