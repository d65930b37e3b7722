// The executor's metrics. Per task (label `task`, after the instance label
// `executor`): scheduling latency, execution time and lateness as histograms
// observed on the run path through handles resolved when the task is added
// (a typed-array write, no allocation), and counts and gauges read from the
// task records at scrape time. Executor-wide gauges beside them. No totals
// series: sum over `task`.

import type { MetricsRegistry } from "../metrics/registry.ts";
import { exportKeyedStats, exportStats, type StatMetric } from "../metrics/export_stats.ts";
import { TIER_LEVEL } from "./budget.ts";
import { DROP_REASONS } from "./task.ts";
import { newDropCounts, type TaskHistograms, type TaskRecord } from "./_task_record.ts";

/** What the executor-wide gauges read. */
export interface ExecutorGauges {
  /** Releases queued plus running. */
  readonly runnable: number;
  /** Releases deferred. */
  readonly deferred: number;
  /** Async bodies running. */
  readonly running: number;
}

/** The executor's registered metrics; disposing runs a final collect. */
export interface ExecutorMetrics extends Disposable {
  /**
   * Starts (or continues) the series of a task added to the executor.
   *
   * @param task The new task.
   * @returns The histograms its runs are observed into.
   */
  taskAdded(task: TaskRecord): TaskHistograms;
  /**
   * Freezes the series of a cancelled task at its counts so far.
   *
   * @param task The cancelled task.
   */
  taskRemoved(task: TaskRecord): void;
}

/**
 * The series of one task name. The counts of cancelled tasks of that name
 * are carried here, so when a task is cancelled and added again under the
 * same name its counters go on from where they were (they never go back
 * and lose nothing but what a run still in flight at the cancel adds), and
 * its histograms keep their observations. The cancelled task's record is
 * let go.
 */
class TaskSeries {
  readonly name: string;
  readonly histograms: TaskHistograms;
  record: TaskRecord | undefined;
  runs = 0;
  misses = 0;
  overruns = 0;
  failures = 0;
  skippedTicks = 0;
  readonly dropped = newDropCounts();
  /** The tier of the last task of this name, kept once it is cancelled. */
  tierLevel = 0;

  constructor(record: TaskRecord, histograms: TaskHistograms) {
    this.name = record.name;
    this.record = record;
    this.histograms = histograms;
  }

  /** Carries the current task's counts and lets it go. */
  retire(): void {
    const old = this.record;
    if (old === undefined) return;
    this.runs += old.runs;
    this.misses += old.misses;
    this.overruns += old.overruns;
    this.failures += old.failures;
    this.skippedTicks += old.skippedTicks;
    for (const reason of DROP_REASONS) this.dropped[reason] += old.dropped[reason];
    this.tierLevel = TIER_LEVEL[old.budget.tier];
    this.record = undefined;
  }
}

const TASK_METRICS: readonly StatMetric<TaskSeries>[] = [
  {
    name: "chronetix_exec_runs_total",
    help: "Task runs started, by task",
    type: "counter",
    value: (s) => s.runs + (s.record?.runs ?? 0),
  },
  {
    name: "chronetix_exec_deadline_misses_total",
    help: "Runs that finished after their deadline, by task",
    type: "counter",
    value: (s) => s.misses + (s.record?.misses ?? 0),
  },
  {
    name: "chronetix_exec_overruns_total",
    help: "Runs longer than the task's budget, by task",
    type: "counter",
    value: (s) => s.overruns + (s.record?.overruns ?? 0),
  },
  {
    name: "chronetix_exec_failures_total",
    help: "Runs that threw or rejected, and offloaded runs that failed, by task",
    type: "counter",
    value: (s) => s.failures + (s.record?.failures ?? 0),
  },
  ...DROP_REASONS.map((reason): StatMetric<TaskSeries> => ({
    name: "chronetix_exec_dropped_total",
    help: "Releases dropped, by task and reason (task-cap, global-cap, defer-cap, stopped)",
    type: "counter",
    labels: { reason },
    value: (s) => s.dropped[reason] + (s.record?.dropped[reason] ?? 0),
  })),
  {
    name: "chronetix_exec_skipped_ticks_total",
    help: "Periodic releases skipped after a stall (missedTicks skip), by task",
    type: "counter",
    value: (s) => s.skippedTicks + (s.record?.skippedTicks ?? 0),
  },
  {
    name: "chronetix_exec_queue_depth",
    help: "Releases waiting to run (queued or deferred), by task",
    type: "gauge",
    value: (s) => s.record?.queued ?? 0,
  },
  {
    name: "chronetix_exec_budget_tier",
    help: "Budget tier by task: 0 monitor, 1 warn, 2 yield, 3 isolate",
    type: "gauge",
    value: (s) => s.record === undefined ? s.tierLevel : TIER_LEVEL[s.record.budget.tier],
  },
];

const EXECUTOR_METRICS: readonly StatMetric<ExecutorGauges>[] = [
  {
    name: "chronetix_exec_runnable",
    help: "Releases waiting or running, all tasks (capped by maxRunnable)",
    type: "gauge",
    value: (s) => s.runnable,
  },
  {
    name: "chronetix_exec_deferred",
    help: "Releases deferred by the defer overflow policy, all tasks",
    type: "gauge",
    value: (s) => s.deferred,
  },
  {
    name: "chronetix_exec_running",
    help: "Async task bodies in progress",
    type: "gauge",
    value: (s) => s.running,
  },
];

/**
 * Registers the `chronetix_exec_*` metrics of one executor.
 *
 * @param registry Where to register them.
 * @param name The executor's name, its `executor` label.
 * @param gauges Reads what the executor-wide gauges show.
 * @returns The handle the executor adds tasks through; disposing runs a final collect.
 */
export function registerExecutorMetrics(
  registry: MetricsRegistry,
  name: string,
  gauges: () => ExecutorGauges,
): ExecutorMetrics {
  const instance = { labels: { executor: name } };
  const histogram = (what: string, help: string) =>
    registry.histogram({
      name: `chronetix_exec_${what}_seconds`,
      help,
      unit: "seconds",
      labelNames: ["executor", "task"],
    });
  const sched = histogram("scheduling_latency", "Time from a task's release to its start, by task");
  const exec = histogram("execution", "Execution time of task runs, by task");
  const lateness = histogram(
    "lateness",
    "How late task runs finished: end minus deadline, early finishes as 0, by task",
  );
  const series = new Map<string, TaskSeries>();
  const perTask = exportKeyedStats(
    registry,
    () => series.values(),
    { label: "task", of: (s) => s.name },
    TASK_METRICS,
    instance,
  );
  const executorWide = exportStats(registry, gauges, EXECUTOR_METRICS, instance);
  return {
    taskAdded(task: TaskRecord): TaskHistograms {
      const known = series.get(task.name);
      if (known !== undefined) {
        known.retire();
        known.record = task;
        return known.histograms;
      }
      const histograms: TaskHistograms = {
        sched: sched.labels(name, task.name),
        exec: exec.labels(name, task.name),
        lateness: lateness.labels(name, task.name),
      };
      series.set(task.name, new TaskSeries(task, histograms));
      return histograms;
    },
    taskRemoved(task: TaskRecord): void {
      const known = series.get(task.name);
      if (known?.record === task) known.retire();
    },
    [Symbol.dispose]() {
      perTask[Symbol.dispose]();
      executorWide[Symbol.dispose]();
    },
  };
}
