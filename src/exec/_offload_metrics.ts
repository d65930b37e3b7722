// The offload pool's metrics, every series labelled pool="<name>". Counts
// and gauges are read from the pool's figures at scrape time; queue wait and
// execution time are histograms the pool observes through handles resolved
// here once (one typed-array write per job).

import type { Histogram } from "../metrics/families.ts";
import type { OffloadStats } from "./offload_types.ts";
import { DEFAULT_LATENCY_BUCKETS, type MetricsRegistry } from "../metrics/registry.ts";
import { exportStats, type StatMetric } from "../metrics/export_stats.ts";

/** The figures the metrics read: a subset of `OffloadStats`. */
export type OffloadFigures = Omit<
  OffloadStats,
  "submitted" | "queueWait" | "execution" | "lastError"
>;

/** What {@linkcode registerOffloadMetrics} hands the pool. */
export interface OffloadMetrics extends Disposable {
  /** Submit to dispatch, seconds. */
  readonly queueWait: Histogram;
  /** Dispatch to result, seconds. */
  readonly execution: Histogram;
}

/** Jobs by outcome: the `outcome` label and the figure it counts. */
const OUTCOMES: readonly [string, keyof OffloadFigures][] = [
  ["completed", "completed"],
  ["failed", "failed"],
  ["timeout", "timedOut"],
  ["crashed", "crashed"],
  ["cancelled", "cancelled"],
  ["rejected", "rejected"],
];

/** Buckets of the offload histograms, seconds: the latency buckets from 10 µs, up to 60 s. */
const OFFLOAD_BUCKETS: readonly number[] = [
  ...DEFAULT_LATENCY_BUCKETS.filter((b) => b >= 0.00001),
  30,
  60,
];

const OFFLOAD_METRICS: readonly StatMetric<OffloadFigures>[] = [
  {
    name: "chronetix_offload_queue_depth",
    help: "Offload jobs waiting for a worker",
    type: "gauge",
    value: (s) => s.queued,
  },
  {
    name: "chronetix_offload_in_flight",
    help: "Offload jobs sent to workers and not finished",
    type: "gauge",
    value: (s) => s.inFlight,
  },
  {
    name: "chronetix_offload_workers_alive",
    help: "Offload workers running",
    type: "gauge",
    value: (s) => s.workersAlive,
  },
  ...OUTCOMES.map(([outcome, key]): StatMetric<OffloadFigures> => ({
    name: "chronetix_offload_jobs_total",
    help: "Offload jobs by outcome (completed, failed, timeout, crashed, cancelled, rejected)",
    type: "counter",
    labels: { outcome },
    value: (s) => s[key],
  })),
  {
    name: "chronetix_offload_workers_replaced_total",
    help: "Offload workers replaced after a crash or a timeout",
    type: "counter",
    value: (s) => s.workersReplaced,
  },
  {
    name: "chronetix_offload_stuck_workers_total",
    help:
      "Offload workers replaced as stuck in synchronous code or not answering; their threads may run on",
    type: "counter",
    value: (s) => s.stuckWorkers,
  },
  {
    name: "chronetix_offload_workers_idle",
    help: "Offload workers running with no job sent to them",
    type: "gauge",
    value: (s) => s.workersIdle,
  },
  {
    name: "chronetix_offload_utilization_ratio",
    help: "Share of offload worker time spent with at least one job, since the pool started",
    type: "gauge",
    value: (s) => s.utilizationRatio,
  },
  {
    name: "chronetix_offload_workers_grown_total",
    help: "Offload workers started because jobs waited and no worker was idle",
    type: "counter",
    value: (s) => s.workersGrown,
  },
  {
    name: "chronetix_offload_workers_shrunk_total",
    help: "Offload workers stopped after idleTimeoutMs idle",
    type: "counter",
    value: (s) => s.workersShrunk,
  },
  {
    name: "chronetix_offload_oom_kills_total",
    help: "Offload workers that reached their heap limit and were replaced",
    type: "counter",
    value: (s) => s.oomKills,
  },
];

/**
 * Registers the `chronetix_offload_*` metrics of the pool named `name`.
 *
 * @param registry Where to register them.
 * @param name The pool's name: the `pool` label.
 * @param figures Returns the pool's current figures; read at scrape time.
 * @returns The histogram handles; disposing runs a final collect, then stops.
 */
export function registerOffloadMetrics(
  registry: MetricsRegistry,
  name: string,
  figures: () => OffloadFigures,
): OffloadMetrics {
  const labelNames = ["pool"];
  const queueWait = registry.histogram({
    name: "chronetix_offload_queue_wait_seconds",
    help: "Time offload jobs waited for a worker, from submit to dispatch",
    unit: "seconds",
    labelNames,
    buckets: OFFLOAD_BUCKETS,
  }).labels(name);
  const execution = registry.histogram({
    name: "chronetix_offload_exec_seconds",
    help: "Time from dispatch to result of offload jobs that completed or failed",
    unit: "seconds",
    labelNames,
    buckets: OFFLOAD_BUCKETS,
  }).labels(name);
  const exported = exportStats(registry, figures, OFFLOAD_METRICS, { labels: { pool: name } });
  return {
    queueWait,
    execution,
    [Symbol.dispose]: () => exported[Symbol.dispose](),
  };
}
