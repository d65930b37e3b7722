import { requireFinite } from "../internal/validate.ts";
import {
  HIST_CELLS,
  type LatencySnapshot,
  quantileOf,
  recordCells,
  resetCells,
  snapshotOf,
  valuesIn,
} from "../internal/histogram_cells.ts";

export type { LatencySnapshot };

/**
 * A fixed-size histogram of durations (lateness, latency, execution time),
 * recorded without allocation: about 1,300 pre-allocated buckets, log-linear
 * with at most 3 % relative error, from 1 ns to about 4.9 hours, plus the
 * last value, an EWMA, the mean, min and max. `record()` allocates nothing,
 * so the control path calls it on every run; readers take snapshots.
 *
 * Values are milliseconds, like every duration in the API. A negative value
 * (a run that finished before its deadline has negative lateness) counts as
 * itself in `last`, `ewma`, `mean`, `min` and `max`, and as zero in the
 * percentiles.
 *
 * @example Recording latencies and reading percentiles
 * ```ts
 * import { LatencyHistogram } from "@chronetix/core";
 * import { assertAlmostEquals, assertEquals } from "@std/assert";
 *
 * const histogram = new LatencyHistogram();
 * assertEquals(histogram.snapshot().p99, NaN); // no data yet
 * for (let i = 1; i <= 100; i++) histogram.record(i / 1000); // 1..100 µs
 * const s = histogram.snapshot();
 * assertEquals(s.count, 100);
 * assertAlmostEquals(s.p50, 0.05, 0.002);
 * assertEquals([s.last, s.max], [0.1, 0.1]);
 * ```
 */
export class LatencyHistogram {
  readonly #cells = new Float64Array(HIST_CELLS);

  constructor() {
    resetCells(this.#cells, 0);
  }

  /**
   * Records one value.
   *
   * @param ms Duration in milliseconds, a finite number.
   * @throws {TypeError} when `ms` is not a number.
   * @throws {RangeError} when `ms` is `NaN` or infinite.
   */
  record(ms: number): void {
    // One subtraction rejects NaN, ±Infinity and (with typeof) every non-number.
    if (typeof ms !== "number" || ms - ms !== 0) requireFinite("record a latency", "ms", ms);
    recordCells(this.#cells, 0, ms);
  }

  /** Number of values recorded. */
  get count(): number {
    return valuesIn(this.#cells, 0);
  }

  /**
   * Returns the value at quantile `q`: the upper bound of the bucket holding
   * the `ceil(q * count)`-th smallest value, capped at the exact maximum.
   *
   * @param q Quantile in `[0, 1]`.
   * @returns Milliseconds, or `NaN` when empty.
   * @throws {RangeError} when `q` is outside `[0, 1]`.
   */
  quantile(q: number): number {
    requireFinite("read a quantile", "q", q);
    if (q < 0 || q > 1) {
      throw new RangeError(
        `Cannot read a quantile as 'q' must be in [0, 1]: current value is ${q}`,
      );
    }
    return quantileOf(this.#cells, 0, q);
  }

  /**
   * Takes a snapshot.
   *
   * @returns A new snapshot object, in milliseconds.
   */
  snapshot(): LatencySnapshot {
    return snapshotOf(this.#cells, 0);
  }

  /** Forgets every recorded value. */
  reset(): void {
    resetCells(this.#cells, 0);
  }
}
