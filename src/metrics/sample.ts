import { requireInteger, show } from "../internal/validate.ts";

/** The most samples a {@linkcode SampleBuffer} holds. */
const MAX_SAMPLES = 2 ** 30;

/** One exported sample, as {@linkcode MetricsRegistry.flatten} returns it. */
export interface Sample {
  /** The sample name (`_bucket`, `_sum`, `_count` included for histograms). */
  name: string;
  /** Its labels (`le` included for histogram buckets). */
  labels: Readonly<Record<string, string>>;
  /** Its value. */
  value: number;
}

/**
 * A reusable destination for {@linkcode MetricsRegistry.flattenInto}: a
 * high-frequency reader keeps one and reads `length` samples from its
 * parallel arrays after each call, with no allocation once it has grown to
 * the registry's size. Names and label records are shared with the registry:
 * do not mutate them.
 *
 * @example Reading samples without allocating
 * ```ts
 * import { MetricsRegistry, SampleBuffer } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const registry = new MetricsRegistry({ selfMetrics: false });
 * registry.counter({ name: "chronetix_demo_events_total", help: "Events seen" }).labels().inc(3);
 * const buffer = new SampleBuffer();
 * const n = registry.flattenInto(buffer);
 * assertEquals(n, 1);
 * assertEquals([buffer.names[0], buffer.values[0]], ["chronetix_demo_events_total", 3]);
 * ```
 */
export class SampleBuffer {
  /** Sample names. */
  names: string[] = [];
  /** Sample label records. */
  labels: Readonly<Record<string, string>>[] = [];
  /** Sample values. */
  values: Float64Array = new Float64Array(64);
  /** Number of valid samples after the last `flattenInto`. */
  length = 0;

  /**
   * Makes room for at least `n` samples.
   *
   * @param n How many samples, an integer in [0, 2^30].
   * @throws {TypeError} when `n` is not a number, or `values` is not a `Float64Array`.
   * @throws {RangeError} when `n` is not an integer in [0, 2^30].
   */
  reserve(n: number): void {
    requireInteger("reserve room in a SampleBuffer", "n", n, 0, MAX_SAMPLES);
    const current = this.values;
    if (!(current instanceof Float64Array)) {
      throw new TypeError(
        `Cannot reserve room in a SampleBuffer as its 'values' must be a Float64Array: current value is ${
          show(current)
        }`,
      );
    }
    if (current.length >= n) return;
    let size = Math.max(current.length, 64);
    while (size < n) size *= 2;
    const values = new Float64Array(Math.min(size, MAX_SAMPLES));
    values.set(current);
    this.values = values;
  }
}
