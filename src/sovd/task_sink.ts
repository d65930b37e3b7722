// The executor binding: per-task liveness and timing folded from executor
// hooks into pre-allocated slots, read on the observer's own cadence.

import { requireInteger, requireName, requireOptions } from "../internal/validate.ts";
import type { ExecutorHooks } from "../exec/hooks.ts";

export type { ExecutorHooks } from "../exec/hooks.ts";

/**
 * A task's liveness: `unknown` (known, no run since its last start),
 * `running` (it has run since its last start and has not stopped),
 * `stopped` (stopped cleanly), `error` (a run failed or it was stopped for
 * an error since its last start: latched; a clean stop does not clear it,
 * only the next start does).
 */
export type LivenessState = "unknown" | "running" | "stopped" | "error";

/** Every {@linkcode LivenessState}, in slot-code order. */
export const LIVENESS_STATES: readonly LivenessState[] = ["unknown", "running", "stopped", "error"];

/** A task's liveness and its lifecycle counts. */
export interface TaskLiveness {
  /** Where it is. */
  state: LivenessState;
  /** Lifecycle starts: added, resumed. */
  starts: number;
  /** Lifecycle stops: cancelled, failed, quarantined, a one-shot task done. */
  stops: number;
  /** Failed runs plus stops for an error. */
  errors: number;
}

/** A task's timing, in ms and Hz; `NaN` before the first sample. */
export interface TaskTiming {
  /** Runs that ended. */
  executions: number;
  /** The last run's execution time, ms. */
  lastMs: number;
  /** Execution time, exponentially weighted (a new run weighs 1/8), ms. */
  ewmaMs: number;
  /** The shortest execution, ms. */
  minMs: number;
  /** The longest execution, ms. */
  maxMs: number;
  /** Time between run starts, exponentially weighted (1/8), ms. */
  periodMs: number;
  /** Runs per second: `1000 / periodMs`. */
  rateHz: number;
}

/** One task as the binding sees it. */
export interface TaskBinding {
  /** The task's name. */
  name: string;
  /** Its liveness. */
  liveness: TaskLiveness;
  /** Its timing. */
  timing: TaskTiming;
}

/** Options of a {@linkcode TaskSink}. */
export interface TaskSinkOptions {
  /**
   * Task slots, allocated up front. A task beyond them gets no slot: its
   * hook calls are counted in `unregistered`, never stored.
   *
   * @default {256}
   */
  capacity?: number;
}

/** The sink's own figures. */
export interface TaskSinkStats {
  /** Slots allocated. */
  capacity: number;
  /** Slots taken (one per distinct task name). */
  used: number;
  /** `attach` calls refused because every slot was taken. */
  refused: number;
  /** Hook calls for an index without a slot (counted, not stored). */
  unregistered: number;
}

// Slot layout: FIELDS float64 per task.
const STATE = 0;
const STARTS = 1;
const STOPS = 2;
const ERRORS = 3;
const LATCHED = 4;
const EXECUTIONS = 5;
const LAST = 6;
const EWMA = 7;
const MIN = 8;
const MAX = 9;
const RUN_START = 10;
const PREV_START = 11;
const PERIOD = 12;
const FIELDS = 13;

const UNKNOWN = 0;
const RUNNING = 1;
const STOPPED = 2;
const ERROR = 3;

/** A new sample's weight in the moving averages. */
const EWMA_WEIGHT = 1 / 8;

/** The most slots a sink allocates. */
const MAX_CAPACITY = 65536;

