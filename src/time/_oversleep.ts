// How late a timed `Atomics.wait` returns, learnt, so a wait can be asked
// to end that much early: a futex wait on these machines oversleeps by
// 0.1-0.25 ms (timer slack, the hypervisor), more after long sleeps, and a
// spin meant to cover what follows a wake-up loses that much of its margin.

/** Weight of a new sample in the smoothed mean (and twice that in the deviation). */
const GAIN = 1 / 8;

/**
 * A timed wait's oversleep: a smoothed mean and mean deviation of how late
 * it returned, samples clamped to `[0, maxMs]`, so a stalled machine's
 * outliers move it by at most `maxMs / 8` each.
 *
 * @example A wait that keeps returning 0.2 ms late is asked to end 0.2 ms early
 * ```ts
 * import { Oversleep } from "./_oversleep.ts";
 * import { assertAlmostEquals } from "@std/assert";
 *
 * const oversleep = new Oversleep(0.5);
 * for (let i = 0; i < 100; i++) oversleep.learn(0.2);
 * assertAlmostEquals(oversleep.ms, 0.2, 1e-3);
 * ```
 */
export class Oversleep {
  readonly #maxMs: number;
  #mean = 0;
  #deviation = 0;

  /** @param maxMs The most a sample counts for, and the most `ms` gets to. */
  constructor(maxMs: number) {
    this.#maxMs = maxMs;
  }

  /** How early to ask a wait to end, ms: the mean oversleep plus its deviation, at most `maxMs`. */
  get ms(): number {
    return Math.min(this.#maxMs, this.#mean + this.#deviation);
  }

  /** Learns one wait: it returned `lateMs` after the time asked. */
  learn(lateMs: number): void {
    const sample = Math.min(this.#maxMs, Math.max(0, lateMs));
    const error = sample - this.#mean;
    this.#mean += error * GAIN;
    this.#deviation += (Math.abs(error) - this.#deviation) * 2 * GAIN;
  }
}
