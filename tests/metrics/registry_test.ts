import { assert, assertEquals, assertThrows } from "@std/assert";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { SampleBuffer } from "../../src/metrics/sample.ts";
import type { Logger } from "../../src/logger.ts";

/** A logger that records each line with its level. */
function recorder(lines: string[]): Logger {
  return {
    error: (m) => lines.push(`error: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    info: (m) => lines.push(`info: ${m}`),
  };
}

function registry(options: ConstructorParameters<typeof MetricsRegistry>[0] = {}) {
  return new MetricsRegistry({ selfMetrics: false, ...options });
}

Deno.test("Counter, Gauge and Histogram handles update their series", () => {
  const r = registry();
  const c = r.counter({
    name: "chronetix_demo_events_total",
    help: "Events",
    labelNames: ["kind"],
  });
  const g = r.gauge({ name: "chronetix_demo_depth", help: "Depth" });
  const h = r.histogram({
    name: "chronetix_demo_latency_seconds",
    help: "Latency",
    unit: "seconds",
    buckets: [0.1, 1],
  });
  const a = c.labels("a");
  a.inc();
  a.inc(2.5);
  assertEquals(a.value, 3.5);
  assertEquals(c.labels("a") === a, true);
  a.advanceTo(10);
  assertEquals(a.value, 10);
  assertThrows(() => a.advanceTo(9), RangeError, "'total' must be finite and >= 10");
  assertThrows(
    () => a.inc(-1),
    RangeError,
    "Cannot increment counter 'chronetix_demo_events_total'",
  );
  assertThrows(() => a.inc(NaN), RangeError);
  const depth = g.labels();
  depth.set(5);
  depth.inc();
  depth.dec(3);
  assertEquals(depth.value, 3);
  const lat = h.labels();
  for (const v of [0.05, 0.1, 0.5, 2, 0]) lat.observe(v);
  assertEquals([lat.count, lat.sum], [5, 2.65]);
  assertThrows(() => lat.observe(NaN), RangeError, "'value' must be a finite number");
  const samples = r.flatten().filter((s) => s.name.startsWith("chronetix_demo_latency"));
  assertEquals(samples.map((s) => [s.name, s.labels.le, s.value]), [
    ["chronetix_demo_latency_seconds_bucket", "0.1", 3], // le is inclusive: 0.1 counts
    ["chronetix_demo_latency_seconds_bucket", "1", 4],
    ["chronetix_demo_latency_seconds_bucket", "+Inf", 5],
    ["chronetix_demo_latency_seconds_sum", undefined, 2.65],
    ["chronetix_demo_latency_seconds_count", undefined, 5],
  ]);
});

Deno.test("MetricFamily.labels() checks the count and type of label values", () => {
  const r = registry();
  const c = r.counter({
    name: "chronetix_demo_requests_total",
    help: "Requests",
    labelNames: ["method", "code"],
  });
  assertThrows(
    () => c.labels("GET"),
    TypeError,
    "Cannot resolve a series of 'chronetix_demo_requests_total' as it takes 2 label value(s) (method, code): current count is 1",
  );
  assertThrows(
    () => c.labels("GET", 200 as unknown as string),
    TypeError,
    "label 'code' must be a string: current value is 200",
  );
  assertEquals(c.seriesCount, 0);
});

Deno.test("MetricsRegistry enforces soft and hard cardinality limits with an overflow series", () => {
  const warnings: string[] = [];
  const r = new MetricsRegistry({ softLimit: 2, hardLimit: 3, logger: recorder(warnings) });
  const c = r.counter({
    name: "chronetix_demo_users_total",
    help: "Per user",
    labelNames: ["user"],
  });
  const handles = ["a", "b", "c"].map((u) => c.labels(u));
  handles[0]!.inc();
  assertEquals(warnings.length, 1);
  assert(
    warnings[0]!.startsWith("warn: Metric 'chronetix_demo_users_total' has more than 2 series"),
  );
  const o1 = c.labels("d");
  const o2 = c.labels("e");
  assertEquals(o1 === o2, true);
  o1.inc(2);
  o2.inc(3);
  assertEquals(c.seriesCount, 3);
  assertEquals(c.labels("a") === handles[0], true); // existing series are untouched
  assertEquals(warnings.length, 1); // warned once
  const text = r.exposeText();
  assert(text.includes('chronetix_demo_users_total{overflow="true"} 5\n'));
  assert(
    text.includes('chronetix_metrics_overflow_total{family="chronetix_demo_users_total"} 2\n'),
  );
  assert(text.includes('chronetix_metrics_series{family="chronetix_demo_users_total"} 3\n'));
  assert(
    text.includes(
      'chronetix_metrics_cardinality_soft_limit_exceeded{family="chronetix_demo_users_total"} 1\n',
    ),
  );
});

Deno.test("MetricsRegistry limits can be set per family and are validated", () => {
  const r = registry({ hardLimit: 100 });
  const c = r.counter({
    name: "chronetix_demo_x_total",
    help: "x",
    labelNames: ["k"],
    hardLimit: 1,
  });
  c.labels("a");
  assertEquals(c.labels("b") === c.labels("c"), true);
  assertThrows(
    () => registry({ softLimit: 5, hardLimit: 4 }),
    RangeError,
    "'softLimit' must be <= 'hardLimit'",
  );
  assertThrows(() => registry({ hardLimit: 0 }), RangeError, "'hardLimit'");
});

Deno.test("MetricsRegistry collectors run before each scrape and a throwing one is contained", () => {
  const logs: string[] = [];
  const r = new MetricsRegistry({ logger: recorder(logs) });
  const depth = r.gauge({ name: "chronetix_demo_queue_depth", help: "Queue depth" }).labels();
  let queue = 3;
  using _ = r.addCollector(() => depth.set(queue));
  r.addCollector(() => {
    throw new Error("broken collector");
  });
  assert(r.exposeText().includes("chronetix_demo_queue_depth 3\n"));
  queue = 7;
  const samples = r.flatten();
  assertEquals(samples.find((s) => s.name === "chronetix_demo_queue_depth")?.value, 7);
  assertEquals(
    samples.find((s) => s.name === "chronetix_metrics_collector_errors_total")?.value,
    2,
    "every throw is counted",
  );
  assertEquals(logs.length, 1, "logged at most once a second");
  assert(
    logs[0]!.startsWith("error: Metrics collector threw") &&
      logs[0]!.includes("Error: broken collector"),
    logs[0],
  );
  assertThrows(() => r.addCollector("x" as unknown as () => void), TypeError, "'collect'");
});

Deno.test("MetricsRegistry.flattenInto() reuses the caller's buffer", () => {
  const r = registry();
  const c = r.counter({ name: "chronetix_demo_events_total", help: "Events", labelNames: ["k"] });
  for (let i = 0; i < 100; i++) c.labels(`k${i}`).inc(i);
  const buffer = new SampleBuffer();
  assertEquals(r.flattenInto(buffer), 100);
  const values = buffer.values;
  const names = buffer.names;
  c.labels("k5").inc();
  assertEquals(r.flattenInto(buffer), 100);
  assertEquals(buffer.values === values && buffer.names === names, true);
  assertEquals(buffer.values[5], 6);
  assertEquals(buffer.labels[5], { k: "k5" });
  assertEquals(buffer.length, 100);
});

Deno.test("MetricsRegistry.inventory() lists every declaration", () => {
  const r = new MetricsRegistry();
  r.histogram({
    name: "chronetix_demo_latency_seconds",
    help: "Latency",
    unit: "seconds",
    labelNames: ["op"],
  });
  const names = r.inventory().map((m) => m.name);
  assertEquals(names, [
    "chronetix_metrics_series",
    "chronetix_metrics_cardinality_soft_limit_exceeded",
    "chronetix_metrics_overflow_total",
    "chronetix_metrics_collector_errors_total",
    "chronetix_demo_latency_seconds",
  ]);
  assertEquals(r.inventory()[4], {
    name: "chronetix_demo_latency_seconds",
    type: "histogram",
    unit: "seconds",
    help: "Latency",
    labels: ["op"],
  });
});

// deno-lint-ignore no-explicit-any
const loose = (value: unknown): any => value;

Deno.test("MetricsRegistry rejects a metric name that is not a string", () => {
  const r = registry();
  assertThrows(
    () => r.counter({ name: loose(["chronetix_demo_events_total"]), help: "Events" }),
    TypeError,
    "Cannot register a counter as 'name' must be a non-empty string: current value is [\"chronetix_demo_events_total\"]",
  );
  assertThrows(
    () => r.gauge({ name: loose(Symbol("n")), help: "Events" }),
    TypeError,
    "'name' must be a non-empty string: current value is Symbol(n)",
  );
  assertThrows(
    () => r.gauge({ name: loose({ toString: () => "chronetix_demo_depth" }), help: "Depth" }),
    TypeError,
    "'name'",
  );
  assertEquals(r.inventory(), []);
  assertEquals(r.exposeText(), "");
});

Deno.test("MetricsRegistry rejects HELP, unit and label names that are not strings", () => {
  const r = registry();
  const base = { name: "chronetix_demo_depth_seconds", help: "Depth" };
  assertThrows(() => r.gauge({ ...base, help: loose(5) }), TypeError, "'help'");
  assertThrows(() => r.gauge({ ...base, help: "bad \uD800" }), TypeError, "'help'");
  assertThrows(() => r.gauge({ ...base, unit: loose(Symbol("u")) }), TypeError, "'unit'");
  assertThrows(
    () => r.gauge({ ...base, labelNames: loose([Symbol("l")]) }),
    TypeError,
    "'labelNames'",
  );
  assertThrows(() => r.gauge({ ...base, labelNames: loose([5]) }), TypeError, "'labelNames'");
  assertEquals(r.inventory(), []);
});

Deno.test("MetricsRegistry names the parameter of a null, non-iterable or non-number option", async (t) => {
  const r = registry();
  const cases: [string, () => unknown, string][] = [
    ["new MetricsRegistry(null)", () => new MetricsRegistry(loose(null)), "options"],
    ["new MetricsRegistry(5)", () => new MetricsRegistry(loose(5)), "options"],
    ["softLimit: {}", () => new MetricsRegistry({ softLimit: loose({}) }), "softLimit"],
    ["hardLimit: '5'", () => new MetricsRegistry({ hardLimit: loose("5") }), "hardLimit"],
    ["logger: {}", () => new MetricsRegistry({ logger: loose({}) }), "logger"],
    ["selfMetrics: 'no'", () => new MetricsRegistry({ selfMetrics: loose("no") }), "selfMetrics"],
    ["counter(null)", () => r.counter(loose(null)), "options"],
    ["gauge(5)", () => r.gauge(loose(5)), "options"],
    ["histogram(undefined)", () => r.histogram(loose(undefined)), "options"],
    [
      "labelNames: null",
      () => r.counter({ name: "chronetix_demo_a_total", help: "A", labelNames: loose(null) }),
      "labelNames",
    ],
    [
      "labelNames: 5",
      () => r.counter({ name: "chronetix_demo_a_total", help: "A", labelNames: loose(5) }),
      "labelNames",
    ],
    [
      "labelNames: 'ab'",
      () => r.counter({ name: "chronetix_demo_a_total", help: "A", labelNames: loose("ab") }),
      "labelNames",
    ],
    [
      "buckets: null",
      () => r.histogram({ name: "chronetix_demo_a_seconds", help: "A", buckets: loose(null) }),
      "buckets",
    ],
    [
      "buckets: 5",
      () => r.histogram({ name: "chronetix_demo_a_seconds", help: "A", buckets: loose(5) }),
      "buckets",
    ],
    [
      "buckets: [Symbol]",
      () =>
        r.histogram({ name: "chronetix_demo_a_seconds", help: "A", buckets: loose([Symbol()]) }),
      "buckets",
    ],
    [
      "buckets: [1n]",
      () => r.histogram({ name: "chronetix_demo_a_seconds", help: "A", buckets: loose([1n, 2n]) }),
      "buckets",
    ],
    [
      "buckets: ['1', '2']",
      () =>
        r.histogram({ name: "chronetix_demo_a_seconds", help: "A", buckets: loose(["1", "2"]) }),
      "buckets",
    ],
    [
      "family softLimit: {}",
      () => r.counter({ name: "chronetix_demo_a_total", help: "A", softLimit: loose({}) }),
      "softLimit",
    ],
    [
      "family hardLimit: null",
      () => r.counter({ name: "chronetix_demo_a_total", help: "A", hardLimit: loose(null) }),
      "hardLimit",
    ],
    ["addCollector(null)", () => r.addCollector(loose(null)), "collect"],
    ["expose('xml')", () => r.expose(loose("xml")), "format"],
    ["exposeText(5)", () => r.exposeText(loose(5)), "format"],
    ["flattenInto(null)", () => r.flattenInto(loose(null)), "buffer"],
    ["flattenInto({})", () => r.flattenInto(loose({})), "buffer"],
  ];
  for (const [label, call, parameter] of cases) {
    await t.step(label, () => {
      const error = assertThrows(call);
      assert(
        error instanceof TypeError || error instanceof RangeError,
        `${label}: ${(error as Error).name}`,
      );
      const message = (error as Error).message;
      assert(message.startsWith("Cannot "), `${label}: ${message}`);
      assert(message.includes(`'${parameter}'`), `${label}: ${message}`);
    });
  }
  assertEquals(r.inventory(), []);
});

Deno.test("SampleBuffer.reserve() rejects a size that is not a non-negative integer", () => {
  const buffer = new SampleBuffer();
  assertThrows(() => buffer.reserve(Infinity), RangeError, "'n'");
  assertThrows(() => buffer.reserve(loose("abc")), TypeError, "'n'");
  assertThrows(() => buffer.reserve(-1), RangeError, "'n'");
  buffer.reserve(100);
  assert(buffer.values.length >= 100);
  buffer.values = loose(null);
  const r = registry();
  r.counter({ name: "chronetix_demo_events_total", help: "Events" });
  assertThrows(() => r.flattenInto(buffer), TypeError, "'buffer.values' must be a Float64Array");
});

Deno.test("MetricsRegistry rejects a family whose sample names clash with another family's", async (t) => {
  const pairs: [string, (r: MetricsRegistry) => void, (r: MetricsRegistry) => void, string][] = [
    [
      "gauge x_count after histogram x",
      (r) => r.histogram({ name: "chronetix_demo_x", help: "X" }),
      (r) => r.gauge({ name: "chronetix_demo_x_count", help: "X" }),
      "a gauge name must not end with '_count'",
    ],
    [
      "histogram x after histogram x_sum",
      (r) => r.histogram({ name: "chronetix_demo_x_sum", help: "X" }),
      (r) => r.histogram({ name: "chronetix_demo_x", help: "X" }),
      "its sample name 'chronetix_demo_x_sum' would clash with metric 'chronetix_demo_x_sum'",
    ],
    [
      "histogram x after histogram x_bucket",
      (r) => r.histogram({ name: "chronetix_demo_x_bucket", help: "X" }),
      (r) => r.histogram({ name: "chronetix_demo_x", help: "X" }),
      "would clash with metric 'chronetix_demo_x_bucket'",
    ],
    [
      "gauge x after counter x_total (one OpenMetrics family name)",
      (r) => r.counter({ name: "chronetix_demo_x_total", help: "X" }),
      (r) => r.gauge({ name: "chronetix_demo_x", help: "X" }),
      "its sample name 'chronetix_demo_x' would clash with metric 'chronetix_demo_x_total'",
    ],
    [
      "counter x_count_total after histogram x",
      (r) => r.histogram({ name: "chronetix_demo_x", help: "X" }),
      (r) => r.counter({ name: "chronetix_demo_x_count_total", help: "X" }),
      "would clash with metric 'chronetix_demo_x'",
    ],
    [
      "counter x_total after gauge x",
      (r) => r.gauge({ name: "chronetix_demo_x", help: "X" }),
      (r) => r.counter({ name: "chronetix_demo_x_total", help: "X" }),
      "would clash with metric 'chronetix_demo_x'",
    ],
    [
      "gauge x_created after counter x_total",
      (r) => r.counter({ name: "chronetix_demo_x_total", help: "X" }),
      (r) => r.gauge({ name: "chronetix_demo_x_created", help: "X" }),
      "would clash with metric 'chronetix_demo_x_total'",
    ],
  ];
  for (const [label, first, second, message] of pairs) {
    await t.step(label, () => {
      const r = registry();
      first(r);
      const before = r.exposeText("openmetrics");
      assertThrows(() => second(r), TypeError, message);
      assertEquals(r.exposeText("openmetrics"), before);
    });
  }
});
