import { requireFinite, requireOptions } from "../internal/validate.ts";

/** Options of {@linkcode alignedInterval}. */
export interface AlignedIntervalOptions {
  /**
   * Shifts every fire by this much after the mark, ms (whole seconds, less
   * than the period): `15 min` with `offsetMs: 5 min` fires at :05, :20, :35, :50.
   *
   * @default {0}
   */
  offsetMs?: number;
}

const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;

/**
 * Writes the cron expression of an interval aligned to the wall clock:
 * every `periodMs` at the marks of the minute, hour or day (15 min: :00,
 * :15, :30, :45), not every `periodMs` from whenever the task was added.
 * Give it to `cron()` as `cron`. The period must divide a minute (whole
 * seconds), an hour (whole minutes) or a day (whole hours). Being a cron
 * expression, it follows the zone's local clock: hours align to local
 * midnight, and a DST change stretches or shortens the one interval it falls in.
 *
 * @example Every 15 minutes at :00, :15, :30, :45
 * ```ts
 * import { alignedInterval } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(alignedInterval(15 * 60_000), "0 *\/15 * * * *");
 * assertEquals(alignedInterval(15 * 60_000, { offsetMs: 5 * 60_000 }), "0 5-59/15 * * * *");
 * assertEquals(alignedInterval(10_000), "*\/10 * * * * *");
 * assertEquals(alignedInterval(6 * 3_600_000), "0 0 *\/6 * * *");
 * ```
 *
 * @param periodMs The interval, ms.
 * @param options Offset from the marks.
 * @returns A 6-field cron expression (seconds first).
 * @throws {TypeError} when `periodMs` or `offsetMs` is not a number, or `options` not an object.
 * @throws {RangeError} when `periodMs` does not divide a minute, an hour or a
 *   day in whole units, or `offsetMs` is not whole seconds in `[0, periodMs)`.
 */
export function alignedInterval(periodMs: number, options: AlignedIntervalOptions = {}): string {
  const action = "write an aligned interval";
  requireFinite(action, "periodMs", periodMs);
  requireOptions(action, "options", options);
  const offset = options.offsetMs === undefined
    ? 0
    : requireFinite(action, "offsetMs", options.offsetMs);
  if (!(offset >= 0 && offset < periodMs && offset % SECOND === 0)) {
    throw new RangeError(
      `Cannot ${action} as 'offsetMs' must be whole seconds in [0, periodMs): current value is ${offset}`,
    );
  }
  const s = (offset / SECOND) % 60;
  const m = Math.floor(offset / MINUTE) % 60;
  const h = Math.floor(offset / HOUR);
  const field = (start: number, step: number, last: number): string =>
    step === 1
      ? "*"
      : step === last + 1
      ? `${start}`
      : start === 0
      ? `*/${step}`
      : `${start}-${last}/${step}`;
  if (periodMs >= SECOND && periodMs < MINUTE && divides(periodMs, SECOND, 60)) {
    return `${field(s, periodMs / SECOND, 59)} * * * * *`;
  }
  if (periodMs >= MINUTE && periodMs < HOUR && divides(periodMs, MINUTE, 60)) {
    return `${s} ${field(m, periodMs / MINUTE, 59)} * * * *`;
  }
  if (periodMs >= HOUR && divides(periodMs, HOUR, 24)) {
    return `${s} ${m} ${field(h, periodMs / HOUR, 23)} * * *`;
  }
  throw new RangeError(
    `Cannot ${action} as 'periodMs' must divide a minute (whole seconds), an hour (whole minutes) or a day (whole hours): current value is ${periodMs}`,
  );
}

/** Whether `period` is a whole number of `unit`s that divides `count` units. */
function divides(period: number, unit: number, count: number): boolean {
  const n = period / unit;
  return Number.isInteger(n) && n >= 1 && count % n === 0;
}
