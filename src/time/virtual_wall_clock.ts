import { type Clock, requireClock } from "./clock.ts";
import { linkWallClock, requireInstant, type WallClock } from "./wall_clock.ts";
import { requireFinite } from "../internal/validate.ts";

/**
 * A wall clock for tests, tied to a monotonic clock (a `VirtualClock`):
 * advancing the monotonic clock advances the wall clock by the same amount,
 * and {@linkcode VirtualWallClock.step} moves the wall clock alone, forward
 * or back, the way NTP, an operator or a suspend does. It links itself to
 * its clock, so cron and wall-clock schedules on an executor over that
 * clock read it without being told.
 *
 * @example A wall clock that follows a virtual clock, then steps back
 * ```ts
 * import { VirtualClock, VirtualWallClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * const wall = new VirtualWallClock(clock, "2026-03-29T00:00:00Z");
 * clock.advance(60_000);
 * assertEquals(new Date(wall.now()).toISOString(), "2026-03-29T00:01:00.000Z");
 * wall.step(-3_600_000); // NTP steps the clock back an hour
 * assertEquals(new Date(wall.now()).toISOString(), "2026-03-28T23:01:00.000Z");
 * assertEquals(clock.now(), 60_000); // the monotonic clock did not move
 * ```
 */
export class VirtualWallClock implements WallClock {
  readonly #clock: Clock;
  #base: number;

  /**
   * Creates a wall clock reading `start` now, moving with `clock`.
   *
   * @param clock The monotonic clock it follows (a `VirtualClock`).
   * @param start The wall time now: epoch ms, a `Date` or an ISO 8601 string
   *   with `Z` or an offset.
   * @throws {TypeError} when `clock` is not a clock or `start` is not a valid time.
   */
  constructor(clock: Clock, start: number | Date | string = 0) {
    const action = "create a VirtualWallClock";
    this.#clock = requireClock(action, "clock", clock);
    this.#base = requireInstant(action, "start", start) - clock.now();
    linkWallClock(clock, this);
  }

  /** The monotonic clock this wall clock follows. */
  get clock(): Clock {
    return this.#clock;
  }

  /** Returns the wall time in ms since the epoch. */
  now(): number {
    return this.#base + this.#clock.now();
  }

  /**
   * Steps the wall clock by `ms` (negative: back) without moving the
   * monotonic clock: an NTP step, an operator setting the clock, or (forward)
   * the time a machine spent suspended.
   *
   * @param ms Milliseconds to step by.
   * @throws {TypeError} when `ms` is not a number.
   * @throws {RangeError} when `ms` is not finite.
   */
  step(ms: number): void {
    this.#base += requireFinite("step the VirtualWallClock", "ms", ms);
  }

  /**
   * Sets the wall clock to `time` without moving the monotonic clock.
   *
   * @param time Epoch ms, a `Date` or an ISO 8601 string with `Z` or an offset.
   * @throws {TypeError} when `time` is not a valid time.
   */
  set(time: number | Date | string): void {
    this.#base = requireInstant("set the VirtualWallClock", "time", time) - this.#clock.now();
  }
}
