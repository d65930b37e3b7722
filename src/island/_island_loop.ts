// The scheduling loop of an island's thread: periodic tasks, earliest
// deadline first among those due, drift-free releases. Between releases the
// thread sleeps on the control word (`Atomics.wait`, so the main thread can
// wake it to stop) until the next release minus the lead, then spins on the
// clock to the release. No event-loop turn, no promise, no message and no
// allocation per tick: each run writes its figures into its slot (a seqlock
// in shared memory). The host (clock and sleep) is injected, so the loop runs
// unchanged on a fake clock in tests; tasks may be added while it runs.

import { type BudgetPolicy, BudgetTracker, TIER_LEVEL } from "../exec/budget.ts";
import type { MissedTickPolicy } from "../time/timer_wheel.ts";
import { show } from "../internal/validate.ts";
import type { IslandContext, IslandTaskContext } from "./island_types.ts";
import { recordCells, resetCells } from "../internal/histogram_cells.ts";
import {
  beginWrite,
  C_BEAT,
  C_COMMAND,
  C_LEAD_US,
  C_RUN_SEQ,
  C_RUNNING,
  endWrite,
  F_FAILURES,
  F_MISSES,
  F_OVERRUNS,
  F_QUARANTINE_EXEC,
  F_QUARANTINE_OVERRUNS,
  F_RELEASES,
  F_RUNS,
  F_SKIPPED,
  F_STATE,
  F_TIER,
  H_EXEC,
  H_LATE,
  H_SCHED,
  SLOT_BYTES,
  SLOT_STATES,
  type SlotState,
  type SlotViews,
  slotViews,
  writeErrorText,
} from "./_island_layout.ts";

/** The clock and the sleep of the loop. */
export interface LoopHost {
  /** The island's clock, ms. */
  now(): number;
  /**
   * Sleeps up to `ms` (`Infinity`: until woken) unless the control word's
   * command is set: `Atomics.wait(control, C_COMMAND, 0, ms)` in a thread.
   */
  sleep(ms: number): void;
}

/** A task of the loop, checked. */
export interface LoopTask {
  name: string;
  run: (ctx: IslandTaskContext) => unknown;
  periodMs: number;
  deadlineMs: number;
  delayMs: number;
  budgetMs: number | undefined;
  missedTicks: MissedTickPolicy;
  onError: "continue" | "stop";
}

/** The most missed releases a `burst` runs after a stall; older ones are skipped. */
const MAX_BURST = 10_000;

const STATE_CODE: Record<SlotState, number> = Object.fromEntries(
  SLOT_STATES.map((s, i) => [s, i]),
) as Record<SlotState, number>;

class Entry implements IslandTaskContext {
  readonly name: string;
  readonly island: string;
  readonly restarts: number;
  readonly values: IslandContext["values"];
  readonly rings: IslandContext["rings"];
  readonly now: () => number;
  release = 0;
  deadline = 0;
  next = Infinity;
  /** The schedule's origin and the index of the next release: next = first + k * period. */
  first = Infinity;
  k = 0;
  active = true;
  readonly task: LoopTask;
  readonly slot: SlotViews;
  readonly index: number;
  readonly budget: BudgetTracker;

  constructor(
    task: LoopTask,
    slot: SlotViews,
    index: number,
    scope: IslandContext,
    policy: BudgetPolicy,
  ) {
    this.task = task;
    this.name = task.name;
    this.slot = slot;
    this.index = index;
    this.island = scope.island;
    this.restarts = scope.restarts;
    this.values = scope.values;
    this.rings = scope.rings;
    this.now = scope.now;
    this.budget = new BudgetTracker(policy);
  }

  /** Starts the schedule: the first release `delayMs` after `now`. */
  arm(now: number): void {
    this.first = now + this.task.delayMs;
    this.k = 0;
    this.next = this.first;
  }
}

/** Options of an {@linkcode IslandLoop}. */
export interface IslandLoopOptions {
  /** The control block. */
  control: Int32Array;
  /** Clock and sleep. */
  host: LoopHost;
  /** The least spin lead, ms. */
  leadMs: number;
  /** The most the lead may grow to while wake-ups come late, ms. @default {leadMs} */
  maxLeadMs?: number;
  /** The budget tiers' policy. */
  budget: BudgetPolicy;
  /** What every context holds. */
  scope: IslandContext;
}

/** The scheduling loop; see the file comment. */
export class IslandLoop {
  readonly #control: Int32Array;
  readonly #host: LoopHost;
  readonly #lead: AdaptiveLead;
  readonly #policy: BudgetPolicy;
  readonly #scope: IslandContext;
  readonly #entries: Entry[] = [];
  #running = false;

