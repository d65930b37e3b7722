// The executor's metrics: per task (label `task`, with `*` for the totals)
// and global, read from `stats()` at scrape time, never on the run path.
import type { Counter, Gauge } from "../metrics/families.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import type { LatencySnapshot } from "../time/latency_histogram.ts";
import { DROP_REASONS } from "./task.ts";
import type { ExecutorStats } from "./executor.ts";
import { BUDGET_TIERS } from "./budget.ts";

/** What the metrics read: the executor's `stats()`. */
export interface ExecutorStatsSource {
  stats(): ExecutorStats;
}

const QUANTILES = ["p50", "p95", "p99"] as const;

/**
 * Feeds a task's cumulative count into a counter. A task cancelled and added
 * again under the same name starts counting from 0; the feed notices the
 * drop and carries the earlier total, so the exported counter never goes
 * back.
 */
class CounterFeed {
  readonly #counter: Counter;
  #base = 0;
  #last = 0;
  constructor(counter: Counter) {
    this.#counter = counter;
  }
  feed(value: number): void {
    if (value < this.#last) this.#base += this.#last;
    this.#last = value;
    this.#counter.advanceTo(this.#base + value);
  }
}

interface TaskHandles {
  runs: CounterFeed;
  misses: CounterFeed;
  overruns: CounterFeed;
  failures: CounterFeed;
  drops: CounterFeed[];
  queue: Gauge;
  tier: Gauge;
  sched: Gauge[];
  exec: Gauge[];
}

/** Registers the `chronetix_exec_*` metrics; disposing runs a final update. */
export function registerExecutorMetrics(
  registry: MetricsRegistry,
  executor: ExecutorStatsSource,
): Disposable {
  const task = ["task"];
  const runs = registry.counter({
    name: "chronetix_exec_runs_total",
    help: 'Task runs started, by task (task="*": all tasks)',
    labelNames: task,
  });
  const misses = registry.counter({
    name: "chronetix_exec_deadline_misses_total",
    help: "Runs that finished after their deadline, by task",
    labelNames: task,
  });
  const overruns = registry.counter({
    name: "chronetix_exec_overruns_total",
    help: "Runs longer than the task's budget, by task",
    labelNames: task,
  });
  const failures = registry.counter({
    name: "chronetix_exec_failures_total",
    help: "Runs that threw or rejected, by task",
    labelNames: task,
  });
  const drops = registry.counter({
    name: "chronetix_exec_drops_total",
    help: "Releases dropped, by task and reason (task-cap, global-cap, defer-cap, stopped)",
    labelNames: ["task", "reason"],
  });
  const queue = registry.gauge({
    name: "chronetix_exec_queue_depth",
    help: "Releases waiting to run (queued or deferred), by task",
    labelNames: task,
  });
  const tier = registry.gauge({
    name: "chronetix_exec_budget_tier",
    help: "Budget tier by task: 0 monitor, 1 warn, 2 yield, 3 isolate",
    labelNames: task,
  });
  const quantileGauges = (what: string, help: string) =>
    QUANTILES.map((q) =>
      registry.gauge({
        name: `chronetix_exec_${what}_${q}_seconds`,
        help: `${help}, ${q}, by task`,
        unit: "seconds",
        labelNames: task,
      })
    );
  const sched = quantileGauges("scheduling_latency", "Time from release to start");
  const exec = quantileGauges("execution", "Execution time of runs");
  const runnable = registry.gauge({
    name: "chronetix_exec_runnable",
    help: "Releases waiting or running, all tasks (capped by maxRunnable)",
  }).labels();
  const deferred = registry.gauge({
    name: "chronetix_exec_deferred",
    help: "Releases deferred by the defer overflow policy, all tasks",
  }).labels();
  const running = registry.gauge({
    name: "chronetix_exec_running",
    help: "Async task bodies in progress",
  }).labels();

  const handles = new Map<string, TaskHandles>();
  const handlesOf = (name: string): TaskHandles => {
    let h = handles.get(name);
    if (h === undefined) {
      h = {
        runs: new CounterFeed(runs.labels(name)),
        misses: new CounterFeed(misses.labels(name)),
        overruns: new CounterFeed(overruns.labels(name)),
        failures: new CounterFeed(failures.labels(name)),
        drops: DROP_REASONS.map((r) => new CounterFeed(drops.labels(name, r))),
        queue: queue.labels(name),
        tier: tier.labels(name),
        sched: sched.map((g) => g.labels(name)),
        exec: exec.map((g) => g.labels(name)),
      };
      handles.set(name, h);
    }
    return h;
  };
  const setQuantiles = (gauges: Gauge[], t: LatencySnapshot) => {
    gauges[0]!.set(t.p50 / 1000);
    gauges[1]!.set(t.p95 / 1000);
    gauges[2]!.set(t.p99 / 1000);
  };
  const collect = () => {
    const s = executor.stats();
    for (const t of s.perTask) {
      const h = handlesOf(t.name);
      h.runs.feed(t.runs);
      h.misses.feed(t.deadlineMisses);
      h.overruns.feed(t.overruns);
      h.failures.feed(t.failures);
      DROP_REASONS.forEach((r, i) => h.drops[i]!.feed(t.drops[r]));
      h.queue.set(t.queued);
      h.tier.set(BUDGET_TIERS.indexOf(t.tier));
      setQuantiles(h.sched, t.schedulingLatency);
      setQuantiles(h.exec, t.execution);
    }
    const all = handlesOf("*");
    all.runs.feed(s.runs);
    all.misses.feed(s.deadlineMisses);
    all.failures.feed(s.failures);
    all.overruns.feed(s.overruns);
    DROP_REASONS.forEach((r, i) => all.drops[i]!.feed(s.drops[r]));
    all.queue.set(s.runnable - s.running + s.deferred);
    setQuantiles(all.sched, s.schedulingLatency);
    setQuantiles(all.exec, s.execution);
    runnable.set(s.runnable);
    deferred.set(s.deferred);
    running.set(s.running);
  };
  const collector = registry.addCollector(collect);
  return {
    [Symbol.dispose]() {
      collect();
      collector[Symbol.dispose]();
    },
  };
}
