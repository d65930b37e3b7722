import {
  requireFinite,
  requireFunction,
  requireInteger,
  requireLogger,
  requireNonEmptyString,
  requireOneOf,
  requirePositive,
} from "../internal/validate.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import type { ClockTarget } from "./clock.ts";

/**
 * Identifies a pending timer. It packs a slot index and a generation, so a
 * stale id (of a timer that already fired or was cancelled) never matches a
 * timer that later reuses the same slot. Ids are always `> 0`.
 */
export type TimerId = number;

/**
 * Called when a timer fires.
 *
 * @param deadline The exact deadline this fire is for, in milliseconds. For a
 * periodic timer the k-th deadline is `first + k * periodMs`.
 * @param id The timer's id (stable across the fires of a periodic timer).
 */
export type TimerCallback = (deadline: number, id: TimerId) => void;

/**
 * What a periodic timer does when it falls behind (its next deadline is
 * already in the past when it fires, after a stall):
 *
 * - `"burst"`: run every missed tick, back to back, until caught up.
 * - `"delay"`: restart the period from the time of the late fire.
 * - `"skip"`: jump to the next deadline that is not in the past, counting
 *   each skipped tick in {@linkcode TimerWheelStats.skippedTicks}.
 */
export type MissedTickPolicy = "burst" | "delay" | "skip";

/** The missed-tick policies, in a stable order. */
export const MISSED_TICK_POLICIES: readonly MissedTickPolicy[] = ["burst", "delay", "skip"];

/** Options for {@linkcode TimerWheel.schedule}. */
export interface ScheduleOptions {
  /**
   * Makes the timer periodic with this period in milliseconds; deadlines are
   * `deadline + k * periodMs`, free of drift.
   */
  periodMs?: number;
  /**
   * What a periodic timer does after a stall.
   *
   * @default {"skip"}
   */
  missedTicks?: MissedTickPolicy;
}

/** Options for the {@linkcode TimerWheel} constructor. */
export interface TimerWheelOptions {
  /**
   * Width of a level-0 slot in milliseconds. Deadlines are still exact: the
   * slot only groups timers; they fire in `(deadline, insertion)` order.
   *
   * @default {1}
   */
  tickMs?: number;
  /**
   * Number of levels of 64 slots. Deadlines further than `64 ** levels`
   * ticks ahead wait in an overflow list until they come into range.
   *
   * @default {6}
   */
  levels?: number;
  /**
   * The time, in milliseconds, of tick 0.
   *
   * @default {0}
   */
  origin?: number;
  /**
   * Number of timer entries allocated up front; the pool doubles when full.
   *
   * @default {1024}
   */
  initialCapacity?: number;
  /**
   * Receives an error thrown by a timer callback. The wheel and the other
   * timers carry on either way, and the error is counted in
   * {@linkcode TimerWheelStats.callbackErrors}. By default the first error
   * and then every 1000th are logged with `logger.error`.
   */
  onError?: (error: unknown, id: TimerId) => void;
  /**
   * Where callback errors are logged when no `onError` is given.
   *
   * @default {CONSOLE_LOGGER}
   */
  logger?: Logger;
  /**
   * The wheel's name in log lines.
   *
   * @default {"wheel"}
   */
  name?: string;
  /**
   * Called on every successful schedule with the new timer's deadline, so a
   * driver can wake earlier when needed. Keep it cheap.
   */
  onSchedule?: (deadline: number) => void;
}

/** Counters of a {@linkcode TimerWheel}, read by {@linkcode TimerWheel.stats}. */
export interface TimerWheelStats {
  /** Timers currently pending. */
  pending: number;
  /** Callbacks run (each fire of a periodic timer counts). */
  fired: number;
  /** Timers cancelled while pending. */
  cancelled: number;
  /** Periodic ticks skipped by the `"skip"` policy. */
  skippedTicks: number;
  /** Callbacks that threw. */
  callbackErrors: number;
  /** Entries moved from a higher level to a lower one. */
  cascades: number;
  /** Timers waiting in the overflow list. */
  overflow: number;
  /** Entries allocated in the pool. */
  capacity: number;
}

