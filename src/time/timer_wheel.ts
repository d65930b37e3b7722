import {
  requireFinite,
  requireFunction,
  requireInteger,
  requireLogger,
  requireNonEmptyString,
  requireOneOf,
  requireOptions,
  show,
} from "../internal/validate.ts";
import { LogLimiter } from "../internal/log_limiter.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import { type Clock, type ClockTarget, isSteppedClock, requireClock } from "./clock.ts";
import { formatMs, MIN_PERIOD_MS, requirePeriod } from "./_period.ts";

export { MIN_PERIOD_MS, requirePeriod };

const FIRE_AHEAD_ACTION = "fire ahead on the TimerWheel";

/**
 * The most missed ticks a `"burst"` timer runs back to back when it falls
 * behind: after a longer stall the older ticks are skipped (and counted in
 * {@linkcode TimerWheelStats.skippedTicks}), so catching up after a huge gap
 * stays bounded instead of freezing the process.
 */
export const MAX_BURST_TICKS = 10_000;

/**
 * How many ticks either side of its origin a wheel can hold: 2^52, about
 * 142,000 years at the default 1 ms tick.
 */
const MAX_TICKS = 2 ** 52;

/** The longest tick a wheel may have, in milliseconds (one hour). */
const MAX_TICK_MS = 3_600_000;

/**
 * Identifies a pending timer: a positive integer below 2^53. It packs a slot
 * index and a generation, so a stale id (of a timer that already fired or
 * was cancelled) never matches a timer that later reuses the same slot until
 * that slot has been reused 2^27 - 1 times. The generation is mixed with a
 * key of its wheel, so another wheel treats the id as unknown: `cancel`
 * returns `false`, `has` returns `false`. (For two wheels whose timers were
 * scheduled in step this always holds; otherwise a foreign id matches a
 * timer only if its generation bits happen to line up with the other key,
 * a chance of about 1 in 2^27 per lookup.)
 */
export type TimerId = number;

/**
 * Called when a timer fires. It may return a promise: a rejection is
 * contained and counted like a throw (see {@linkcode TimerWheelOptions.onError}).
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
 * - `"burst"`: run every missed tick, back to back, until caught up; at most
 *   {@linkcode MAX_BURST_TICKS} (10,000) of them: after a longer stall the
 *   older ticks are skipped and counted in
 *   {@linkcode TimerWheelStats.skippedTicks}.
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
   * `deadline + k * periodMs`, free of drift. At least
   * {@linkcode MIN_PERIOD_MS} (0.001), and large enough to move the deadline
   * in floating point.
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
   * Width of a level-0 slot in milliseconds, in `[0.001, 3600000]`.
   * Deadlines are still exact: the slot only groups timers; they fire in
   * `(deadline, insertion)` order. The wheel holds deadlines up to 2^52
   * ticks either side of `origin`.
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
   * Receives an error thrown by a timer callback, the reason of a promise a
   * callback returned that rejected, or an error thrown by `onSchedule`. The
   * wheel and the other timers carry on either way, and the error is counted
   * in {@linkcode TimerWheelStats.callbackErrors}. By default errors are
   * logged with `logger.error`, at most one line per second of the wheel's
   * time (the next line says how many were left out).
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
   * driver can wake earlier when needed. Keep it cheap. If it throws, the
   * timer stays scheduled and the error goes to `onError`.
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
  /** Callbacks that threw or returned a promise that rejected (and `onSchedule` hooks that threw). */
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
const MAX_ID = 2 ** 53;
const TWO_32 = 2 ** 32;

// Each wheel mixes its own key into the generation bits of its ids. Keys are
// an odd multiple of a counter modulo 2^27, so the next 2^27 wheels all get
// distinct keys, spread over the whole range.
let wheelsCreated = 0;
function nextWheelKey(): number {
  return Math.imul(++wheelsCreated, 0x9e3779b1) & MAX_GENERATION;
}

