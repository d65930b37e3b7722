import { requireFinite } from "../internal/validate.ts";

/**
 * A snapshot of a {@linkcode LatencyHistogram}, all in milliseconds. The one
 * shape every latency, lateness and duration figure of the API is read in.
 * Before the first sample every figure but `count` is `NaN` (JSON: `null`):
 * no data is not a zero latency.
 */
export interface LatencySnapshot {
  /** Number of values recorded. */
  count: number;
  /** The latest value. */
  last: number;
  /** Exponentially weighted moving average (a new value weighs 1/8). */
  ewma: number;
  /** Arithmetic mean. */
  mean: number;
  /** Smallest value. */
  min: number;
  /** Largest value. */
  max: number;
  /** Median, within 3 % (negative values count as 0 in the percentiles). */
  p50: number;
  /** 95th percentile. */
  p95: number;
  /** 99th percentile. */
  p99: number;
  /** 99.9th percentile. */
  p999: number;
}

// Log-linear buckets over nanoseconds: values below 2^SUB_BITS ns get one
// bucket each; above, every power of two splits into 2^(SUB_BITS-1) buckets,
// so a bucket is at most 1/32 (about 3 %) wide relative to its value.
const SUB_BITS = 6;
const SUB_COUNT = 1 << SUB_BITS;
const HALF = SUB_COUNT >> 1;
const MAX_EXPONENT = 44; // 2^44 ns is about 4.9 hours; larger values saturate.
const BUCKETS = SUB_COUNT + (MAX_EXPONENT - SUB_BITS + 1) * HALF;

function bucketOf(ns: number): number {
  if (ns < SUB_COUNT) return ns;
  const exponent = ns < 2 ** 32 ? 31 - Math.clz32(ns) : Math.floor(Math.log2(ns));
  if (exponent > MAX_EXPONENT) return BUCKETS - 1;
  const shift = exponent - SUB_BITS + 1;
  const sub = Math.floor(ns / 2 ** shift) - HALF; // in [0, HALF)
  return SUB_COUNT + (exponent - SUB_BITS) * HALF + sub;
}

function bucketUpperNs(index: number): number {
  if (index < SUB_COUNT) return index;
  const k = index - SUB_COUNT;
  const exponent = Math.floor(k / HALF) + SUB_BITS;
  const sub = (k % HALF) + HALF;
  const shift = exponent - SUB_BITS + 1;
  return (sub + 1) * 2 ** shift - 1;
}

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
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #last = NaN;
  #ewma = NaN;
  #min = Infinity;
  #max = -Infinity;

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
    const v = ms > 0 ? ms : 0;
    this.#counts[bucketOf(Math.round(v * 1e6))]!++;
    // Weighted as 7/8 + 1/8 rather than `ewma + (ms - ewma) / 8`, which
    // overflows to NaN between values of opposite sign near the double limit.
    this.#ewma = this.#count === 0 ? ms : this.#ewma - this.#ewma / 8 + ms / 8;
    this.#count++;
    this.#sum += ms;
    this.#last = ms;
    if (ms < this.#min) this.#min = ms;
    if (ms > this.#max) this.#max = ms;
  }

  /** Number of values recorded. */
  get count(): number {
    return this.#count;
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
    if (this.#count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) {
        // The top bucket collects everything beyond the range: report the max.
        const top = Math.max(this.#max, 0);
        return i === BUCKETS - 1 ? top : Math.min(bucketUpperNs(i) / 1e6, top);
      }
    }
    return this.#max;
  }

  /**
   * Takes a snapshot.
   *
   * @returns A new snapshot object, in milliseconds.
   */
  snapshot(): LatencySnapshot {
    const empty = this.#count === 0;
    return {
      count: this.#count,
      last: this.#last,
      ewma: this.#ewma,
      // The sum of huge values can overflow; the mean never leaves [min, max].
      mean: empty ? NaN : Math.min(Math.max(this.#sum / this.#count, this.#min), this.#max),
      min: empty ? NaN : this.#min,
      max: empty ? NaN : this.#max,
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
      p999: this.quantile(0.999),
    };
  }

  /** Forgets every recorded value. */
  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#sum = 0;
    this.#last = NaN;
    this.#ewma = NaN;
    this.#min = Infinity;
    this.#max = -Infinity;
  }
}