/**
 * The executor binding (after ros2_medkit's executor binding crate): it
 * implements {@linkcode ExecutorHooks} and folds every hook call into one
 * pre-allocated `Float64Array` (a slot per task): liveness (state, starts,
 * stops, errors) and timing (executions, last, EWMA, min, max, period,
 * rate). The hooks do no allocation and take no lock; only `attach` (a task
 * added) may claim a slot. A task with no slot is counted, never allocated
 * for. Readers (`snapshot()`, `read()`) allocate their snapshot, on their
 * own cadence.
 *
 * @example Folding hooks into liveness and timing
 * ```ts
 * import { TaskSink } from "@chronetix/core/sovd";
 * import { assertEquals } from "@std/assert";
 *
 * const sink = new TaskSink({ capacity: 1 });
 * const i = sink.attach("sensor", 0);
 * sink.onStart(i, 10);
 * sink.onEnd(i, 12, true);
 * sink.onStart(i, 20);
 * sink.onEnd(i, 21, false); // a failed run latches the error
 * sink.onStop(i, 30, true); // a clean stop does not clear it
 * const sensor = sink.read("sensor")!;
 * assertEquals(sensor.liveness, { state: "error", starts: 1, stops: 1, errors: 1 });
 * assertEquals([sensor.timing.executions, sensor.timing.minMs, sensor.timing.maxMs], [2, 1, 2]);
 * assertEquals([sensor.timing.periodMs, sensor.timing.rateHz], [10, 100]);
 * assertEquals(sink.attach("another", 40), -1); // full: counted, not allocated
 * sink.onStart(-1, 41);
 * assertEquals(sink.stats().unregistered, 1);
 * ```
 */
export class TaskSink implements ExecutorHooks {
  /** Slots allocated. */
  readonly capacity: number;
  readonly #slots: Float64Array;
  readonly #names: string[] = [];
  readonly #index = new Map<string, number>();
  #refused = 0;
  #unregistered = 0;

  /**
   * Allocates the slots.
   *
   * @param options The capacity.
   * @throws {TypeError} when `options` is not an object.
   * @throws {RangeError} when `capacity` is not an integer in [1, 65536].
   */
  constructor(options: TaskSinkOptions = {}) {
    const action = "create a TaskSink";
    requireOptions(action, "options", options);
    this.capacity = requireInteger(action, "capacity", options.capacity ?? 256, 1, MAX_CAPACITY);
    this.#slots = new Float64Array(this.capacity * FIELDS);
  }

  /**
   * A task was added or resumed: claims (or finds) its slot by name, counts
   * a start and clears a latched error; the state is `unknown` until it runs.
   *
   * @param name The task's name.
   * @param atMs When, ms.
   * @returns Its slot index, or `-1` when every slot is taken (counted in `refused`).
   * @throws {TypeError} when `name` is not a non-empty well-formed string.
   */
  attach(name: string, atMs: number): number {
    requireName("attach a task to a TaskSink", "name", name);
    let i = this.#index.get(name);
    if (i === undefined) {
      if (this.#names.length >= this.capacity) {
        this.#refused++;
        return -1;
      }
      i = this.#names.length;
      this.#names.push(name);
      this.#index.set(name, i);
      const o = i * FIELDS;
      this.#slots.fill(NaN, o + LAST, o + FIELDS);
      this.#slots[o + EXECUTIONS] = 0;
    }
    void atMs;
    const o = i * FIELDS;
    const s = this.#slots;
    s[o + STARTS]!++;
    s[o + LATCHED] = 0;
    s[o + STATE] = UNKNOWN;
    return i;
  }

  /**
   * A run starts: the state becomes `running` (unless an error is latched)
   * and the interval since the previous start feeds the period.
   *
   * @param taskIndex The task's slot, from `attach`.
   * @param atMs When, ms.
   */
  onStart(taskIndex: number, atMs: number): void {
    const o = this.#offset(taskIndex);
    if (o < 0) return;
    const s = this.#slots;
    if (s[o + LATCHED] === 0) s[o + STATE] = RUNNING;
    const prev = s[o + PREV_START]!;
    if (prev === prev) { // not NaN
      const interval = atMs - prev;
      const period = s[o + PERIOD]!;
      s[o + PERIOD] = period === period ? period + (interval - period) * EWMA_WEIGHT : interval;
    }
    s[o + PREV_START] = atMs;
    s[o + RUN_START] = atMs;
  }