// Where an entry lives (`#loc`); values >= 0 are a slot index.
const LOC_FREE = -1;
const LOC_HEAP = -2;
const LOC_OVERFLOW = -3;
// A periodic entry whose callback is running: moved to its next deadline,
// placed once the callback returns (unless it was cancelled meanwhile).
const LOC_FIRING = -4;

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
  readonly #minDeadline: number;
  readonly #maxDeadline: number;
  readonly #key = nextWheelKey();
  readonly #onError: ((error: unknown, id: TimerId) => void) | undefined;
  readonly #log: LogLimiter;
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
  // While fireAhead() runs: the clock each callback waits on until its deadline.
  #holdClock: Clock | undefined = undefined;
  // The clock fireAhead() last checked (a driver passes the same one each tick).
  #checkedHoldClock: Clock | undefined = undefined;
  // The LOC_FIRING entry, or -1.
  #firing = -1;
  /** The latest time passed to `advance`: the clock of the log rate limit. */
  #now: number;
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
   * @throws {TypeError} when `options` is not an object, a hook is not a
   * function, `logger` is not a Logger or `name` is not a non-empty string.
   */
  constructor(options: TimerWheelOptions = {}) {
    const action = "create a TimerWheel";
    requireOptions(action, "options", options);
    const tickMs = requireFinite(action, "tickMs", options.tickMs ?? 1);
    if (!(tickMs >= MIN_PERIOD_MS && tickMs <= MAX_TICK_MS)) {
      throw new RangeError(
        `Cannot ${action} as 'tickMs' must be in [${MIN_PERIOD_MS}, ${MAX_TICK_MS}]: current value is ${tickMs}`,
      );
    }
    this.#tickMs = tickMs;
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
    const logger = requireLogger(action, "logger", options.logger ?? CONSOLE_LOGGER);
    this.#name = requireNonEmptyString(action, "name", options.name ?? "wheel");
    if (options.onSchedule !== undefined) {
      requireFunction(action, "onSchedule", options.onSchedule);
    }
    this.#onError = options.onError;
    this.#onSchedule = options.onSchedule;
    this.#log = new LogLimiter(logger);
    this.#now = this.#origin;
    const range = MAX_TICKS * tickMs;
    this.#minDeadline = Math.max(this.#origin - range, -Number.MAX_VALUE);
    this.#maxDeadline = Math.min(this.#origin + range, Number.MAX_VALUE);
    this.#pow = new Float64Array(this.#levels + 1);
    for (let k = 0; k <= this.#levels; k++) this.#pow[k] = SLOTS ** k;
    this.#heads = new Int32Array(this.#levels * SLOTS).fill(-1);
    this.#occupied = new Uint32Array(this.#levels * 2);
    this.#grow(initial);
  }

  /**
   * The earliest deadline this wheel can hold: 2^52 ticks before its origin.
   * Deadlines in the past fire on the next advance anyway; this bound only
   * keeps the wheel's arithmetic exact.
   */
  get minDeadlineMs(): number {
    return this.#minDeadline;
  }

  /**
   * The latest deadline this wheel can hold: 2^52 ticks after its origin
   * (about 142,000 years at the default 1 ms tick). A periodic timer whose
   * next deadline would lie beyond it ends.
   */
  get maxDeadlineMs(): number {
    return this.#maxDeadline;
  }

  /** Number of pending timers. */
  get size(): number {
    return this.#size;
  }

  /**
   * Schedules `callback` at the absolute time `deadlineMs`.
   *
   * A deadline at or before the last time passed to
   * {@linkcode TimerWheel.advance} fires on the next advance. A periodic
   * timer's period must be at least {@linkcode MIN_PERIOD_MS} (0.001 ms) and
   * large enough to move `deadlineMs` in floating point; after a stall it
   * catches up by its {@linkcode MissedTickPolicy} (a burst runs at most
   * {@linkcode MAX_BURST_TICKS} missed ticks). A periodic timer whose next
   * deadline would lie beyond {@linkcode TimerWheel.maxDeadlineMs} ends.
   *
   * @param deadlineMs Absolute deadline in milliseconds (the clock's time),
   * within `[minDeadlineMs, maxDeadlineMs]`.
   * @param callback Called with `(deadline, id)` when the timer fires; a
   * promise it returns that rejects counts as a callback error.
   * @param options `periodMs` for a periodic timer, and its missed-tick policy.
   * @returns The timer's id, for {@linkcode TimerWheel.cancel}.
   * @throws {TypeError} when `callback` is not a function, `options` is not
   * an object, or an option has the wrong type.
   * @throws {RangeError} when `deadlineMs` is not finite or outside the
   * wheel's range, or `periodMs` is below `MIN_PERIOD_MS` or too small to
   * advance `deadlineMs`.
   */
  schedule(deadlineMs: number, callback: TimerCallback, options?: ScheduleOptions): TimerId {
    const action = "schedule a timer";
    requireFinite(action, "deadlineMs", deadlineMs);
    if (deadlineMs > this.#maxDeadline || deadlineMs < this.#minDeadline) {
      this.#outOfRange(deadlineMs);
    }
    requireFunction(action, "callback", callback);
    let period = 0;
    let policy = POLICY_SKIP;
    if (options !== undefined) {
      requireOptions(action, "options", options);
      if (options.periodMs !== undefined) {
        period = requirePeriod(action, "periodMs", options.periodMs, deadlineMs);
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
    let gen = this.#gen[i]! >= MAX_GENERATION ? 1 : this.#gen[i]! + 1;
    // A generation equal to the key would make the id's generation bits 0.
    if (gen === this.#key) gen = gen >= MAX_GENERATION ? 1 : gen + 1;
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
    const id = (gen ^ this.#key) * INDEX_SPACE + i;
    if (this.#onSchedule !== undefined) {
      try {
        this.#onSchedule(deadlineMs);
      } catch (error) {
        this.#failed(error, id, "onSchedule hook", "threw");
      }
    }
    return id;
  }

  #outOfRange(deadlineMs: number): never {
    throw new RangeError(
      `Cannot schedule a timer as 'deadlineMs' must be in [${formatMs(this.#minDeadline)}, ${
        formatMs(this.#maxDeadline)
      }] (2^52 ticks either side of the wheel's origin): current value is ${show(deadlineMs)}`,
    );
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
    if (this.#firing !== -1 && this.#deadline[this.#firing]! < next) {
      next = this.#deadline[this.#firing]!;
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
    this.#now = now;
    const firedBefore = this.#fired;
    // Every deadline's tick is within about MAX_TICKS: a later `now` changes
    // nothing more, and clamping keeps the tick arithmetic exact.
    const nowTick = Math.min(this.#tickOf(now), Number.MAX_SAFE_INTEGER);
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

  /**
   * Fires, ahead of time, every timer whose deadline is at or before
   * `until`, a time a little ahead of `clock`: the wheel does its work for
   * each (takes it from its slot, re-arms it) at once, then waits on `clock`
   * (spins) until the timer's deadline and calls back. So the end of the
   * wait is a call away from the callback, where after `advance()` it would
   * be the wheel's work away: a thread that slept pays for that work on cold
   * caches. No callback runs before its deadline on `clock`.
   *
   * @param until The latest deadline to fire, in milliseconds.
   * @param clock The clock the callbacks wait on: one that moves by itself
   *   (a stepped clock, such as a `VirtualClock`, would never get there).
   * @returns The number of callbacks run.
   * @throws {RangeError} when `until` is not finite.
   * @throws {TypeError} when `clock` is not a clock, or is a stepped one.
   * @throws {Error} when called from inside a timer callback.
   *
   * @example The callback runs at its deadline, not when the wheel fires it
   * ```ts
   * import { TimerWheel } from "./timer_wheel.ts";
   * import { assertEquals } from "@std/assert";
   *
   * const wheel = new TimerWheel();
   * let t = 0;
   * const clock = { now: () => t++ }; // one ms per read
   * let at = -1;
   * wheel.schedule(5, () => void (at = t));
   * assertEquals(wheel.fireAhead(5, clock), 1);
   * assertEquals(at >= 5, true);
   * ```
   */
  fireAhead(until: number, clock: Clock): number {
    if (clock !== this.#checkedHoldClock) {
      requireClock(FIRE_AHEAD_ACTION, "clock", clock);
      if (isSteppedClock(clock)) {
        throw new TypeError(
          `Cannot ${FIRE_AHEAD_ACTION} as 'clock' must move by itself: a stepped clock moves only when stepped (use advance())`,
        );
      }
      this.#checkedHoldClock = clock;
    }
    // Restored, not cleared: a call from inside a callback throws, and the
    // fire it was called from keeps its clock.
    const outer = this.#holdClock;
    this.#holdClock = clock;
    try {
      return this.advance(until);
    } finally {
      this.#holdClock = outer;
    }
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
    if (typeof id !== "number" || !(id >= INDEX_SPACE && id < MAX_ID) || !Number.isInteger(id)) {
      return -1;
    }
    const i = id % INDEX_SPACE;
    if (i >= this.#capacity) return -1;
    if (this.#gen[i] !== (((id - i) / INDEX_SPACE) ^ this.#key) || this.#loc[i] === LOC_FREE) {
      return -1;
    }
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
    if (loc === LOC_FIRING) return; // placed nowhere until its callback returns
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
    const id = (this.#gen[i]! ^ this.#key) * INDEX_SPACE + i;
    const period = this.#period[i]!;
    // A periodic timer gets its next deadline now (what its callback sees)
    // but is placed after the callback: the callback is called on the
    // shortest path, its lateness not paying for a slot's cold memory.
    const rearmed = period > 0 && this.#rearm(i, deadline, period, now);
    if (period === 0) {
      this.#release(i);
    } else if (rearmed) {
      this.#loc[i] = LOC_FIRING;
      this.#firing = i;
    }
    this.#fired++;
    const hold = this.#holdClock;
    if (hold !== undefined) {
      while (hold.now() < deadline) {
        /* fired ahead: wait for the deadline */
      }
    }
    let result: unknown;
    try {
      result = callback(deadline, id);
    } catch (error) {
      this.#failed(error, id, "callback", "threw");
      return;
    } finally {
      if (rearmed) {
        this.#firing = -1;
        if (this.#loc[i] === LOC_FIRING) this.#place(i);
      }
    }
    if (result instanceof Promise) this.#watch(result, id);
  }

  /**
   * Moves periodic entry `i`, which just fell due at `deadline`, to its next
   * deadline by its missed-tick policy (the caller places it); ends it when
   * that is out of range.
   *
   * @returns Whether it has a next deadline (false: released).
   */
  #rearm(i: number, deadline: number, period: number, now: number): boolean {
    // Past the range every next deadline is out of range anyway; clamping
    // keeps the arithmetic below finite.
    const t = now < this.#maxDeadline ? now : this.#maxDeadline;
    let base = this.#base[i]!;
    let k = this.#count[i]! + 1;
    let next = base + k * period;
    if (next < t) {
      const policy = this.#policy[i]!;
      if (policy === POLICY_DELAY) {
        base = t;
        k = 1;
        next = t + period;
      } else if (policy === POLICY_SKIP) {
        // The first tick at or after t, whatever the rounding of the division.
        let target = Math.ceil((t - base) / period);
        if (base + target * period < t) target++;
        else if (target - 1 > k && base + (target - 1) * period >= t) target--;
        if (target > k) {
          this.#skipped += target - k;
          k = target;
          next = base + k * period;
        }
      } else {
        // Burst: run at most MAX_BURST_TICKS of the missed ticks, the latest.
        // `last` is the last tick at or before t, whatever the rounding.
        let last = Math.floor((t - base) / period);
        if (base + last * period > t) last--;
        else if (base + (last + 1) * period <= t) last++;
        if (last - k >= MAX_BURST_TICKS) {
          const target = last - MAX_BURST_TICKS + 1;
          this.#skipped += target - k;
          k = target;
          next = base + k * period;
        }
      }
    }
    if (!(next > deadline)) {
      // `base + k * period` no longer moves in floating point (k * period is
      // below the spacing of doubles at this time): restart the period from
      // here, at least one representable step later, so time always moves.
      base = deadline + Math.max(period, Math.abs(deadline) * Number.EPSILON);
      k = 0;
      next = base;
    }
    if (!(next <= this.#maxDeadline)) {
      this.#release(i);
      return false;
    }
    this.#base[i] = base;
    this.#count[i] = k;
    this.#deadline[i] = next;
    this.#seq[i] = this.#seqCounter++;
    return true;
  }

  /** Counts a rejection of the promise a callback returned, as a throw. */
  #watch(promise: Promise<unknown>, id: TimerId): void {
    try {
      // The intrinsic `then`: an overridden one could leave the rejection unhandled.
      Promise.prototype.then.call(
        promise,
        undefined,
        (error: unknown) => this.#failed(error, id, "callback", "rejected"),
      );
    } catch (error) {
      this.#failed(error, id, "callback", "threw");
    }
  }

  #failed(error: unknown, id: TimerId, what: string, how: string): void {
    this.#errors++;
    try {
      if (this.#onError !== undefined) {
        this.#onError(error, id);
      } else {
        this.#log.error(
          "callback",
          this.#now,
          `Timer ${what} of "${this.#name}" ${how} (timer ${id}, ${this.#errors} callback errors so far): ${
            describe(error)
          }`,
        );
      }
    } catch {
      // An error handler or logger that throws must not break the wheel either.
    }
  }

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
