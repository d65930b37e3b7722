// How big the offload pool is and how busy: when it grows (jobs wait and no
// worker is idle), which workers it stops (idle for `idleTimeoutMs` while
// more than `minWorkers` run), and its utilization (busy worker-time over
// running worker-time: each worker keeps its own, and a worker leaving the
// pool adds its time to the totals). The pool starts and stops the workers;
// this file decides and counts.

import type { WorkerSlot } from "./_offload_slot.ts";

/** The pool's size figures, for `stats()`. */
export interface SizingFigures {
  workersAlive: number;
  workersIdle: number;
  workersGrown: number;
  workersShrunk: number;
  utilizationRatio: number;
}

/** The offload pool's sizing; see the file comment. */
export class PoolSizing {
  /** Workers started on demand. */
  grown = 0;
  /** Workers stopped after their idle timeout. */
  shrunk = 0;
  readonly #min: number;
  readonly #max: number;
  readonly #idleTimeoutMs: number;
  // Busy and running worker-milliseconds of the workers no longer in the pool.
  #retiredBusyMs = 0;
  #retiredAliveMs = 0;

  /**
   * @param min Workers kept even when idle.
   * @param max Workers at most.
   * @param idleTimeoutMs Idle time after which a worker past `min` stops; `Infinity`: never.
   */
  constructor(min: number, max: number, idleTimeoutMs: number) {
    this.#min = min;
    this.#max = max;
    this.#idleTimeoutMs = idleTimeoutMs;
  }

  /** A worker got its first job since it was idle. */
  busy(slot: WorkerSlot, now: number): void {
    if (slot.idleSince === undefined) return;
    slot.idleSince = undefined;
    slot.busySince = now;
  }

  /** A worker's last job finished. */
  idle(slot: WorkerSlot, now: number): void {
    if (slot.busySince !== undefined) slot.busyMs += now - slot.busySince;
    slot.busySince = undefined;
    slot.idleSince = now;
  }

  /** A worker leaves the pool (stopped, died, replaced): its time is kept in the totals. */
  retire(slot: WorkerSlot, now: number): void {
    if (slot.retired) return;
    slot.retired = true;
    this.#retiredBusyMs += busyMs(slot, now);
    this.#retiredAliveMs += now - slot.startedAt;
  }

  /** Whether to start a worker: jobs wait, none is idle, and there is room. */
  wantsWorker(slots: readonly WorkerSlot[], queued: number): boolean {
    if (queued === 0) return false;
    let alive = 0;
    for (const slot of slots) {
      if (slot.dead) continue;
      if (slot.inFlight.size === 0 && !slot.blocked) return false;
      alive++;
    }
    return alive < this.#max;
  }

  /** Workers the pool may still start. */
  growRoom(slots: readonly WorkerSlot[]): number {
    return this.#max - live(slots);
  }

  /** Whether some worker may stop later: more than `min` run and idle ones can time out. */
  mayShrink(slots: readonly WorkerSlot[]): boolean {
    return this.#idleTimeoutMs !== Infinity && live(slots) > this.#min;
  }

  /** How often to look for idle workers, ms. */
  get checkEveryMs(): number {
    return Math.min(1000, Math.max(5, this.#idleTimeoutMs / 2));
  }

  /**
   * The workers to stop now: idle (no job, nothing to watch) for at least
   * `idleTimeoutMs`, newest first, while more than `min` would remain.
   */
  idleToStop(slots: readonly WorkerSlot[], now: number): WorkerSlot[] {
    let alive = live(slots);
    const stop: WorkerSlot[] = [];
    for (let i = slots.length - 1; i >= 0 && alive > this.#min; i--) {
      const slot = slots[i]!;
      if (slot.dead || slot.inFlight.size > 0 || slot.needsWatch()) continue;
      if (slot.idleSince === undefined || now - slot.idleSince < this.#idleTimeoutMs) continue;
      stop.push(slot);
      alive--;
    }
    return stop;
  }

  /** The size figures at `now`. */
  figures(slots: readonly WorkerSlot[], now: number): SizingFigures {
    let alive = 0;
    let idle = 0;
    let busy = this.#retiredBusyMs;
    let running = this.#retiredAliveMs;
    for (const slot of slots) {
      if (slot.dead || slot.retired) continue;
      alive++;
      if (slot.inFlight.size === 0) idle++;
      busy += busyMs(slot, now);
      running += now - slot.startedAt;
    }
    return {
      workersAlive: alive,
      workersIdle: idle,
      workersGrown: this.grown,
      workersShrunk: this.shrunk,
      utilizationRatio: running > 0 ? Math.min(1, Math.max(0, busy / running)) : 0,
    };
  }
}

function busyMs(slot: WorkerSlot, now: number): number {
  return slot.busyMs + (slot.busySince === undefined ? 0 : now - slot.busySince);
}

function live(slots: readonly WorkerSlot[]): number {
  let alive = 0;
  for (const slot of slots) if (!slot.dead) alive++;
  return alive;
}
