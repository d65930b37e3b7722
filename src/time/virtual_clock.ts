import { type ClockTarget, requireClockTarget, type SteppedClock } from "./clock.ts";
import { ChronetixError } from "../errors.ts";
import { requireInteger, requireNonNegative, requireOptions } from "../internal/validate.ts";

/**
 * How many steps in a row one `advance` may take at the same instant before
 * it gives up on a target that keeps reporting due work without firing it.
 */
const MAX_STEPS_AT_ONE_INSTANT = 100_000;

/** Options for {@linkcode VirtualClock.runUntilIdle}. */
export interface RunUntilIdleOptions {
  /**
   * Maximum number of deadlines to step through before giving up; periodic
   * timers never go idle, so an unbounded run would never end.
   *
   * @default {100_000}
   */
  maxSteps?: number;
}

/**
 * A deterministic clock for tests: time moves only through
 * {@linkcode VirtualClock.advance}, and every attached target (a
 * `TimerWheel`, or a `Driver` built on this clock) fires its due work in
 * deadline order as time passes. Each callback sees `now()` equal to its own
 * deadline, so tests never sleep and never flake.
 *
 * @example Firing a timer by advancing virtual time
 * ```ts
 * import { Driver } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * using driver = new Driver({ clock });
 * const seen: number[] = [];
 * driver.every(10, () => seen.push(clock.now()));
 * clock.advance(35);
 * assertEquals(seen, [10, 20, 30]);
 * ```
 */
export class VirtualClock implements SteppedClock {
  #now: number;
  #targets: ClockTarget[] = [];
  #stepping = false;

  /**
   * Creates a virtual clock.
   *
   * @param startMs Initial time in milliseconds.
   * @throws {RangeError} when `startMs` is negative or not finite.
   */
  constructor(startMs = 0) {
    this.#now = requireNonNegative("create a VirtualClock", "startMs", startMs);
  }

  /** Returns the current virtual time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /**
   * Attaches a target whose due work fires as this clock advances.
   *
   * @param target The target, typically a `TimerWheel`.
   * @returns A disposable that detaches the target.
   * @throws {TypeError} when `target` has no `nextDeadline` or `advance` method.
   */
  attach(target: ClockTarget): Disposable {
    requireClockTarget("attach to the VirtualClock", "target", target);
    this.#targets.push(target);
    return {
      [Symbol.dispose]: () => {
        const i = this.#targets.indexOf(target);
        if (i >= 0) this.#targets.splice(i, 1);
      },
    };
  }

