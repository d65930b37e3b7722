// Handles and families under hostile input: whatever a caller passes, the
// series keep their values and the exposition stays valid.
import { assert, assertEquals, assertThrows } from "@std/assert";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import type { Logger } from "../../src/logger.ts";

function registry(options: ConstructorParameters<typeof MetricsRegistry>[0] = {}) {
  return new MetricsRegistry({ selfMetrics: false, ...options });
}

// deno-lint-ignore no-explicit-any
const loose = (value: unknown): any => value;

Deno.test("Counter.inc() and Counter.advanceTo() reject a value that is not a number", () => {
  const r = registry();
  const c = r.counter({ name: "chronetix_demo_events_total", help: "Events" }).labels();
  c.inc(2);
  assertThrows(
    () => c.inc(loose("5")),
    TypeError,
    "Cannot increment counter 'chronetix_demo_events_total' as 'value' must be a number: current value is \"5\"",
  );
  assertThrows(
    () => c.inc(loose(10n)),
    TypeError,
    "'value' must be a number: current value is 10n",
  );
  assertThrows(() => c.inc(loose(Symbol("x"))), TypeError, "current value is Symbol(x)");
  assertThrows(() => c.inc(loose({ valueOf: () => 3 })), TypeError, "'value'");
  assertThrows(() => c.inc(-1), RangeError, "'value' must be a finite number >= 0");
  assertThrows(() => c.inc(Infinity), RangeError, "'value'");
  assertThrows(() => c.advanceTo(loose("7")), TypeError, "'total' must be a number");
  assertThrows(() => c.advanceTo(loose(null)), TypeError, "'total' must be a number");
  assertEquals(c.value, 2);
  c.inc();
  assertEquals(c.value, 3);
  assert(r.exposeText().includes("chronetix_demo_events_total 3\n"));
});

Deno.test("Gauge.set(), inc() and dec() reject a value that is not a number", () => {
  const r = registry();
  const g = r.gauge({ name: "chronetix_demo_depth", help: "Depth" }).labels();
  g.set(4);
  assertThrows(
    () => g.set(loose("abc")),
    TypeError,
    "Cannot set gauge 'chronetix_demo_depth' as 'value' must be a number: current value is \"abc\"",
  );
  assertThrows(() => g.set(loose(undefined)), TypeError, "'value' must be a number");
  assertThrows(() => g.inc(loose("1")), TypeError, "'value' must be a number");
  assertThrows(() => g.dec(loose(1n)), TypeError, "'value' must be a number");
  assertEquals(g.value, 4);
  g.inc();
  g.dec(0.5);
  assertEquals(g.value, 4.5);
  g.set(NaN); // a gauge may say "unknown"
  assert(r.exposeText().includes("chronetix_demo_depth NaN\n"));
});

Deno.test("Histogram.observe() rejects a missing, non-number or non-finite value", () => {
  const r = registry();
  const h = r.histogram({
    name: "chronetix_demo_latency_seconds",
    help: "Latency",
    unit: "seconds",
    buckets: [0.1, 1],
  }).labels();
  h.observe(0.5);
  assertThrows(
    () => loose(h).observe(),
    TypeError,
    "Cannot observe a value for histogram 'chronetix_demo_latency_seconds' as 'value' must be a number: current value is undefined",
  );
  assertThrows(() => h.observe(loose("0.2")), TypeError, "'value' must be a number");
  assertThrows(() => h.observe(NaN), RangeError, "'value' must be a finite number");
  assertThrows(() => h.observe(Infinity), RangeError, "'value' must be a finite number");
  assertEquals([h.count, h.sum], [1, 0.5]);
  const text = r.exposeText("openmetrics");
  assert(text.includes("chronetix_demo_latency_seconds_sum 0.5\n"), text);
});

Deno.test("Histogram.observe() rejects a negative value when every bucket bound is >= 0", () => {
  const r = registry();
  const h = r.histogram({
    name: "chronetix_demo_latency_seconds",
    help: "Latency",
    unit: "seconds",
    buckets: [0, 1],
  }).labels();
  h.observe(0);
  h.observe(-0);
  assertThrows(
    () => h.observe(-1),
    RangeError,
    "Cannot observe a value for histogram 'chronetix_demo_latency_seconds' as 'value' must be >= 0 (its buckets are all >= 0): current value is -1",
  );
  assertEquals([h.count, h.sum], [2, 0]);
});

