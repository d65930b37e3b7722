/**
 * A source of monotonic time in milliseconds.
 *
 * Every component that schedules or measures takes a `Clock` by injection, so
 * the same code runs on {@linkcode MonotonicClock} in production and on a
 * `VirtualClock` (from `@chronetix/core/testing`) in tests.
 */
export interface Clock {
  /** Returns the current time in milliseconds, as a float; never decreases. */
  now(): number;
}

/**
 * Something a stepped clock can drive: it reports its next deadline and fires
 * everything due when told the time. {@linkcode TimerWheel} implements it.
 */
export interface ClockTarget {
  /** Returns the earliest pending deadline in milliseconds, or `Infinity`. */
  nextDeadline(): number;
  /** Fires everything due at or before `now`. */
  advance(now: number): void;
}

/**
 * A clock that moves only when told to and fires attached targets itself,
 * instead of relying on real wake-ups. `VirtualClock` is one.
 */
export interface SteppedClock extends Clock {
  /**
   * Attaches a target whose deadlines this clock fires as it advances.
   *
   * @returns A disposable that detaches the target again.
   */
  attach(target: ClockTarget): Disposable;
}

/**
 * Returns whether `clock` drives its own targets (a {@linkcode SteppedClock}).
 *
 * @param clock The clock to inspect.
 * @returns `true` when the clock has an `attach` method.
 *
 * @example Telling a virtual clock from the real one
 * ```ts
 * import { isSteppedClock, MONOTONIC_CLOCK } from "./clock.ts";
 * import { VirtualClock } from "./virtual_clock.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(isSteppedClock(new VirtualClock()), true);
 * assertEquals(isSteppedClock(MONOTONIC_CLOCK), false);
 * ```
 */
export function isSteppedClock(clock: Clock): clock is SteppedClock {
  return typeof (clock as Partial<SteppedClock>).attach === "function";
}

/**
 * The real monotonic clock: `performance.now()`, milliseconds since the
 * process (or Worker) started, with microsecond resolution when the process
 * has `--allow-hrtime` (Deno 2 gives it by default).
 *
 * @example Reading the clock
 * ```ts
 * import { MonotonicClock } from "@chronetix/core";
 * import { assert } from "@std/assert";
 *
 * const clock = new MonotonicClock();
 * const a = clock.now();
 * const b = clock.now();
 * assert(b >= a);
 * ```
 */
export class MonotonicClock implements Clock {
  /** Returns `performance.now()`. */
  now(): number {
    return performance.now();
  }
}

/** The process-wide {@linkcode MonotonicClock} used when none is given. */
export const MONOTONIC_CLOCK: MonotonicClock = new MonotonicClock();
