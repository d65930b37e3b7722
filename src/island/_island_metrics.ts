// The `chronetix_island_*` metrics of one island (label `island`, then
// `task`). Counts and gauges are read from stats() at scrape time. The
// timing histograms are real Prometheus histograms: at each scrape, the
// counts the island's thread added to each fine bucket of its shared
// histograms since the last scrape are observed into the registry's
// histogram at a value inside that bucket (within 3 % of the true values),
// so nothing is observed on the island's hot path and no message is sent.

import type { MetricsRegistry } from "../metrics/registry.ts";
import type { Histogram } from "../metrics/families.ts";
import { exportKeyedStats, exportStats, type StatMetric } from "../metrics/export_stats.ts";
import { TIER_LEVEL } from "../exec/budget.ts";
import type { TaskStats } from "../exec/task.ts";
import type { IslandStats } from "./island_types.ts";
import { H_EXEC, H_LATE, H_SCHED, readSlot } from "./_island_layout.ts";
import { bucketCount, bucketMidSeconds, HIST_BUCKETS } from "../internal/histogram_cells.ts";
import type { SlotReader } from "./_island_stats.ts";

const TASK_METRICS: readonly StatMetric<TaskStats>[] = [
  {
    name: "chronetix_island_runs_total",
    help: "Island task runs started, by island and task",
    type: "counter",
    value: (s) => s.runs,
  },
  {
    name: "chronetix_island_deadline_misses_total",
    help: "Island task runs that finished after their deadline, by island and task",
    type: "counter",
    value: (s) => s.deadlineMisses,
  },
  {
    name: "chronetix_island_overruns_total",
    help: "Island task runs longer than the task's budget, by island and task",
    type: "counter",
    value: (s) => s.overruns,
  },
  {
    name: "chronetix_island_failures_total",
    help: "Island task runs that threw, by island and task",
    type: "counter",
    value: (s) => s.failures,
  },
  {
    name: "chronetix_island_skipped_ticks_total",
    help: "Island task releases skipped after a stall (missedTicks skip), by island and task",
    type: "counter",
    value: (s) => s.skippedTicks,
  },
  {
    name: "chronetix_island_budget_tier",
    help: "Island task budget tier: 0 monitor, 1 warn, 2 yield, 3 isolate (quarantined)",
    type: "gauge",
    value: (s) => TIER_LEVEL[s.tier],
  },
];

const ISLAND_METRICS: readonly StatMetric<IslandStats>[] = [
  {
    name: "chronetix_island_up",
    help: "1 while the island's thread runs its tasks, else 0",
    type: "gauge",
    value: (s) => s.state === "running" ? 1 : 0,
  },
  {
    name: "chronetix_island_restarts_total",
    help: "Island threads started again after a crash",
    type: "counter",
    value: (s) => s.restarts,
  },
  {
    name: "chronetix_island_crashes_total",
    help: "Island crashes: load or init failures, uncaught errors, out of memory, hangs",
    type: "counter",
    value: (s) => s.crashes,
  },
  {
    name: "chronetix_island_stuck_threads",
    help:
      "Island threads terminated while stuck in synchronous code (they spin until the process exits)",
    type: "gauge",
    value: (s) => s.stuckThreads,
  },
];

const HISTOGRAMS: readonly [string, string, number][] = [
  [
    "scheduling_latency",
    "Time from an island task's release to its start, by island and task",
    H_SCHED,
  ],
  ["execution", "Execution time of island task runs, by island and task", H_EXEC],
  [
    "lateness",
    "How late island task runs finished: end minus deadline, early finishes as 0, by island and task",
    H_LATE,
  ],
];

/**
 * Registers an island's metrics.
 *
 * @param registry Where.
 * @param name The island's name, its `island` label.
 * @param stats Reads the island's snapshot.
 * @param readers The task slots, for the histograms.
 * @returns Disposing runs a final collect and stops collecting.
 */
export function registerIslandMetrics(
  registry: MetricsRegistry,
  name: string,
  stats: () => IslandStats,
  readers: readonly SlotReader[],
): Disposable {
  const instance = { labels: { island: name } };
  const perTask = exportKeyedStats(
    registry,
    () => stats().perTask,
    { label: "task", of: (s) => s.name },
    TASK_METRICS,
    instance,
  );
  const islandWide = exportStats(registry, stats, ISLAND_METRICS, instance);
  const feeds = readers.map((reader) => ({
    reader,
    seen: HISTOGRAMS.map(() => new Float64Array(HIST_BUCKETS)),
    handles: HISTOGRAMS.map(([what, help]): Histogram =>
      registry.histogram({
        name: `chronetix_island_${what}_seconds`,
        help,
        unit: "seconds",
        labelNames: ["island", "task"],
      }).labels(name, reader.task.name)
    ),
  }));
  const feed = (): void => {
    for (const { reader, seen, handles } of feeds) {
      const copy = readSlot(reader.views, reader.copy);
      for (let h = 0; h < HISTOGRAMS.length; h++) {
        const at = HISTOGRAMS[h]![2];
        const last = seen[h]!;
        const handle = handles[h]!;
        for (let b = 0; b < HIST_BUCKETS; b++) {
          const count = bucketCount(copy.cells, at, b);
          const delta = count - last[b]!;
          if (!(delta > 0)) continue;
          last[b] = count;
          const value = bucketMidSeconds(b);
          for (let k = 0; k < delta; k++) handle.observe(value);
        }
      }
    }
  };
  const collector = registry.addCollector(feed);
  let disposed = false;
  return {
    [Symbol.dispose]() {
      if (disposed) return;
      disposed = true;
      feed();
      collector[Symbol.dispose]();
      perTask[Symbol.dispose]();
      islandWide[Symbol.dispose]();
    },
  };
}