  /**
   * Moves time forward by `ms`, firing due work in deadline order.
   *
   * @param ms Milliseconds to advance by.
   * @returns The number of distinct deadlines stepped through.
   * @throws {RangeError} when `ms` is negative, not finite, or would take
   * the time past the largest finite number.
   * @throws {ChronetixError} (`E_TARGET_STUCK`) when an attached target keeps
   * reporting work due without firing it.
   */
  advance(ms: number): number {
    const action = "advance the VirtualClock";
    return this.advanceTo(this.#later(action, ms));
  }

  /**
   * Moves time forward to the absolute time `t`, firing due work in order.
   *
   * @param t Target time in milliseconds; must not be in the past.
   * @returns The number of distinct deadlines stepped through.
   * @throws {RangeError} when `t` is before `now()` or not finite.
   * @throws {Error} when called from inside a callback that this clock fired.
   * @throws {ChronetixError} (`E_TARGET_STUCK`) when an attached target keeps
   * reporting work due without firing it.
   */
  advanceTo(t: number): number {
    requireNonNegative("advance the VirtualClock", "t", t);
    if (t < this.#now) {
      throw new RangeError(
        `Cannot advance the VirtualClock backwards: 't' is ${t} but now is ${this.#now}`,
      );
    }
    return this.#step(t, Infinity);
  }

  /**
   * Jumps `ms` forward at once, as if the process had been blocked, then
   * fires everything due at the new time: late, the way a stalled event loop
   * would. Use it to test missed-tick policies and lateness accounting.
   *
   * @param ms Milliseconds the stall lasts.
   * @returns The number of distinct steps taken after the jump.
   * @throws {RangeError} when `ms` is negative or not finite.
   * @throws {Error} when called from inside a callback that this clock fired.
   */
  stall(ms: number): number {
    const later = this.#later("stall the VirtualClock", ms);
    if (this.#stepping) {
      throw new Error("Cannot advance the VirtualClock from inside a callback it fired");
    }
    this.#now = later;
    return this.#step(this.#now, Infinity);
  }

  /**
   * Moves time forward by `ms` without firing anything, as if the caller
   * computed for that long. Unlike the other methods it may be called from
   * inside a callback this clock fired: that is its purpose, to give a timer
   * callback or a task body a duration. Whatever fell due meanwhile fires
   * (late) when the current step continues, or at the next `advance()`.
   *
   * @example A callback that takes 3 ms
   * ```ts
   * import { Driver } from "@chronetix/core";
   * import { VirtualClock } from "@chronetix/core/testing";
   * import { assertEquals } from "@std/assert";
   *
   * const clock = new VirtualClock();
   * using driver = new Driver({ clock });
   * const fired: number[] = [];
   * driver.at(1, () => clock.spend(3));
   * driver.at(2, () => fired.push(clock.now()));
   * clock.advance(5);
   * assertEquals(fired, [4]); // due at 2, ran when the 3 ms callback ended
   * ```
   *
   * @param ms Milliseconds spent.
   * @throws {RangeError} when `ms` is negative or not finite.
   */
  spend(ms: number): void {
    this.#now = this.#later("spend time on the VirtualClock", ms);
  }

  /** Returns `now + ms`, checking `ms` and that the sum stays finite. */
  #later(action: string, ms: number): number {
    const t = this.#now + requireNonNegative(action, "ms", ms);
    if (!Number.isFinite(t)) {
      throw new RangeError(
        `Cannot ${action} as 'ms' must keep the time finite: current value is ${ms} (now is ${this.#now})`,
      );
    }
    return t;
  }

  /**
   * Steps from deadline to deadline until no attached target has pending work.
   *
   * @param options Step limit.
   * @returns The number of distinct deadlines stepped through.
   * @throws {TypeError} when `options` is not an object.
   * @throws {RangeError} when work is still pending after `maxSteps` steps
   * (for example a periodic timer that is never cancelled).
   */
  runUntilIdle(options: RunUntilIdleOptions = {}): number {
    requireOptions("run the VirtualClock until idle", "options", options);
    const maxSteps = requireInteger(
      "run the VirtualClock until idle",
      "maxSteps",
      options.maxSteps ?? 100_000,
      1,
      Number.MAX_SAFE_INTEGER,
    );
    const steps = this.#step(Infinity, maxSteps);
    if (this.#nextDeadline() !== Infinity) {
      throw new RangeError(
        `Cannot run the VirtualClock until idle as work is still pending after ${maxSteps} steps ('maxSteps'): a periodic timer is probably still active`,
      );
    }
    return steps;
  }

  #nextDeadline(): number {
    let next = Infinity;
    for (const target of this.#targets) {
      const d = target.nextDeadline();
      if (d < next) next = d;
    }
    return next;
  }

  #step(limit: number, maxSteps: number): number {
    if (this.#stepping) {
      throw new Error("Cannot advance the VirtualClock from inside a callback it fired");
    }
    this.#stepping = true;
    let steps = 0;
    let sameInstant = 0;
    try {
      while (steps < maxSteps) {
        const next = this.#nextDeadline();
        if (!(next <= limit) || next === Infinity) break;
        if (next > this.#now) {
          this.#now = next;
          sameInstant = 0;
        } else if (++sameInstant > MAX_STEPS_AT_ONE_INSTANT) {
          // A wheel fires all its due work in one advance; only a target
          // that reports work it never fires gets here. Stop instead of
          // spinning forever.
          throw new ChronetixError(
            "E_TARGET_STUCK",
            `Cannot advance the VirtualClock as a target still reports work due at ${next} after ${MAX_STEPS_AT_ONE_INSTANT} steps at ${this.#now}`,
          );
        }
        steps++;
        // Every target due at this instant fires, in attach order.
        for (const target of [...this.#targets]) {
          if (target.nextDeadline() <= this.#now) target.advance(this.#now);
        }
      }
      if (limit !== Infinity && limit > this.#now) this.#now = limit;
    } finally {
      this.#stepping = false;
    }
    return steps;
  }
}