  /**
   * A run ends: its execution time is folded in; a failed run counts an
   * error and latches the `error` state.
   *
   * @param taskIndex The task's slot, from `attach`.
   * @param atMs When, ms.
   * @param ok `false` when the run failed.
   */
  onEnd(taskIndex: number, atMs: number, ok: boolean): void {
    const o = this.#offset(taskIndex);
    if (o < 0) return;
    const s = this.#slots;
    s[o + EXECUTIONS]!++;
    const start = s[o + RUN_START]!;
    s[o + RUN_START] = NaN;
    if (start === start) {
      const exec = atMs - start;
      s[o + LAST] = exec;
      const ewma = s[o + EWMA]!;
      s[o + EWMA] = ewma === ewma ? ewma + (exec - ewma) * EWMA_WEIGHT : exec;
      if (!(exec >= s[o + MIN]!)) s[o + MIN] = exec;
      if (!(exec <= s[o + MAX]!)) s[o + MAX] = exec;
    }
    if (!ok) this.#latch(o);
  }

  /**
   * The task stopped: `stopped` on a clean stop unless an error is latched;
   * a stop for an error counts one and latches it.
   *
   * @param taskIndex The task's slot, from `attach`.
   * @param atMs When, ms.
   * @param ok Whether it was a clean stop.
   */
  onStop(taskIndex: number, atMs: number, ok: boolean): void {
    void atMs;
    const o = this.#offset(taskIndex);
    if (o < 0) return;
    const s = this.#slots;
    s[o + STOPS]!++;
    if (!ok) this.#latch(o);
    else if (s[o + LATCHED] === 0) s[o + STATE] = STOPPED;
  }

  /**
   * Reads one task.
   *
   * @param name The task's name.
   * @returns Its binding, or `undefined` when it has no slot.
   */
  read(name: string): TaskBinding | undefined {
    const i = this.#index.get(name);
    return i === undefined ? undefined : this.#read(i);
  }

  /**
   * Reads every task with a slot, in the order they were first attached.
   *
   * @returns A new array of bindings.
   */
  snapshot(): TaskBinding[] {
    const out: TaskBinding[] = new Array(this.#names.length);
    for (let i = 0; i < out.length; i++) out[i] = this.#read(i);
    return out;
  }

  /** The sink's own figures. */
  stats(): TaskSinkStats {
    return {
      capacity: this.capacity,
      used: this.#names.length,
      refused: this.#refused,
      unregistered: this.#unregistered,
    };
  }

  /** The slot offset of an index, or -1 (counted) when it has no slot. */
  #offset(taskIndex: number): number {
    if (taskIndex >= 0 && taskIndex < this.#names.length && (taskIndex | 0) === taskIndex) {
      return taskIndex * FIELDS;
    }
    this.#unregistered++;
    return -1;
  }

  #latch(o: number): void {
    const s = this.#slots;
    s[o + ERRORS]!++;
    s[o + LATCHED] = 1;
    s[o + STATE] = ERROR;
  }

  #read(i: number): TaskBinding {
    const s = this.#slots;
    const o = i * FIELDS;
    const period = s[o + PERIOD]!;
    return {
      name: this.#names[i]!,
      liveness: {
        state: LIVENESS_STATES[s[o + STATE]!]!,
        starts: s[o + STARTS]!,
        stops: s[o + STOPS]!,
        errors: s[o + ERRORS]!,
      },
      timing: {
        executions: s[o + EXECUTIONS]!,
        lastMs: s[o + LAST]!,
        ewmaMs: s[o + EWMA]!,
        minMs: s[o + MIN]!,
        maxMs: s[o + MAX]!,
        periodMs: period,
        rateHz: period > 0 ? 1000 / period : NaN,
      },
    };
  }
}