const SLOTS = 64;
const MAX_INDEX_BITS = 26;
const INDEX_SPACE = 2 ** MAX_INDEX_BITS;
const MAX_CAPACITY = INDEX_SPACE;
const MAX_GENERATION = 2 ** 27 - 1;
const TWO_32 = 2 ** 32;

// Where an entry lives (`#loc`); values >= 0 are a slot index.
const LOC_FREE = -1;
const LOC_HEAP = -2;
const LOC_OVERFLOW = -3;

const POLICY_CODE: Record<MissedTickPolicy, number> = { burst: 0, delay: 1, skip: 2 };
const POLICY_DELAY = 1;
const POLICY_SKIP = 2;

/**
 * A hierarchical timing wheel: O(1) schedule and cancel, exact deadlines,
 * stable order, no allocation per schedule or fire in steady state.
 *
 * The wheel holds absolute deadlines and fires them when told the time with
 * {@linkcode TimerWheel.advance}; it never reads a clock. A `Driver` turns
 * its {@linkcode TimerWheel.nextDeadline} into real wake-ups, and a
 * `VirtualClock` drives it deterministically in tests.
 *
 * Layout: `levels` levels of 64 slots; level `k` slots are `64 ** k` ticks
 * wide. A timer goes to the level of the highest base-64 digit in which its
 * tick differs from the wheel's current tick, so slots never wrap around, the
 * lowest occupied level always holds the earliest timers, and each entry
 * cascades down at most once per level. Entries of the current tick wait in a
 * small binary heap ordered by `(deadline, insertion)`, which is what makes
 * firing exact rather than rounded to a slot. Entries live in typed arrays
 * (about 70 bytes each) recycled through a free list.
 *
 * @example Scheduling, cancelling and firing
 * ```ts
 * import { TimerWheel } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const wheel = new TimerWheel();
 * const fired: string[] = [];
 * wheel.schedule(5.25, () => fired.push("a"));
 * const b = wheel.schedule(3, () => fired.push("b"));
 * wheel.schedule(1000, () => fired.push("c"), { periodMs: 1000 });
 * wheel.cancel(b);
 * assertEquals(wheel.nextDeadline(), 5.25);
 * wheel.advance(5.2);
 * assertEquals(fired, []);
 * wheel.advance(3000); // one jump: "c" is late, so its 2000 tick is skipped
 * assertEquals(fired, ["a", "c", "c"]);
 * assertEquals(wheel.stats().skippedTicks, 1);
 * ```
 */
export class TimerWheel implements ClockTarget {
  readonly #tickMs: number;
  readonly #levels: number;
  readonly #origin: number;
  readonly #onError: (error: unknown, id: TimerId) => void;
  readonly #logger: Logger;
  readonly #name: string;
  readonly #onSchedule: ((deadline: number) => void) | undefined;
  /** `64 ** k` for each level, plus one more for the range of the top level. */
  readonly #pow: Float64Array;

  // Entry pool (struct of arrays).
  #capacity = 0;
  #deadline = new Float64Array(0);
  #period = new Float64Array(0);
  #base = new Float64Array(0);
  #count = new Float64Array(0);
  #seq = new Float64Array(0);
  #next = new Int32Array(0);
  /** Previous entry in a list; for an entry in the heap, its heap position. */
  #prev = new Int32Array(0);
  #loc = new Int32Array(0);
  #gen = new Uint32Array(0);
  #policy = new Uint8Array(0);
  #callbacks: (TimerCallback | undefined)[] = [];
  #freeHead = -1;

  // Wheel.
  readonly #heads: Int32Array;
  readonly #occupied: Uint32Array;
  #inWheel = 0;
  #overflowHead = -1;
  #inOverflow = 0;
  #heap = new Int32Array(0);
  #heapSize = 0;
  #elapsed = 0;