Deno.test("Histogram with a negative bucket bound takes negative values and has no _sum or _count in OpenMetrics", () => {
  const r = registry();
  const family = r.histogram({
    name: "chronetix_demo_offset_seconds",
    help: "Clock offset",
    unit: "seconds",
    buckets: [-1, 0, 1],
  });
  const h = family.labels();
  for (const v of [-5, -0.5, 0.5, 2]) h.observe(v);
  assertEquals([h.count, h.sum], [4, -3]);
  const om = r.exposeText("openmetrics");
  assertEquals(
    om,
    [
      "# HELP chronetix_demo_offset_seconds Clock offset",
      "# TYPE chronetix_demo_offset_seconds histogram",
      "# UNIT chronetix_demo_offset_seconds seconds",
      'chronetix_demo_offset_seconds_bucket{le="-1"} 1',
      'chronetix_demo_offset_seconds_bucket{le="0"} 2',
      'chronetix_demo_offset_seconds_bucket{le="1"} 3',
      'chronetix_demo_offset_seconds_bucket{le="+Inf"} 4',
      "# EOF",
      "",
    ].join("\n"),
  );
  // Prometheus text 0.0.4 has no such rule: sum and count stay.
  const prom = r.exposeText("prometheus");
  assert(prom.includes("chronetix_demo_offset_seconds_sum -3\n"), prom);
  assert(prom.includes("chronetix_demo_offset_seconds_count 4\n"), prom);
});

Deno.test("MetricFamily.labels() keeps distinct label values distinct: lone surrogates are rejected", () => {
  const r = registry();
  const c = r.counter({
    name: "chronetix_demo_events_total",
    help: "Events",
    labelNames: ["kind"],
  });
  assertThrows(
    () => c.labels("\uD800"),
    TypeError,
    "Cannot resolve a series of 'chronetix_demo_events_total' as label 'kind' must be well-formed Unicode (no lone surrogate): current value is \"\\ud800\"",
  );
  assertThrows(() => c.labels("a\uDC01b"), TypeError, "label 'kind' must be well-formed Unicode");
  assertEquals(c.seriesCount, 0);
  c.labels("\u{1F600}").inc(); // a surrogate pair is fine
  c.labels("\uFFFD").inc(2);
  assertEquals(c.seriesCount, 2);
  const text = r.exposeText();
  assert(text.includes('chronetix_demo_events_total{kind="\u{1F600}"} 1\n'));
  assert(text.includes('chronetix_demo_events_total{kind="\uFFFD"} 2\n'));
});

Deno.test("MetricFamily.labels() names a bad label value without an engine error", () => {
  const r = registry();
  const c = r.counter({
    name: "chronetix_demo_events_total",
    help: "Events",
    labelNames: ["kind", "code"],
  });
  assertThrows(
    () => c.labels("a", loose(Symbol("s"))),
    TypeError,
    "label 'code' must be a string: current value is Symbol(s)",
  );
  assertThrows(() => c.labels(loose(null), "x"), TypeError, "label 'kind' must be a string");
  c.labels("a", "b");
  assertThrows(() => c.labels("a", loose(5)), TypeError, "label 'code' must be a string");
  assertEquals(c.seriesCount, 1);
});

Deno.test("MetricFamily.labels() creates each series once even when the registry's logger throws", () => {
  const throwing: Logger = {
    error: () => {
      throw new Error("logger down");
    },
    warn: () => {
      throw new Error("logger down");
    },
    info: () => {
      throw new Error("logger down");
    },
  };
  const r = registry({ softLimit: 1, hardLimit: 10, logger: throwing });
  const c = r.counter({
    name: "chronetix_demo_events_total",
    help: "Events",
    labelNames: ["kind"],
  });
  c.labels("a").inc();
  const b = c.labels("b"); // crosses the soft limit: the warning throws, contained
  b.inc();
  assertEquals(c.labels("b"), b);
  c.labels("b").inc();
  assertEquals(c.seriesCount, 2);
  const lines = r.exposeText().split("\n").filter((l) => l.startsWith("chronetix_demo_events"));
  assertEquals(lines, [
    'chronetix_demo_events_total{kind="a"} 1',
    'chronetix_demo_events_total{kind="b"} 2',
  ]);
});

Deno.test("MetricsRegistry contains a throwing logger when a collector throws", () => {
  const r = registry({
    logger: {
      error: () => {},
      info: () => {},
      warn: () => {
        throw new Error("logger down");
      },
    },
  });
  const g = r.gauge({ name: "chronetix_demo_depth", help: "Depth" }).labels();
  r.addCollector(() => {
    throw new Error("collector down");
  });
  r.addCollector(() => g.set(7));
  assert(r.exposeText().includes("chronetix_demo_depth 7\n"));
});

Deno.test("MetricFamily.labels() leaves no series behind when a value is rejected", () => {
  const r = registry({ hardLimit: 2 });
  const c = r.counter({
    name: "chronetix_demo_events_total",
    help: "Events",
    labelNames: ["a", "b", "c"],
  });
  assertThrows(() => c.labels("x", "y", loose(1)), TypeError);
  assertThrows(() => c.labels("x", "\uD800", "z"), TypeError);
  assertEquals(c.seriesCount, 0);
  c.labels("x", "y", "z");
  c.labels("x", "y", "w");
  const overflow = c.labels("x", "v", "z");
  assertEquals(c.seriesCount, 2);
  assert(overflow !== c.labels("x", "y", "z"));
  assertEquals(overflow, c.labels("q", "r", "s"));
});
