import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import { Executor } from "../../src/exec/executor.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { SILENT_LOGGER } from "../_util/logger.ts";

/** The value of one exposed sample, by its full series text. */
function sample(registry: MetricsRegistry, series: string): number | undefined {
  for (const line of registry.exposeText().split("\n")) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

Deno.test("Executor metrics observe scheduling latency, execution and lateness as histograms in seconds", () => {
  const clock = new VirtualClock();
  const metrics = new MetricsRegistry();
  using executor = new Executor({ clock, metrics, name: "main", logger: SILENT_LOGGER });
  executor.periodic({ name: "work", periodMs: 10, deadlineMs: 2, run: () => clock.spend(3) });
  clock.advance(30);
  const labels = '{executor="main",task="work"}';
  assertEquals(sample(metrics, `chronetix_exec_execution_seconds_count${labels}`), 3);
  assertAlmostEquals(sample(metrics, `chronetix_exec_execution_seconds_sum${labels}`)!, 0.009);
  assertEquals(sample(metrics, `chronetix_exec_scheduling_latency_seconds_count${labels}`), 3);
  // Each run ends 1 ms after its 2 ms deadline: all in the (0.001] bucket.
  assertEquals(
    sample(
      metrics,
      'chronetix_exec_lateness_seconds_bucket{executor="main",task="work",le="0.001"}',
    ),
    3,
  );
  assertEquals(sample(metrics, `chronetix_exec_runs_total${labels}`), 3);
  assertEquals(sample(metrics, `chronetix_exec_deadline_misses_total${labels}`), 3);
  const text = metrics.exposeText();
  assert(!/_p(50|95|99)_/.test(text), "no quantile gauges");
  assert(!text.includes('task="*"'), "no totals series");
});

Deno.test("Executor metrics count early finishes as zero lateness", () => {
  const clock = new VirtualClock();
  const metrics = new MetricsRegistry();
  using executor = new Executor({ clock, metrics, logger: SILENT_LOGGER });
  executor.periodic({ name: "early", periodMs: 10, run: () => clock.spend(1) });
  clock.advance(20);
  const labels = 'executor="executor",task="early"';
  assertEquals(sample(metrics, `chronetix_exec_lateness_seconds_sum{${labels}}`), 0);
  assertEquals(
    sample(metrics, `chronetix_exec_lateness_seconds_bucket{${labels},le="0.000005"}`),
    2,
  );
});

Deno.test("Executor metrics export per-task counts and tiers, and executor-wide gauges, by executor name", () => {
  const clock = new VirtualClock();
  const metrics = new MetricsRegistry();
  const options = { clock, metrics, logger: SILENT_LOGGER, budget: { escalateAfter: 1 } };
  using a = new Executor({ ...options, name: "a" });
  using b = new Executor({ ...options, name: "b" });
  a.periodic({ name: "t", periodMs: 10, budgetMs: 1, run: () => clock.spend(2) });
  b.periodic({
    name: "t",
    periodMs: 10,
    run: () => {
      throw new Error("no");
    },
  });
  a.once({ name: "hog", delayMs: 15, run: () => clock.spend(40) }); // stalls both 15..55
  clock.advance(60); // runs at 10, 20 (late) and 60; 30, 40 and 50 are skipped
  assertEquals(sample(metrics, 'chronetix_exec_overruns_total{executor="a",task="t"}'), 3);
  assertEquals(sample(metrics, 'chronetix_exec_budget_tier{executor="a",task="t"}'), 1);
  assertEquals(sample(metrics, 'chronetix_exec_failures_total{executor="b",task="t"}'), 3);
  assertEquals(sample(metrics, 'chronetix_exec_failures_total{executor="a",task="t"}'), 0);
  assertEquals(sample(metrics, 'chronetix_exec_skipped_ticks_total{executor="a",task="t"}'), 3);
  assertEquals(sample(metrics, 'chronetix_exec_skipped_ticks_total{executor="b",task="t"}'), 3);
  assertEquals(
    sample(metrics, 'chronetix_exec_dropped_total{executor="b",task="t",reason="task-cap"}'),
    0,
  );
  assertEquals(sample(metrics, 'chronetix_exec_queue_depth{executor="a",task="t"}'), 0);
  assertEquals(sample(metrics, 'chronetix_exec_runnable{executor="a"}'), 0);
  assertEquals(sample(metrics, 'chronetix_exec_running{executor="b"}'), 0);
});

Deno.test("Executor metrics continue a task's counters when it is cancelled and added again under its name", () => {
  const clock = new VirtualClock();
  const metrics = new MetricsRegistry();
  using executor = new Executor({ clock, metrics, logger: SILENT_LOGGER });
  const runs = 'chronetix_exec_runs_total{executor="executor",task="t"}';
  const count = 'chronetix_exec_execution_seconds_count{executor="executor",task="t"}';
  const first = executor.periodic({ name: "t", periodMs: 10, run: () => {} });
  clock.advance(50);
  assertEquals(sample(metrics, runs), 5);
  first.cancel();
  assertEquals(sample(metrics, runs), 5, "a cancelled task's series keeps its last value");
  const second = executor.periodic({ name: "t", periodMs: 10, run: () => {} });
  clock.advance(20);
  assertEquals(second.stats().runs, 2, "the new task's own stats start from zero");
  assertEquals(sample(metrics, runs), 7, "the counter goes on from the earlier task's total");
  assertEquals(sample(metrics, count), 7, "so does the histogram");
  // Replaced between two scrapes, with more runs than before: still nothing lost.
  second.cancel();
  executor.periodic({ name: "t", periodMs: 1, run: () => {} });
  clock.advance(10);
  assertEquals(sample(metrics, runs), 17);
});

Deno.test("Executor.close() runs a final metrics collect, then stops collecting", () => {
  const clock = new VirtualClock();
  const metrics = new MetricsRegistry();
  const executor = new Executor({ clock, metrics, logger: SILENT_LOGGER });
  const runs = 'chronetix_exec_runs_total{executor="executor",task="t"}';
  executor.periodic({ name: "t", periodMs: 10, run: () => {} });
  clock.advance(30);
  executor.close();
  assertEquals(sample(metrics, runs), 3);
  executor.close();
  assertEquals(sample(metrics, runs), 3);
});