  constructor(options: IslandLoopOptions) {
    this.#control = options.control;
    this.#host = options.host;
    this.#lead = new AdaptiveLead(options.leadMs, options.maxLeadMs ?? options.leadMs);
    Atomics.store(this.#control, C_LEAD_US, Math.round(this.#lead.ms * 1000));
    this.#policy = options.budget;
    this.#scope = options.scope;
  }

  /**
   * Adds a task; its first release is `delayMs` after now (or after the loop
   * starts). Without a shared slot its figures go to a private one.
   *
   * @returns The task's index.
   */
  add(task: LoopTask, slot?: SlotViews): number {
    const own = slot ?? privateSlot();
    const index = this.#entries.length;
    const entry = new Entry(task, own, index, this.#scope, this.#policy);
    if (this.#running) entry.arm(this.#host.now());
    this.#entries.push(entry);
    return index;
  }

  /** Tasks added. */
  get size(): number {
    return this.#entries.length;
  }

  /**
   * Runs until the control word's command is set (checked between runs, and
   * the sleep wakes on it); a run in progress finishes first.
   */
  run(): void {
    const control = this.#control;
    const host = this.#host;
    const entries = this.#entries;
    const lead = this.#lead;
    this.#running = true;
    const start = host.now();
    for (const e of entries) if (e.next === Infinity && e.active) e.arm(start);
    while (Atomics.load(control, C_COMMAND) === 0) {
      Atomics.add(control, C_BEAT, 1);
      let now = host.now();
      const pick = this.#earliestDue(now);
      if (pick !== undefined) {
        this.#runOnce(pick, this.#advance(pick, now), now);
        continue;
      }
      let soonest: Entry | undefined;
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        if (e.active && (soonest === undefined || e.next < soonest.next)) soonest = e;
      }
      if (soonest === undefined) {
        host.sleep(Infinity);
        continue;
      }
      const due = soonest.next;
      const wakeAt = due - lead.ms;
      if (now < wakeAt) {
        host.sleep(wakeAt - now);
        const woke = host.now();
        // Woken early (a command, a spurious wake): look again.
        if (woke < wakeAt) continue;
        if (lead.learn(woke - wakeAt)) {
          Atomics.store(control, C_LEAD_US, Math.round(lead.ms * 1000));
        }
      }
      if (Atomics.load(control, C_COMMAND) !== 0) break;
      // The run of this release is readied before the spin (the task among
      // those due then with the earliest deadline, its release worked out),
      // so the spin's end goes straight into the task: the bookkeeping,
      // slow on caches the sleep left cold, is not paid in its lateness.
      const ready = this.#earliestDue(due)!;
      const { first, k, next } = ready;
      let skipped = this.#advance(ready, due);
      // The spin is bounded by the lead (plus a late wake, which ends it at once).
      do now = host.now(); while (now < due);
      if (now - ready.release >= ready.task.periodMs) {
        // The thread lost the CPU for over a period in the spin: work the
        // release out again from when it started, as a run found due would.
        ready.first = first;
        ready.k = k;
        ready.next = next;
        skipped = this.#advance(ready, now);
      }
      this.#runOnce(ready, skipped, now);
    }
    this.#running = false;
  }

  /** Marks every task cancelled in its slot (the island stopped). */
  cancelAll(): void {
    for (const e of this.#entries) {
      if (!e.active && e.slot.cells[F_STATE] !== STATE_CODE.done) continue;
      e.active = false;
      beginWrite(e.slot);
      e.slot.cells[F_STATE] = STATE_CODE.cancelled;
      endWrite(e.slot);
    }
  }

  /** Among the active tasks released by `at`, the one with the earliest deadline. */
  #earliestDue(at: number): Entry | undefined {
    const entries = this.#entries;
    let pick: Entry | undefined;
    let best = Infinity;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (!e.active || e.next > at) continue;
      const d = e.next + e.task.deadlineMs;
      if (pick === undefined || d < best) {
        pick = e;
        best = d;
      }
    }
    return pick;
  }

