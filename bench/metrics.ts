/**
 * `deno task bench:metrics [--quick] [--json]`: the metrics registry against
 * npm `prom-client@15`, the library a Node user would pick, in the same run.
 *
 * - `scrape-10k`: exposition (Prometheus text) of 10,000 labelled counter
 *   series; `median_ms` per scrape, after 20 warm-up scrapes of each subject
 *   (steady state). Ours writes bytes into a reused buffer; prom-client's
 *   `registry.metrics()` returns a string.
 * - `inc-handle`: counter increment through a resolved handle (prom-client:
 *   a `labels()` child); `median_ns` per increment, timed with a manual loop
 *   because `deno bench` has an ~8 ns floor.
 * - `inc-labels`: increment by label values on every call.
 * - `observe`: histogram observe through a handle.
 * - `default-metrics`: one scrape of the default process and runtime
 *   metrics (`collectDefaultMetrics`), `ms_per_scrape` and
 *   `cpu_ms_per_scrape`, against prom-client's `collectDefaultMetrics`
 *   (bench/_default_metrics.ts).
 * - `memory`: heap and buffer bytes per counter series, over 100,000 series
 *   (at 10,000 the figure is within GC noise).
 *
 * @module
 */
import client from "prom-client";
import { MetricsRegistry } from "../mod.ts";
import {
  type BenchResult,
  type BenchTarget,
  median,
  parseBenchArgs,
  progress,
  report,
  round,
} from "./_report.ts";
import { benchDefaultMetrics } from "./_default_metrics.ts";

const args = parseBenchArgs("metrics");
const ROUNDS = args.quick ? 3 : 7;
const OPS = args.quick ? 2_000_000 : 10_000_000;
const SERIES = 10_000;
const gc = (globalThis as { gc?: () => void }).gc;

async function rounds(
  name: string,
  fn: () => number | Promise<number>,
  warmups = 1,
  count = ROUNDS,
): Promise<number> {
  progress(`metrics: ${name}...`);
  for (let i = 0; i < warmups; i++) await fn();
  const values: number[] = [];
  for (let r = 0; r < count; r++) values.push(await fn());
  return median(values);
}

/** Scrapes are single calls: warm both subjects up to steady state first. */
const SCRAPE_WARMUPS = 20;
const SCRAPE_ROUNDS = args.quick ? 5 : 15;

function labelPairs(n: number): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < n; i++) out.push([`m${i % 100}`, `c${Math.floor(i / 100)}`]);
  return out;
}
const PAIRS = labelPairs(SERIES);
const MEMORY_SERIES = 100_000;
const MEMORY_PAIRS = labelPairs(MEMORY_SERIES);

// --- ours ------------------------------------------------------------------
const ours = new MetricsRegistry({ selfMetrics: false, softLimit: 20_000, hardLimit: 20_000 });
const oursCounter = ours.counter({
  name: "chronetix_bench_events_total",
  help: "Events",
  labelNames: ["method", "code"],
});
for (const [m, c] of PAIRS) oursCounter.labels(m, c).inc(1);
const oursHandle = oursCounter.labels("m1", "c1");
const oursHist = ours.histogram({
  name: "chronetix_bench_latency_seconds",
  help: "Latency",
  unit: "seconds",
}).labels();

// --- prom-client -----------------------------------------------------------
const theirs = new client.Registry();
const theirsCounter = new client.Counter({
  name: "chronetix_bench_events_total",
  help: "Events",
  labelNames: ["method", "code"],
  registers: [theirs],
});
for (const [m, c] of PAIRS) theirsCounter.inc({ method: m, code: c }, 1);
const theirsHandle = theirsCounter.labels("m1", "c1");
const theirsHist = new client.Histogram({
  name: "chronetix_bench_latency_seconds",
  help: "Latency",
  registers: [theirs],
});

function perOp(fn: (n: number) => void): number {
  const t0 = performance.now();
  fn(OPS);
  return ((performance.now() - t0) * 1e6) / OPS;
}

const results: BenchResult[] = [];
const scrapeOurs = await rounds(
  "scrape-10k chronetix",
  () => {
    const t0 = performance.now();
    const bytes = ours.expose("prometheus");
    const ms = performance.now() - t0;
    if (bytes.length < SERIES * 30) throw new Error("Exposition is too short");
    return ms;
  },
  SCRAPE_WARMUPS,
  SCRAPE_ROUNDS,
);
const scrapeTheirs = await rounds(
  "scrape-10k prom-client",
  async () => {
    const t0 = performance.now();
    const text = await theirs.metrics();
    const ms = performance.now() - t0;
    if (text.length < SERIES * 30) throw new Error("Exposition is too short");
    return ms;
  },
  SCRAPE_WARMUPS,
  SCRAPE_ROUNDS,
);
results.push(
  {
    case: "scrape-10k",
    subject: "chronetix",
    median_ms: round(scrapeOurs, 3),
    speedup_ratio: round(scrapeTheirs / scrapeOurs, 1),
  },
  {
    case: "scrape-10k",
    subject: "prom-client",
    median_ms: round(scrapeTheirs, 3),
    speedup_ratio: 1,
  },
);

