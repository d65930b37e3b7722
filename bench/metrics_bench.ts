// `deno bench bench/metrics_bench.ts`: per-operation cost of metric updates
// and a 1,000-series scrape, against npm prom-client. Sub-20 ns operations
// sit near `deno bench`'s floor: `deno task bench:metrics` times them with
// manual loops.
//
// `deno run --allow-read --allow-env --allow-sys bench/metrics_bench.ts [--quick] [--json]`:
// case `default-metrics`, figure `ms_per_scrape`: one scrape of a registry
// holding only the default process/runtime metrics (collected on scrape),
// `chronetix` (collectDefaultMetrics, self metrics off so both registries
// hold the same kind of families) against `prom-client`
// (collectDefaultMetrics on its own Registry, `await register.metrics()`),
// interleaved round by round in the same run, with the ratio. prom-client's
// scrape waits for a setImmediate (its event-loop lag probe) and async /proc
// reads, so `cpu_ms_per_scrape` (process CPU time per scrape) is given too.
import client from "prom-client";
import { MetricsRegistry } from "../mod.ts";
import { type BenchArgs, parseBenchArgs, report } from "./_report.ts";
import { benchDefaultMetrics } from "./_default_metrics.ts";

if (import.meta.main) {
  const args: BenchArgs = parseBenchArgs("metrics");
  report("metrics", args, await benchDefaultMetrics(args.quick));
  // prom-client's default metrics keep an event-loop monitor and GC observer running.
  Deno.exit(0);
} else {
  const ours = new MetricsRegistry({ selfMetrics: false });
  const oursCounter = ours.counter({
    name: "chronetix_bench_events_total",
    help: "Events",
    labelNames: ["method", "code"],
  });
  const theirs = new client.Registry();
  const theirsCounter = new client.Counter({
    name: "chronetix_bench_events_total",
    help: "Events",
    labelNames: ["method", "code"],
    registers: [theirs],
  });
  for (let i = 0; i < 1000; i++) {
    oursCounter.labels(`m${i % 10}`, `c${Math.floor(i / 10)}`).inc();
    theirsCounter.inc({ method: `m${i % 10}`, code: `c${Math.floor(i / 10)}` });
  }
  const oursHandle = oursCounter.labels("m1", "c1");
  const theirsHandle = theirsCounter.labels("m1", "c1");
  const labels = { method: "m2", code: "c3" };

  Deno.bench({
    group: "inc-labels",
    name: "prom-client",
    baseline: true,
    fn: () => void theirsCounter.inc(labels),
  });
  Deno.bench({
    group: "inc-labels",
    name: "chronetix",
    fn: () => oursCounter.labels("m2", "c3").inc(),
  });
  Deno.bench({
    group: "inc-handle",
    name: "prom-client",
    baseline: true,
    fn: () => void theirsHandle.inc(),
  });
  Deno.bench({ group: "inc-handle", name: "chronetix", fn: () => oursHandle.inc() });
  Deno.bench({
    group: "scrape-1k",
    name: "prom-client",
    baseline: true,
    fn: async () => void (await theirs.metrics()),
  });
  Deno.bench({
    group: "scrape-1k",
    name: "chronetix",
    fn: () => void ours.expose("prometheus"),
  });
}