  /**
   * Works out the release a run starting at `start` serves (after a stall,
   * by the missed-tick policy) and moves the task to its next release.
   *
   * @returns The releases skipped.
   */
  #advance(e: Entry, start: number): number {
    const task = e.task;
    const period = task.periodMs;
    let release = e.next;
    let skipped = 0;
    const behind = start - release;
    if (behind >= period) {
      const missed = Math.floor(behind / period);
      if (task.missedTicks === "delay") {
        // Re-armed from now: the phase moves.
        e.first = start;
        e.k = 0;
      } else {
        skipped = task.missedTicks === "skip" ? missed : Math.max(0, missed - MAX_BURST);
        e.k += skipped;
        release = e.first + e.k * period;
      }
    }
    e.k++;
    e.next = e.first + e.k * period;
    e.release = release;
    e.deadline = release + task.deadlineMs;
    return skipped;
  }

  /** Runs the task for the release {@linkcode IslandLoop.#advance} worked out, and writes its slot. */
  #runOnce(e: Entry, skipped: number, start: number): void {
    const task = e.task;
    const control = this.#control;
    Atomics.store(control, C_RUNNING, e.index + 1);
    Atomics.add(control, C_RUN_SEQ, 1);
    let failure: unknown = NO_FAILURE;
    try {
      const result = task.run(e);
      if (
        result !== undefined && result !== null &&
        typeof (result as { then?: unknown }).then === "function"
      ) {
        failure = new TypeError(
          `Cannot run island task "${task.name}" as it returned a promise: island tasks run synchronously`,
        );
      }
    } catch (error) {
      failure = error;
    }
    // This thread never ends an event-loop turn while the loop runs: publish
    // what the task sent on its ring (a batched writer) and show the ring's
    // reader that this end lives.
    this.#scope.rings.out?.flush();
    const end = this.#host.now();
    Atomics.store(control, C_RUNNING, 0);
    const slot = e.slot;
    const cells = slot.cells;
    beginWrite(slot);
    cells[F_RELEASES]! += 1 + skipped;
    cells[F_RUNS]!++;
    cells[F_SKIPPED]! += skipped;
    recordCells(cells, H_SCHED, start - e.release);
    const exec = end - start;
    recordCells(cells, H_EXEC, exec);
    if (e.deadline !== Infinity) {
      recordCells(cells, H_LATE, end - e.deadline);
      if (end > e.deadline) cells[F_MISSES]!++;
    }
    cells[F_STATE] = STATE_CODE.done;
    const budget = task.budgetMs;
    if (budget !== undefined) {
      if (exec > budget) cells[F_OVERRUNS]!++;
      if (e.budget.observe(exec, budget, end) !== 0) {
        cells[F_TIER] = e.budget.level;
        if (e.budget.level === TIER_LEVEL.isolate) {
          e.active = false;
          cells[F_STATE] = STATE_CODE.quarantined;
          cells[F_QUARANTINE_OVERRUNS] = cells[F_OVERRUNS]!;
          cells[F_QUARANTINE_EXEC] = exec;
        }
      }
    }
    if (failure !== NO_FAILURE) {
      cells[F_FAILURES]!++;
      writeFailure(slot, failure, end);
      if (task.onError === "stop") {
        e.active = false;
        cells[F_STATE] = STATE_CODE.failed;
      }
    }
    endWrite(slot);
  }
}

const NO_FAILURE: unique symbol = Symbol("none");

function writeFailure(slot: SlotViews, error: unknown, atMs: number): void {
  let message: string;
  let stack: string | undefined;
  try {
    if (error instanceof Error) {
      message = String(error.message);
      stack = typeof error.stack === "string" ? error.stack : undefined;
    } else {
      message = typeof error === "string" ? error : show(error);
    }
  } catch {
    message = "a value that cannot be described (its properties throw)";
    stack = undefined;
  }
  writeErrorText(slot, message, stack, atMs);
}

/** A slot in a private buffer, for a task the main thread did not declare. */
function privateSlot(): SlotViews {
  const views = slotViews(new SharedArrayBuffer(SLOT_BYTES), 0);
  for (const at of [H_SCHED, H_EXEC, H_LATE]) resetCells(views.cells, at);
  return views;
}

/** Wake-up delays the lead is derived from. */
const LEAD_WINDOW = 64;
/** The lead follows the LEAD_RANK-th largest delay of the window (about its 95th percentile). */
const LEAD_RANK = 4;
/** Added to the observed delay: the wake-up still has to reach the spin. */
const LEAD_MARGIN_MS = 0.05;

/**
 * The island's spin lead: the fourth largest of the last 64 wake-up delays
 * (how late `Atomics.wait` returned after the time asked), plus a margin,
 * kept within `[minMs, maxMs]`, once 64 delays are known. On a quiet machine the thread wakes within
 * tens of µs and the lead stays at its least; while a busy machine delays
 * wake-ups the lead grows, so the thread wakes early enough and spins the
 * rest (more CPU, the same timing). Pre-allocated; recomputed every 8
 * samples.
 */
export class AdaptiveLead {
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #delays = new Float64Array(LEAD_WINDOW);
  readonly #scratch = new Float64Array(LEAD_WINDOW);
  #count = 0;
  #ms: number;

  constructor(minMs: number, maxMs: number) {
    this.#minMs = minMs;
    this.#maxMs = Math.max(minMs, maxMs);
    this.#ms = minMs;
  }

  /** The lead now, ms. */
  get ms(): number {
    return this.#ms;
  }

  /**
   * Learns one wake-up delay, ms.
   *
   * @returns Whether the lead changed.
   */
  learn(delayMs: number): boolean {
    this.#delays[this.#count % LEAD_WINDOW] = delayMs;
    this.#count++;
    if (this.#maxMs === this.#minMs || this.#count % 8 !== 0) return false;
    if (this.#count < LEAD_WINDOW) return false; // a full window first
    const sorted = this.#scratch;
    sorted.set(this.#delays);
    sorted.sort();
    const observed = sorted[LEAD_WINDOW - LEAD_RANK]! + LEAD_MARGIN_MS;
    const next = Math.min(this.#maxMs, Math.max(this.#minMs, observed));
    if (next === this.#ms) return false;
    this.#ms = next;
    return true;
  }
}
