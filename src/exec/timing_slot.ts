import { LatenessHistogram } from "../time/lateness_histogram.ts";

/** A snapshot of one {@linkcode TimingSlot}, in milliseconds. */
export interface TimingSnapshot {
  /** Samples recorded. */
  count: number;
  /** The latest sample (`NaN` before the first). */
  last: number;
  /** Exponentially weighted moving average (weight 1/8 for a new sample). */
  ewma: number;
  /** The smallest sample. */
  min: number;
  /** The largest sample. */
  max: number;
  /** Median, from the histogram (within 3 %). */
  p50: number;
  /** 95th percentile. */
  p95: number;
  /** 99th percentile. */
  p99: number;
}

/**
 * A pre-allocated slot a timing folds into: last, EWMA, min, max and a
 * log-linear histogram. `record()` allocates nothing, so the executor can
 * call it on every run; readers take snapshots on their own cadence.
 *
 * @example
 * ```ts
 * import { TimingSlot } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const slot = new TimingSlot();
 * slot.record(2);
 * slot.record(4);
 * const s = slot.snapshot();
 * assertEquals([s.count, s.last, s.min, s.max], [2, 4, 2, 4]);
 * assertEquals(s.ewma, 2.25);
 * ```
 */
export class TimingSlot {
  #count = 0;
  #last = NaN;
  #ewma = 0;
  #min = Infinity;
  #max = -Infinity;
  readonly #histogram = new LatenessHistogram();

  /**
   * Folds in one sample.
   *
   * @param ms A duration in milliseconds (negative values count as 0 in the
   *   histogram, and as themselves in last, EWMA, min and max).
   */
  record(ms: number): void {
    this.#ewma = this.#count === 0 ? ms : this.#ewma + (ms - this.#ewma) / 8;
    this.#count++;
    this.#last = ms;
    if (ms < this.#min) this.#min = ms;
    if (ms > this.#max) this.#max = ms;
    this.#histogram.record(ms);
  }

  /** Samples recorded. */
  get count(): number {
    return this.#count;
  }

  /**
   * A quantile from the histogram.
   *
   * @param q In [0, 1].
   * @returns Milliseconds (0 before the first sample).
   */
  quantile(q: number): number {
    return this.#histogram.quantile(q);
  }

  /**
   * Takes a snapshot.
   *
   * @returns The current figures.
   */
  snapshot(): TimingSnapshot {
    const empty = this.#count === 0;
    return {
      count: this.#count,
      last: this.#last,
      ewma: empty ? NaN : this.#ewma,
      min: empty ? NaN : this.#min,
      max: empty ? NaN : this.#max,
      p50: this.#histogram.quantile(0.5),
      p95: this.#histogram.quantile(0.95),
      p99: this.#histogram.quantile(0.99),
    };
  }
}
