// The shortest period the kernel runs and the check every period goes
// through. Apart from the timing wheel so that a plugin's thread, which
// checks its tasks' periods, does not load the wheel to do it.

import { requireFinite } from "../internal/validate.ts";

/**
 * The shortest period a periodic timer may have, in milliseconds (1 µs):
 * `TimerWheel.schedule`, `Driver.every` and every other period of the kernel
 * (an executor's tick, a periodic task) reject a shorter one with a
 * `RangeError`. A period must also be large enough to move the time it starts
 * from in floating point (`t + periodMs > t`): at 1e15 ms the spacing of
 * doubles is 0.125 ms, so a 0.01 ms period cannot advance it and is rejected.
 */
export const MIN_PERIOD_MS = 0.001;

/**
 * Throws a `RangeError` unless `value` is a period a timer can run with: a
 * finite number `>= MIN_PERIOD_MS` that moves `atMs` forward in floating
 * point. Every period of the kernel is checked with it.
 *
 * @param action What the caller was doing, e.g. `"schedule a periodic timer"`.
 * @param name The parameter as the caller wrote it, e.g. `"periodMs"`.
 * @param value The period in milliseconds.
 * @param atMs The time the period starts from (the first deadline).
 * @returns The period.
 * @throws {TypeError} when `value` is not a number.
 * @throws {RangeError} when `value` is not finite, below `MIN_PERIOD_MS`, or
 * too small to advance `atMs`.
 *
 * @example Periods that can and cannot run
 * ```ts
 * import { requirePeriod } from "./_period.ts";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * assertEquals(requirePeriod("run", "periodMs", 0.5, 0), 0.5);
 * assertThrows(() => requirePeriod("run", "periodMs", 1e-12, 0), RangeError, ">= 0.001");
 * assertThrows(() => requirePeriod("run", "periodMs", 0.01, 1e15), RangeError, "advance the time");
 * ```
 */
export function requirePeriod(action: string, name: string, value: unknown, atMs = 0): number {
  const v = requireFinite(action, name, value);
  if (!(v >= MIN_PERIOD_MS)) {
    throw new RangeError(
      `Cannot ${action} as '${name}' must be >= ${MIN_PERIOD_MS} (MIN_PERIOD_MS): current value is ${v}`,
    );
  }
  if (!(atMs + v > atMs)) {
    throw new RangeError(
      `Cannot ${action} as '${name}' must be large enough to advance the time ${
        formatMs(atMs)
      } in floating point (at least ${formatMs(spacingAt(atMs))}): current value is ${v}`,
    );
  }
  return v;
}

/** The spacing of doubles around `t`, an upper bound of the smallest `p` with `t + p > t`. */
function spacingAt(t: number): number {
  return Math.max(Number.MIN_VALUE, Math.abs(t) * Number.EPSILON);
}

/** A time in ms as error messages show it (whole numbers without a decimal point). */
export function formatMs(t: number): string {
  return Number.isInteger(t) && Math.abs(t) < 1e21 ? t.toFixed(0) : String(t);
}
