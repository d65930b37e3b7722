import { show } from "../internal/validate.ts";
import type { Clock } from "./clock.ts";

/**
 * A source of wall-clock time: milliseconds since the Unix epoch (UTC), the
 * time a calendar reads. Unlike a monotonic {@linkcode Clock} it may step
 * forward or back (NTP, an operator, a suspend), so Chronetix times its
 * timers on the monotonic clock and reads this one only to know which
 * calendar instant it is. Cron and wall-clock schedules take one by
 * injection: {@linkcode SYSTEM_WALL_CLOCK} in production, a
 * `VirtualWallClock` (from `@chronetix/core/testing`) in tests.
 */
export interface WallClock {
  /** Returns the wall-clock time in ms since the epoch. */
  now(): number;
}

/**
 * The real wall clock: `Date.now()`.
 *
 * @example Reading the wall clock
 * ```ts
 * import { SystemWallClock } from "@chronetix/core";
 * import { assert } from "@std/assert";
 *
 * const wall = new SystemWallClock();
 * assert(wall.now() > Date.UTC(2020, 0, 1));
 * ```
 */
export class SystemWallClock implements WallClock {
  /** Returns `Date.now()`. */
  now(): number {
    return Date.now();
  }
}

/** The process-wide {@linkcode SystemWallClock}, the default of every schedule. */
export const SYSTEM_WALL_CLOCK: SystemWallClock = new SystemWallClock();

// The wall clock a virtual monotonic clock was given (`new VirtualWallClock(clock)`),
// so that schedules on an executor over that clock find it without being told.
const LINKED = new WeakMap<Clock, WallClock>();

/**
 * Links a wall clock to a monotonic clock: schedules on an executor over
 * `clock` then read `wall` unless given another. `VirtualWallClock` links
 * itself to its clock; a later link replaces an earlier one.
 *
 * @param clock The monotonic clock.
 * @param wall The wall clock that goes with it.
 *
 * @example Finding the wall clock of a clock
 * ```ts
 * import { linkWallClock, linkedWallClock, SYSTEM_WALL_CLOCK } from "./wall_clock.ts";
 * import { VirtualClock } from "./virtual_clock.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * assertEquals(linkedWallClock(clock), undefined);
 * linkWallClock(clock, SYSTEM_WALL_CLOCK);
 * assertEquals(linkedWallClock(clock), SYSTEM_WALL_CLOCK);
 * ```
 */
export function linkWallClock(clock: Clock, wall: WallClock): void {
  LINKED.set(clock, wall);
}

/**
 * The wall clock linked to `clock` by {@linkcode linkWallClock}.
 *
 * @param clock The monotonic clock.
 * @returns The linked wall clock, or `undefined`.
 */
export function linkedWallClock(clock: Clock): WallClock | undefined {
  return LINKED.get(clock);
}

/**
 * Throws a `TypeError` unless `value` is a {@linkcode WallClock}: an object
 * whose `now()` returns a finite number (called once, to check).
 *
 * @param action What the caller was doing.
 * @param name The parameter as the caller wrote it.
 * @param value The value to check.
 * @returns The wall clock.
 * @throws {TypeError} when `value` is not a working wall clock.
 */
export function requireWallClock(action: string, name: string, value: unknown): WallClock {
  let now: unknown;
  try {
    now = value !== null && typeof value === "object"
      ? (value as Record<string, unknown>).now
      : undefined;
  } catch {
    now = undefined;
  }
  let t: unknown;
  if (typeof now === "function") {
    try {
      t = now.call(value);
    } catch {
      t = undefined;
    }
  }
  if (typeof t !== "number" || !Number.isFinite(t)) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a WallClock whose now() returns a finite number: current value is ${
        show(value)
      }`,
    );
  }
  return value as WallClock;
}

/**
 * Reads a point in time given as epoch ms, a `Date` or a string `Date.parse`
 * reads (an ISO 8601 string with `Z` or an offset).
 *
 * @param action What the caller was doing.
 * @param name The parameter as the caller wrote it.
 * @param value The value to read.
 * @returns Milliseconds since the epoch.
 * @throws {TypeError} when `value` is none of those, or not a valid date.
 */
export function requireInstant(action: string, name: string, value: unknown): number {
  let t = NaN;
  if (typeof value === "number") t = value;
  else if (value instanceof Date) t = value.getTime();
  else if (typeof value === "string") t = Date.parse(value);
  if (!Number.isFinite(t)) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a valid Date, ISO 8601 string or epoch ms: current value is ${
        show(value)
      }`,
    );
  }
  return t;
}
