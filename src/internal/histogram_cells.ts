// The cells of a latency histogram laid out in a Float64Array at an offset:
// its figures (count, sum, last, EWMA, min, max), then log-linear buckets over
// nanoseconds, at most 3 % wide. `LatencyHistogram` (src/time) keeps its
// cells in a private array; the real-time island keeps them in a
// SharedArrayBuffer that its thread records into without allocation and the
// main thread reads a snapshot of (same buckets, so the same quantiles).

// Values below 2^SUB_BITS ns get one bucket each; above, every power of two
// splits into 2^(SUB_BITS-1) buckets.

/**
 * A snapshot of a `LatencyHistogram`, all in milliseconds. The one
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

const SUB_BITS = 6;
const SUB_COUNT = 1 << SUB_BITS;
const HALF = SUB_COUNT >> 1;
const MAX_EXPONENT = 44; // 2^44 ns is about 4.9 hours; larger values saturate.
/** Buckets of one histogram. */
export const HIST_BUCKETS: number = SUB_COUNT + (MAX_EXPONENT - SUB_BITS + 1) * HALF;

const COUNT = 0;
const SUM = 1;
const LAST = 2;
const EWMA = 3;
const MIN = 4;
const MAX = 5;
const HEAD = 6;
/** Float64 cells of one histogram: its figures, then its buckets. */
export const HIST_CELLS: number = HEAD + HIST_BUCKETS;

function bucketOf(ns: number): number {
  if (ns < SUB_COUNT) return ns;
  const exponent = ns < 2 ** 32 ? 31 - Math.clz32(ns) : Math.floor(Math.log2(ns));
  if (exponent > MAX_EXPONENT) return HIST_BUCKETS - 1;
  const shift = exponent - SUB_BITS + 1;
  const sub = Math.floor(ns / 2 ** shift) - HALF;
  return SUB_COUNT + (exponent - SUB_BITS) * HALF + sub;
}

/** The largest nanosecond value of bucket `index`. */
export function bucketUpperNs(index: number): number {
  if (index < SUB_COUNT) return index;
  const k = index - SUB_COUNT;
  const exponent = Math.floor(k / HALF) + SUB_BITS;
  const sub = (k % HALF) + HALF;
  const shift = exponent - SUB_BITS + 1;
  return (sub + 1) * 2 ** shift - 1;
}

/** A value inside bucket `index`, in seconds: what a Prometheus histogram is fed per count. */
export function bucketMidSeconds(index: number): number {
  const lower = index === 0 ? 0 : bucketUpperNs(index - 1) + 1;
  return (lower + bucketUpperNs(index)) / 2e9;
}

/** Sets an empty histogram at `at`. */
export function resetCells(cells: Float64Array, at: number): void {
  cells.fill(0, at, at + HIST_CELLS);
  cells[at + LAST] = NaN;
  cells[at + EWMA] = NaN;
  cells[at + MIN] = Infinity;
  cells[at + MAX] = -Infinity;
}

/**
 * Records one value (ms, finite) into the histogram at `at`; allocates nothing.
 * Negative values count as 0 in the buckets, as in LatencyHistogram.
 */
export function recordCells(cells: Float64Array, at: number, ms: number): void {
  const v = ms > 0 ? ms : 0;
  cells[at + HEAD + bucketOf(Math.round(v * 1e6))]!++;
  const count = cells[at + COUNT]!;
  const ewma = cells[at + EWMA]!;
  // Weighted as 7/8 + 1/8 rather than `ewma + (ms - ewma) / 8`, which
  // overflows to NaN between values of opposite sign near the double limit.
  cells[at + EWMA] = count === 0 ? ms : ewma - ewma / 8 + ms / 8;
  cells[at + COUNT] = count + 1;
  cells[at + SUM]! += ms;
  cells[at + LAST] = ms;
  if (ms < cells[at + MIN]!) cells[at + MIN] = ms;
  if (ms > cells[at + MAX]!) cells[at + MAX] = ms;
}

/** Count of bucket `index` of the histogram at `at`. */
export function bucketCount(cells: Float64Array, at: number, index: number): number {
  return cells[at + HEAD + index]!;
}

/** Values recorded in the histogram at `at`. */
export function valuesIn(cells: Float64Array, at: number): number {
  return cells[at + COUNT]!;
}

/** The value at quantile `q` (in [0, 1]) of the histogram at `at`, ms; NaN when empty. */
export function quantileOf(cells: Float64Array, at: number, q: number): number {
  const count = cells[at + COUNT]!;
  if (count === 0) return NaN;
  const max = cells[at + MAX]!;
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  for (let i = 0; i < HIST_BUCKETS; i++) {
    seen += cells[at + HEAD + i]!;
    if (seen >= rank) {
      // The top bucket collects everything beyond the range: report the max.
      const top = Math.max(max, 0);
      return i === HIST_BUCKETS - 1 ? top : Math.min(bucketUpperNs(i) / 1e6, top);
    }
  }
  return max;
}

/** The snapshot of the histogram at `at` (read it from a consistent copy). */
export function snapshotOf(cells: Float64Array, at: number): LatencySnapshot {
  const count = cells[at + COUNT]!;
  const empty = count === 0;
  const min = cells[at + MIN]!;
  const max = cells[at + MAX]!;
  return {
    count,
    last: cells[at + LAST]!,
    ewma: cells[at + EWMA]!,
    // The sum of huge values can overflow; the mean never leaves [min, max].
    mean: empty ? NaN : Math.min(Math.max(cells[at + SUM]! / count, min), max),
    min: empty ? NaN : min,
    max: empty ? NaN : max,
    p50: quantileOf(cells, at, 0.5),
    p95: quantileOf(cells, at, 0.95),
    p99: quantileOf(cells, at, 0.99),
    p999: quantileOf(cells, at, 0.999),
  };
}