  #size = 0;
  #seqCounter = 0;
  #cachedNext = NaN;
  #advancing = false;
  // Out-parameters of #findNextSlot (avoids allocating a result object).
  #foundLevel = -1;
  #foundSlot = -1;
  #foundStart = 0;

  #fired = 0;
  #cancelled = 0;
  #skipped = 0;
  #errors = 0;
  #cascades = 0;

  /**
   * Creates an empty wheel.
   *
   * @param options Resolution, levels, origin, pool size, hooks, logger and name.
   * @throws {RangeError} when an option is out of range.
   * @throws {TypeError} when a hook is not a function, `logger` has no
   * `error` method or `name` is empty.
   */
  constructor(options: TimerWheelOptions = {}) {
    const action = "create a TimerWheel";
    this.#tickMs = requirePositive(action, "tickMs", options.tickMs ?? 1);
    this.#levels = requireInteger(action, "levels", options.levels ?? 6, 1, 8);
    this.#origin = requireFinite(action, "origin", options.origin ?? 0);
    const initial = requireInteger(
      action,
      "initialCapacity",
      options.initialCapacity ?? 1024,
      1,
      MAX_CAPACITY,
    );
    if (options.onError !== undefined) requireFunction(action, "onError", options.onError);
    this.#logger = requireLogger(action, "logger", options.logger ?? CONSOLE_LOGGER);
    this.#name = requireNonEmptyString(action, "name", options.name ?? "wheel");
    if (options.onSchedule !== undefined) {
      requireFunction(action, "onSchedule", options.onSchedule);
    }
    this.#onError = options.onError ?? this.#logError;
    this.#onSchedule = options.onSchedule;
    this.#pow = new Float64Array(this.#levels + 1);
    for (let k = 0; k <= this.#levels; k++) this.#pow[k] = SLOTS ** k;
    this.#heads = new Int32Array(this.#levels * SLOTS).fill(-1);
    this.#occupied = new Uint32Array(this.#levels * 2);
    this.#grow(initial);
  }

  /** Number of pending timers. */
  get size(): number {
    return this.#size;
  }

  /**
   * Schedules `callback` at the absolute time `deadlineMs`.
   *
   * A deadline at or before the last time passed to
   * {@linkcode TimerWheel.advance} fires on the next advance.
   *
   * @param deadlineMs Absolute deadline in milliseconds (the clock's time).
   * @param callback Called with `(deadline, id)` when the timer fires.
   * @param options `periodMs` for a periodic timer, and its missed-tick policy.
   * @returns The timer's id, for {@linkcode TimerWheel.cancel}.
   * @throws {TypeError} when `callback` is not a function or an option has the
   * wrong type.
   * @throws {RangeError} when `deadlineMs` is not finite or `periodMs` is not
   * a finite number `> 0`.
   */
  schedule(deadlineMs: number, callback: TimerCallback, options?: ScheduleOptions): TimerId {
    const action = "schedule a timer";
    requireFinite(action, "deadlineMs", deadlineMs);
    requireFunction(action, "callback", callback);
    let period = 0;
    let policy = POLICY_SKIP;
    if (options !== undefined) {
      if (options.periodMs !== undefined) {
        period = requirePositive(action, "periodMs", options.periodMs);
      }
      if (options.missedTicks !== undefined) {
        policy = POLICY_CODE[
          requireOneOf(action, "missedTicks", options.missedTicks, MISSED_TICK_POLICIES)
        ];
      }
    }
    if (this.#freeHead === -1) this.#grow(this.#capacity * 2);
    const i = this.#freeHead;
    this.#freeHead = this.#next[i]!;
    const gen = this.#gen[i]! >= MAX_GENERATION ? 1 : this.#gen[i]! + 1;
    this.#gen[i] = gen;
    this.#deadline[i] = deadlineMs;
    this.#base[i] = deadlineMs;
    this.#count[i] = 0;
    this.#period[i] = period;
    this.#policy[i] = policy;
    this.#seq[i] = this.#seqCounter++;
    this.#callbacks[i] = callback;
    this.#size++;
    this.#place(i);
    if (deadlineMs < this.#cachedNext) this.#cachedNext = deadlineMs;
    if (this.#onSchedule !== undefined) this.#onSchedule(deadlineMs);
    return gen * INDEX_SPACE + i;
  }

  /**
   * Cancels a pending timer. A stale id (already fired, already cancelled, or
   * never issued) is a no-op and never cancels another timer. Cancelling a
   * periodic timer from its own callback stops it.
   *
   * @param id The id {@linkcode TimerWheel.schedule} returned.
   * @returns `true` when a pending timer was cancelled.
   */
  cancel(id: TimerId): boolean {
    const i = this.#indexOf(id);
    if (i < 0) return false;
    this.#unlink(i);
    if (this.#deadline[i] === this.#cachedNext) this.#cachedNext = NaN;
    this.#release(i);
    this.#cancelled++;
    return true;
  }

  /**
   * Returns whether `id` names a pending timer.
   *
   * @param id A timer id.
   * @returns `true` while the timer is pending.
   */
  has(id: TimerId): boolean {
    return this.#indexOf(id) >= 0;
  }

  /**
   * Returns the next deadline of a pending timer.
   *
   * @param id A timer id.
   * @returns The deadline in milliseconds, or `NaN` for a stale id.
   */
  deadlineOf(id: TimerId): number {
    const i = this.#indexOf(id);
    return i < 0 ? NaN : this.#deadline[i]!;
  }

  /**
   * Returns the earliest pending deadline, exactly (not rounded to a slot).
   *
   * @returns The deadline in milliseconds, or `Infinity` when nothing is pending.
   */
  nextDeadline(): number {
    if (this.#cachedNext === this.#cachedNext) return this.#cachedNext;
    let next = Infinity;
    if (this.#heapSize > 0) {
      next = this.#deadline[this.#heap[0]!]!;
    } else if (this.#inWheel > 0) {
      this.#findNextSlot();
      next = this.#minOfList(this.#heads[this.#foundLevel * SLOTS + this.#foundSlot]!);
    } else if (this.#inOverflow > 0) {
      next = this.#minOfList(this.#overflowHead);
    }
    this.#cachedNext = next;
    return next;
  }

  /**
   * Fires every timer whose deadline is at or before `now`, in order of
   * deadline, then insertion. Timers scheduled by callbacks that are already
   * due fire in the same call.
   *
   * @param now The current time in milliseconds.
   * @returns The number of callbacks run.
   * @throws {RangeError} when `now` is not finite.
   * @throws {Error} when called from inside a timer callback.
   */
  advance(now: number): number {
    requireFinite("advance the TimerWheel", "now", now);
    if (this.#advancing) {
      throw new Error("Cannot advance the TimerWheel from inside one of its callbacks");
    }
    this.#advancing = true;
    const firedBefore = this.#fired;
    const nowTick = this.#tickOf(now);
    try {
      for (;;) {
        while (this.#heapSize > 0 && this.#deadline[this.#heap[0]!]! <= now) this.#fireTop(now);
        if (this.#inWheel > 0) {
          this.#findNextSlot();
          if (this.#foundStart > nowTick) break;
          this.#elapsed = this.#foundStart;
          this.#processSlot(this.#foundLevel * SLOTS + this.#foundSlot);
        } else if (this.#inOverflow > 0) {
          const blockStart = this.#overflowBlockStart();
          if (blockStart > nowTick) break;
          this.#elapsed = blockStart;
          this.#processOverflow();
        } else {
          break;
        }
      }
      if (nowTick > this.#elapsed) this.#elapsed = nowTick;
    } finally {
      this.#advancing = false;
      this.#cachedNext = NaN;
    }
    return this.#fired - firedBefore;
  }

  /** Cancels every pending timer. */
  clear(): void {
    for (let i = 0; i < this.#capacity; i++) {
      if (this.#loc[i] !== LOC_FREE) {
        this.#unlink(i);
        this.#release(i);
        this.#cancelled++;
      }
    }
    this.#cachedNext = NaN;
  }

  /** Callbacks run so far (allocation-free; also in {@linkcode TimerWheel.stats}). */
  get firedCount(): number {
    return this.#fired;
  }

  /** Periodic ticks skipped by the `"skip"` policy so far. */
  get skippedTicks(): number {
    return this.#skipped;
  }

  /** Callbacks that threw so far. */
  get callbackErrors(): number {
    return this.#errors;
  }

  /**
   * Returns a snapshot of the wheel's counters.
   *
   * @returns A new object; reading it does not touch the wheel.
   */
  stats(): TimerWheelStats {
    return {
      pending: this.#size,
      fired: this.#fired,
      cancelled: this.#cancelled,
      skippedTicks: this.#skipped,
      callbackErrors: this.#errors,
      cascades: this.#cascades,
      overflow: this.#inOverflow,
      capacity: this.#capacity,
    };
  }

  // --- entries -------------------------------------------------------------

  #indexOf(id: TimerId): number {
    if (typeof id !== "number" || !(id >= INDEX_SPACE) || !Number.isInteger(id)) return -1;
    const i = id % INDEX_SPACE;
    if (i >= this.#capacity) return -1;
    if (this.#gen[i] !== (id - i) / INDEX_SPACE || this.#loc[i] === LOC_FREE) return -1;
    return i;
  }

  #release(i: number): void {
    this.#loc[i] = LOC_FREE;
    this.#callbacks[i] = undefined;
    this.#next[i] = this.#freeHead;
    this.#freeHead = i;
    this.#size--;
  }

  #grow(capacity: number): void {
    const cap = Math.min(Math.max(capacity, 1), MAX_CAPACITY);
    if (cap <= this.#capacity) {
      throw new RangeError(
        `Cannot schedule a timer as the TimerWheel is full: ${this.#capacity} timers are pending`,
      );
    }
    const old = this.#capacity;
    this.#deadline = growF64(this.#deadline, cap);
    this.#period = growF64(this.#period, cap);
    this.#base = growF64(this.#base, cap);
    this.#count = growF64(this.#count, cap);
    this.#seq = growF64(this.#seq, cap);
    this.#next = growI32(this.#next, cap);
    this.#prev = growI32(this.#prev, cap);
    this.#loc = growI32(this.#loc, cap);
    this.#heap = growI32(this.#heap, cap);
    const gen = new Uint32Array(cap);
    gen.set(this.#gen);
    this.#gen = gen;
    const policy = new Uint8Array(cap);
    policy.set(this.#policy);
    this.#policy = policy;
    this.#callbacks.length = cap;
    // Thread the new entries onto the free list in index order.
    for (let i = cap - 1; i >= old; i--) {
      this.#loc[i] = LOC_FREE;
      this.#next[i] = this.#freeHead;
      this.#freeHead = i;
    }
    this.#capacity = cap;
  }

  // --- placement -----------------------------------------------------------

  #tickOf(t: number): number {
    return Math.floor((t - this.#origin) / this.#tickMs);
  }

  /** Puts entry `i` where its deadline belongs: the heap, a slot or overflow. */
  #place(i: number): void {
    const tick = this.#tickOf(this.#deadline[i]!);
    const elapsed = this.#elapsed;
    if (tick <= elapsed) {
      this.#heapPush(i);
      return;
    }
    let level: number;
    let slot: number;
    if (tick < TWO_32 && elapsed < TWO_32) {
      const significant = 31 - Math.clz32((tick ^ elapsed) | (SLOTS - 1));
      level = (significant / 6) | 0;
      slot = (tick >>> (level * 6)) & (SLOTS - 1);
    } else {
      level = 0;
      while (
        level < this.#levels &&
        Math.floor(tick / this.#pow[level + 1]!) !== Math.floor(elapsed / this.#pow[level + 1]!)
      ) level++;
      slot = Math.floor(tick / this.#pow[level]!) % SLOTS;
    }
    if (level >= this.#levels) {
      this.#loc[i] = LOC_OVERFLOW;
      this.#prev[i] = -1;
      this.#next[i] = this.#overflowHead;
      if (this.#overflowHead !== -1) this.#prev[this.#overflowHead] = i;
      this.#overflowHead = i;
      this.#inOverflow++;
      return;
    }
    const index = level * SLOTS + slot;
    const head = this.#heads[index]!;
    this.#loc[i] = index;
    this.#prev[i] = -1;
    this.#next[i] = head;
    if (head !== -1) {
      this.#prev[head] = i;
    } else {
      this.#occupied[level * 2 + (slot >>> 5)]! |= 1 << (slot & 31);
    }
    this.#heads[index] = i;
    this.#inWheel++;
  }

  /** Removes entry `i` from wherever it is (not from the pool). */
  #unlink(i: number): void {
    const loc = this.#loc[i]!;
    if (loc === LOC_HEAP) {
      this.#heapRemove(this.#prev[i]!);
      return;
    }
    const prev = this.#prev[i]!;
    const next = this.#next[i]!;
    if (next !== -1) this.#prev[next] = prev;
    if (loc === LOC_OVERFLOW) {
      if (prev !== -1) this.#next[prev] = next;
      else this.#overflowHead = next;
      this.#inOverflow--;
      return;
    }
    if (prev !== -1) {
      this.#next[prev] = next;
    } else {
      this.#heads[loc] = next;
      if (next === -1) {
        const level = (loc / SLOTS) | 0;
        const slot = loc - level * SLOTS;
        this.#occupied[level * 2 + (slot >>> 5)]! &= ~(1 << (slot & 31));
      }
    }
    this.#inWheel--;
  }

  /**
   * Finds the next occupied slot at the lowest occupied level: it holds the
   * earliest timers in the wheel. Sets the `#found*` fields.
   */
  #findNextSlot(): void {
    const elapsed = this.#elapsed;
    for (let level = 0; level < this.#levels; level++) {
      const lo = this.#occupied[level * 2]!;
      const hi = this.#occupied[level * 2 + 1]!;
      if ((lo | hi) === 0) continue;
      const width = this.#pow[level]!;
      const range = this.#pow[level + 1]!;
      const pos = elapsed < TWO_32 && level < 6
        ? (elapsed >>> (level * 6)) & (SLOTS - 1)
        : Math.floor(elapsed / width) % SLOTS;
      let slot = -1;
      if (pos < 32) {
        const m = lo & (-1 << pos);
        if (m !== 0) slot = lowestBit(m);
        else if (hi !== 0) slot = 32 + lowestBit(hi);
      } else {
        const m = hi & (-1 << (pos - 32));
        if (m !== 0) slot = 32 + lowestBit(m);
      }
      if (slot === -1) continue;
      this.#foundLevel = level;
      this.#foundSlot = slot;
      this.#foundStart = elapsed - (elapsed % range) + slot * width;
      return;
    }
    throw new Error("Cannot find the next timer slot: the TimerWheel is inconsistent");
  }

  #processSlot(index: number): void {
    let i = this.#heads[index]!;
    this.#heads[index] = -1;
    const level = (index / SLOTS) | 0;
    const slot = index - level * SLOTS;
    this.#occupied[level * 2 + (slot >>> 5)]! &= ~(1 << (slot & 31));
    while (i !== -1) {
      const next = this.#next[i]!;
      this.#inWheel--;
      if (level > 0) this.#cascades++;
      this.#place(i);
      i = next;
    }
  }

  #overflowBlockStart(): number {
    const top = this.#pow[this.#levels]!;
    let min = Infinity;
    for (let i = this.#overflowHead; i !== -1; i = this.#next[i]!) {
      const t = this.#tickOf(this.#deadline[i]!);
      if (t < min) min = t;
    }
    return min - (min % top);
  }

  #processOverflow(): void {
    let i = this.#overflowHead;
    this.#overflowHead = -1;
    this.#inOverflow = 0;
    while (i !== -1) {
      const next = this.#next[i]!;
      this.#place(i);
      i = next;
    }
  }

  #minOfList(head: number): number {
    let min = Infinity;
    for (let i = head; i !== -1; i = this.#next[i]!) {
      const d = this.#deadline[i]!;
      if (d < min) min = d;
    }
    return min;
  }

  // --- firing --------------------------------------------------------------

  #fireTop(now: number): void {
    const i = this.#heap[0]!;
    this.#heapRemove(0);
    this.#cachedNext = NaN;
    const deadline = this.#deadline[i]!;
    const callback = this.#callbacks[i]!;
    const id = this.#gen[i]! * INDEX_SPACE + i;
    const period = this.#period[i]!;
    if (period > 0) {
      let k = this.#count[i]! + 1;
      let next = this.#base[i]! + k * period;
      if (next < now) {
        const policy = this.#policy[i]!;
        if (policy === POLICY_DELAY) {
          this.#base[i] = now;
          k = 1;
          next = now + period;
        } else if (policy === POLICY_SKIP) {
          let target = Math.ceil((now - this.#base[i]!) / period);
          if (this.#base[i]! + target * period < now) target++;
          this.#skipped += target - k;
          k = target;
          next = this.#base[i]! + k * period;
        }
      }
      this.#count[i] = k;
      this.#deadline[i] = next;
      this.#seq[i] = this.#seqCounter++;
      this.#place(i);
    } else {
      this.#release(i);
    }
    this.#fired++;
    try {
      callback(deadline, id);
    } catch (error) {
      this.#errors++;
      try {
        this.#onError(error, id);
      } catch {
        // An error handler that throws must not break the wheel either.
      }
    }
  }

  #logError = (error: unknown, id: TimerId): void => {
    const n = this.#errors;
    if (n === 1 || n % 1000 === 0) {
      this.#logger.error(
        `Timer callback of "${this.#name}" threw (timer ${id}, ${n} callback errors so far): ${
          describe(error)
        }`,
      );
    }
  };

  // --- heap of due-tick entries, ordered by (deadline, seq) ----------------

  #less(a: number, b: number): boolean {
    const da = this.#deadline[a]!;
    const db = this.#deadline[b]!;
    return da < db || (da === db && this.#seq[a]! < this.#seq[b]!);
  }

  #heapPush(i: number): void {
    this.#loc[i] = LOC_HEAP;
    this.#siftUp(this.#heapSize++, i);
  }

  #heapRemove(pos: number): void {
    const last = this.#heap[--this.#heapSize]!;
    if (pos === this.#heapSize) return;
    this.#siftDown(pos, last);
    if (this.#heap[pos] === last) this.#siftUp(pos, last);
  }

  #siftUp(pos: number, i: number): void {
    const heap = this.#heap;
    while (pos > 0) {
      const parentPos = (pos - 1) >> 1;
      const parent = heap[parentPos]!;
      if (!this.#less(i, parent)) break;
      heap[pos] = parent;
      this.#prev[parent] = pos;
      pos = parentPos;
    }
    heap[pos] = i;
    this.#prev[i] = pos;
  }

  #siftDown(pos: number, i: number): void {
    const heap = this.#heap;
    const size = this.#heapSize;
    for (;;) {
      let child = 2 * pos + 1;
      if (child >= size) break;
      const right = child + 1;
      if (right < size && this.#less(heap[right]!, heap[child]!)) child = right;
      const c = heap[child]!;
      if (!this.#less(c, i)) break;
      heap[pos] = c;
      this.#prev[c] = pos;
      pos = child;
    }
    heap[pos] = i;
    this.#prev[i] = pos;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.stack ?? `${error.name}: ${error.message}` : String(error);
}

function lowestBit(x: number): number {
  return 31 - Math.clz32(x & -x);
}

function growF64(old: Float64Array<ArrayBuffer>, cap: number): Float64Array<ArrayBuffer> {
  const a = new Float64Array(cap);
  a.set(old);
  return a;
}

function growI32(old: Int32Array<ArrayBuffer>, cap: number): Int32Array<ArrayBuffer> {
  const a = new Int32Array(cap);
  a.set(old);
  return a;
}
