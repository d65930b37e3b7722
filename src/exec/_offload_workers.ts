// The offload pool's workers as a set: starting the first `minWorkers`,
// growing on demand, stopping idle ones past `idleTimeoutMs` (on a periodic
// check), replacing one that died or hung, and stopping all on close. The
// pool decides what happens to jobs; this file keeps the set and its sizing.

import type { Driver } from "../time/driver.ts";
import type { OffloadLedger } from "./_offload_ledger.ts";
import { type PoolConfig, workerStartError } from "./_offload_options.ts";
import { PoolSizing, type SizingFigures } from "./_offload_sizing.ts";
import { type JobRecord, type SlotDeath, type SlotEvents, WorkerSlot } from "./_offload_slot.ts";
import { PoolCheck } from "./_offload_timer.ts";

/** The offload pool's workers; see the file comment. */
export class PoolWorkers {
  /** The workers, in start order; a dead one stays only when its replacement failed to start. */
  readonly slots: WorkerSlot[] = [];
  /** Size decisions, counts and utilization. */
  readonly sizing: PoolSizing;
  readonly #config: PoolConfig;
  readonly #driver: Driver;
  readonly #ledger: OffloadLedger;
  readonly #events: SlotEvents;
  /** Looks for idle workers to stop while more than `minWorkers` run. */
  readonly #reaper: PoolCheck;
  #stopped = false;

  /**
   * Starts `minWorkers` workers.
   *
   * @throws {ChronetixError} (code `E_WORKER_START`) when one cannot start;
   * those started are stopped again.
   */
  constructor(config: PoolConfig, driver: Driver, ledger: OffloadLedger, events: SlotEvents) {
    this.#config = config;
    this.#driver = driver;
    this.#ledger = ledger;
    this.#events = events;
    this.sizing = new PoolSizing(config.minWorkers, config.maxWorkers, config.idleTimeoutMs);
    this.#reaper = new PoolCheck(driver, this.#shrink, (error) => ledger.keep(error, "sweep"));
    try {
      for (let i = 0; i < config.minWorkers; i++) this.slots.push(this.#spawn());
    } catch (error) {
      for (const slot of this.slots) slot.stop();
      throw workerStartError(config.permissions, error);
    }
  }

  /** Stopped by `stopAll()`: no worker starts any more. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Workers the pool may still start (none once stopped or `closing`). */
  growRoom(closing: boolean): number {
    return closing || this.#stopped ? 0 : this.sizing.growRoom(this.slots);
  }

  /**
   * Starts a worker if `queued` jobs wait, none is idle and there is room.
   *
   * @returns The start error when it failed and no worker runs at all (the
   * waiting jobs could never run), else `undefined`.
   */
  growIfWanted(queued: number, closing: boolean): unknown {
    if (closing || this.#stopped || !this.sizing.wantsWorker(this.slots, queued)) return undefined;
    for (let i = this.slots.length - 1; i >= 0; i--) {
      if (this.slots[i]!.dead) this.slots.splice(i, 1);
    }
    try {
      this.slots.push(this.#spawn());
      this.sizing.grown++;
    } catch (error) {
      this.#ledger.keep(error, "spawn");
      return this.slots.length > 0 ? undefined : workerStartError(this.#config.permissions, error);
    }
    if (this.sizing.mayShrink(this.slots)) this.#reaper.arm(this.sizing.checkEveryMs);
    return undefined;
  }

  /**
   * Stops `slot` and starts another in its place (unless stopped), logging why.
   *
   * @param kind The log line's kind (rate-limited per kind).
   * @param why Why, for people: "it crashed: ...".
   */
  replace(slot: WorkerSlot, kind: string, why: string): void {
    this.sizing.retire(slot, this.#driver.clock.now());
    slot.stop();
    this.#ledger.counts.replaced++;
    this.#ledger.log(kind, `Offload pool "${this.#config.name}" replaced a worker as ${why}`);
    const index = this.slots.indexOf(slot);
    // While closing, a replacement still serves the grace period; once stopped, none.
    if (this.#stopped || index < 0) return;
    try {
      this.slots[index] = this.#spawn();
    } catch (error) {
      // The dead slot stays in place (skipped by dispatch) and is counted out of workersAlive.
      this.#ledger.keep(error, "spawn");
    }
  }

  /** Replaces a worker that died; one out of heap is counted in `oomKills`. */
  replaceDead(slot: WorkerSlot, death: SlotDeath): void {
    if (death.reason === "oom") {
      this.#ledger.counts.oomKills++;
      this.replace(slot, "oom", `it ran out of heap (the limit is ${this.#config.maxHeapMb} MB)`);
    } else if (death.reason === "exit") {
      this.replace(slot, "exit", death.message);
    } else {
      this.replace(slot, "crash", `it crashed: ${death.message}`);
    }
  }

  /**
   * Replaces a worker stuck in synchronous code (`job`: the job stuck, when
   * still waited for) and counts it in `stuckWorkers`.
   */
  replaceStuck(slot: WorkerSlot, job: JobRecord | undefined): void {
    this.#ledger.counts.stuck++;
    this.replace(
      slot,
      "stuck",
      `it was stuck in ${
        job === undefined ? "a job no longer waited for" : `job "${job.job}"`
      } for over ${
        job?.timeoutMs ?? this.#config.timeoutMs
      } ms; Deno cannot stop a worker in synchronous code, so its thread may keep running`,
    );
  }

  /**
   * Replaces a worker whose messages waited past the timeout while no job
   * on record ran (an async job blocking it after an await, or its thread
   * died without a word), counted in `stuckWorkers`.
   */
  replaceUnresponsive(slot: WorkerSlot): void {
    this.#ledger.counts.stuck++;
    this.replace(
      slot,
      "unresponsive",
      `it stopped answering for over ${this.#config.timeoutMs} ms (a job blocking it after an await, or its thread died without a word); its thread may keep running`,
    );
  }

  /** Stops every worker (their jobs stay in `inFlight` for the pool to settle) and the checks. */
  stopAll(): void {
    this.#stopped = true;
    const now = this.#driver.clock.now();
    for (const slot of this.slots) {
      this.sizing.retire(slot, now);
      slot.stop();
    }
    this.#reaper.cancel();
  }

  /** The size figures of now. */
  figures(): SizingFigures {
    return this.sizing.figures(this.slots, this.#driver.clock.now());
  }

  /** Stops workers idle past `idleTimeoutMs` while more than `minWorkers` run. */
  #shrink = (): void => {
    const now = this.#driver.clock.now();
    for (const slot of this.sizing.idleToStop(this.slots, now)) {
      this.sizing.retire(slot, now);
      slot.stop();
      this.slots.splice(this.slots.indexOf(slot), 1);
      this.sizing.shrunk++;
    }
    if (!this.sizing.mayShrink(this.slots)) this.#reaper.cancel();
  };

  #spawn(): WorkerSlot {
    return new WorkerSlot({
      pool: this.#config.name,
      permissions: this.#config.permissions,
      maxHeapMb: this.#config.maxHeapMb,
      now: () => this.#driver.clock.now(),
    }, this.#events);
  }
}
