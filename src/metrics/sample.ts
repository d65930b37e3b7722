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

  /** Makes room for at least `n` samples. */
  reserve(n: number): void {
    if (this.values.length >= n) return;
    let size = this.values.length;
    while (size < n) size *= 2;
    const values = new Float64Array(size);
    values.set(this.values);
    this.values = values;
  }
}