const cases: [string, (n: number) => void, (n: number) => void][] = [
  ["inc-handle", (n) => {
    for (let i = 0; i < n; i++) oursHandle.inc();
  }, (n) => {
    for (let i = 0; i < n; i++) theirsHandle.inc();
  }],
  ["inc-labels", (n) => {
    for (let i = 0; i < n; i++) oursCounter.labels("m7", "c42").inc();
  }, (n) => {
    const labels = { method: "m7", code: "c42" };
    for (let i = 0; i < n; i++) theirsCounter.inc(labels);
  }],
  ["observe", (n) => {
    for (let i = 0; i < n; i++) oursHist.observe((i & 1023) * 0.00001);
  }, (n) => {
    for (let i = 0; i < n; i++) theirsHist.observe((i & 1023) * 0.00001);
  }],
];
for (const [name, oursFn, theirsFn] of cases) {
  const a = await rounds(`${name} chronetix`, () => perOp(oursFn));
  const b = await rounds(`${name} prom-client`, () => perOp(theirsFn));
  results.push(
    { case: name, subject: "chronetix", median_ns: round(a, 2), speedup_ratio: round(b / a, 1) },
    { case: name, subject: "prom-client", median_ns: round(b, 2), speedup_ratio: 1 },
  );
}

progress("metrics: default-metrics...");
results.push(...await benchDefaultMetrics(args.quick));

// Memory last: the timed cases above run in a fresh heap.
function memory(make: () => unknown): number {
  gc?.();
  gc?.();
  const before = Deno.memoryUsage();
  const keep = make();
  gc?.();
  gc?.();
  const after = Deno.memoryUsage();
  if (keep === undefined) throw new Error("nothing made");
  return (after.heapUsed + after.external - before.heapUsed - before.external) / MEMORY_SERIES;
}
progress("metrics: memory...");
const memOurs = memory(() => {
  const r = new MetricsRegistry({
    selfMetrics: false,
    softLimit: 2 * MEMORY_SERIES,
    hardLimit: 2 * MEMORY_SERIES,
  });
  const c = r.counter({
    name: "chronetix_bench_mem_total",
    help: "Memory",
    labelNames: ["method", "code"],
  });
  for (const [m, k] of MEMORY_PAIRS) c.labels(m, k).inc();
  if (c.seriesCount !== MEMORY_SERIES) throw new Error(`Made ${c.seriesCount} series`);
  return r;
});
const memTheirs = memory(() => {
  const r = new client.Registry();
  const c = new client.Counter({
    name: "chronetix_bench_mem_total",
    help: "Memory",
    labelNames: ["method", "code"],
    registers: [r],
  });
  for (const [m, k] of MEMORY_PAIRS) c.inc({ method: m, code: k });
  return r;
});
results.push(
  { case: "memory", subject: "chronetix", bytes_per_series: Math.round(memOurs) },
  { case: "memory", subject: "prom-client", bytes_per_series: Math.round(memTheirs) },
);

const get = (c: string) => results.find((r) => r.case === c && r.subject === "chronetix")!;
const targets: BenchTarget[] = [
  { name: "scrape-10k <= 0.5 ms", ok: scrapeOurs <= 0.5, detail: `${round(scrapeOurs, 3)} ms` },
  {
    name: "scrape-10k >= 25x faster than prom-client",
    ok: scrapeTheirs / scrapeOurs >= 25,
    detail: `${round(scrapeTheirs / scrapeOurs, 1)}x`,
  },
  {
    name: "inc-handle <= 10 ns",
    ok: Number(get("inc-handle").median_ns) <= 10,
    detail: `${get("inc-handle").median_ns} ns`,
  },
  {
    name: "inc-labels <= 50 ns",
    ok: Number(get("inc-labels").median_ns) <= 50,
    detail: `${get("inc-labels").median_ns} ns`,
  },
  {
    name: "observe <= 30 ns",
    ok: Number(get("observe").median_ns) <= 30,
    detail: `${get("observe").median_ns} ns`,
  },
];
if (gc === undefined) progress("metrics: run with --v8-flags=--expose-gc for exact memory figures");
report("metrics", args, results, targets);
// prom-client's default metrics keep an event-loop monitor running.
Deno.exit(0);
