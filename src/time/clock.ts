import { show } from "../internal/validate.ts";

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
  return typeof read(clock, "attach") === "function";
}

/**
 * Reads `object[key]` without letting a throwing getter escape.
 *
 * @returns The value, or `undefined` when the getter threw.
 */
function read(object: unknown, key: string): unknown {
  try {
    return (object as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is object {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

/**
 * Throws a `TypeError` unless `value` is a {@linkcode Clock}: an object whose
 * `now()` returns a finite number (it is called once, to check). A clock
 * that throws, or returns `NaN`, would otherwise surface later as an error
 * naming a parameter the caller never passed.
 *
 * @param action What the caller was doing, e.g. `"create a Driver"`.
 * @param name The parameter as the caller wrote it, e.g. `"clock"`.
 * @param value The value to check.
 * @returns The clock.
 * @throws {TypeError} when `value` is not a working clock.
 *
 * @example Checking clocks
 * ```ts
 * import { MONOTONIC_CLOCK, requireClock } from "./clock.ts";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * assertEquals(requireClock("run", "clock", MONOTONIC_CLOCK), MONOTONIC_CLOCK);
 * assertThrows(() => requireClock("run", "clock", {}), TypeError, "'clock' must be a Clock");
 * assertThrows(() => requireClock("run", "clock", { now: () => NaN }), TypeError, "finite number");
 * ```
 */
export function requireClock(action: string, name: string, value: unknown): Clock {
  const now = isObject(value) ? read(value, "now") : undefined;
  if (typeof now !== "function") {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a Clock with a now() method: current value is ${
        show(value)
      }`,
    );
  }
  let t: unknown;
  try {
    t = now.call(value);
  } catch (error) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must return a finite number from now(): now() threw ${
        show(error instanceof Error ? `${error.name}: ${error.message}` : error)
      }`,
      { cause: error },
    );
  }
  if (typeof t !== "number" || !Number.isFinite(t)) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must return a finite number from now(): current value is ${
        show(t)
      }`,
    );
  }
  return value as Clock;
}

/**
 * Throws a `TypeError` unless `value` is a {@linkcode ClockTarget}: an
 * object with `nextDeadline` and `advance` methods.
 *
 * @param action What the caller was doing.
 * @param name The parameter as the caller wrote it.
 * @param value The value to check.
 * @returns The target.
 * @throws {TypeError} when `value` is not a ClockTarget.
 */
export function requireClockTarget(action: string, name: string, value: unknown): ClockTarget {
  if (
    !isObject(value) || typeof read(value, "nextDeadline") !== "function" ||
    typeof read(value, "advance") !== "function"
  ) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a ClockTarget with nextDeadline and advance methods: current value is ${
        show(value)
      }`,
    );
  }
  return value as ClockTarget;
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
