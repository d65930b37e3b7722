/**
 * The metrics registry: counters, gauges and histograms with labels and
 * cardinality limits, written as Prometheus text 0.0.4 or OpenMetrics 1.0;
 * {@linkcode exportStats} / {@linkcode exportKeyedStats}, which export a
 * component's statistics snapshots as metrics read at scrape time; and
 * {@linkcode collectDefaultMetrics}, the standard process and runtime
 * metrics (`process_*`, `nodejs_*`) in one call.
 *
 * @example Exposing a histogram as OpenMetrics
 * ```ts
 * import { MetricsRegistry } from "@chronetix/core";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const registry = new MetricsRegistry();
 * const latency = registry.histogram({
 *   name: "chronetix_demo_latency_seconds",
 *   help: "Latency of demo operations",
 *   unit: "seconds",
 * });
 * latency.labels().observe(0.0042);
 * assertStringIncludes(registry.exposeText("openmetrics"), "# UNIT chronetix_demo_latency_seconds seconds\n");
 * ```
 *
 * @module
 */
export {
  type HistogramOptions,
  type MetricInventoryEntry,
  type MetricOptions,
  MetricsRegistry,
  type MetricsRegistryOptions,
} from "./registry.ts";
export type {
  Counter,
  CounterFamily,
  Gauge,
  GaugeFamily,
  Histogram,
  HistogramFamily,
  MetricFamily,
} from "./families.ts";
export { type Sample, SampleBuffer } from "./sample.ts";
export {
  exportKeyedStats,
  exportStats,
  type ExportStatsOptions,
  type StatMetric,
} from "./export_stats.ts";
export {
  type ExpositionFormat,
  negotiateExpositionFormat,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
} from "./exposition.ts";
export type { MetricType } from "./naming.ts";
export {
  collectDefaultMetrics,
  type DefaultMetrics,
  type DefaultMetricsOptions,
  type DefaultMetricsStats,
  EVENT_LOOP_BUCKETS,
  type MemoryFigures,
  type ProcessSources,
} from "./default_metrics.ts";
