import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { exportKeyedStats, exportStats, type StatMetric } from "../../src/metrics/export_stats.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import type { Logger } from "../../src/logger.ts";

interface Stats {
  depth: number;
  sent: number;
  dropped: number;
}

const METRICS: StatMetric<Stats>[] = [
  { name: "chronetix_demo_depth", help: "Depth", type: "gauge", value: (s) => s.depth },
  { name: "chronetix_demo_sent_total", help: "Sent", type: "counter", value: (s) => s.sent },
  {
    name: "chronetix_demo_dropped_total",
    help: "Dropped, by reason",
    type: "counter",
    labels: { reason: "full" },
    value: (s) => s.dropped,
  },
];

function registry(logger?: Logger): MetricsRegistry {
  return new MetricsRegistry({ selfMetrics: false, logger });
}

function value(r: MetricsRegistry, name: string, labels: Record<string, string>): number {
  const found = r.flatten().filter((s) =>
    s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels)
  );
  assertEquals(found.length, 1, `${name} ${JSON.stringify(labels)}`);
  return found[0]!.value;
}

function recordingLogger(lines: string[]): Logger {
  return {
    error: (m) => lines.push(`error: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    info: (m) => lines.push(`info: ${m}`),
  };
}

Deno.test("exportStats() sets gauges and counters from the snapshot on each scrape", () => {
  const r = registry();
  const stats: Stats = { depth: 2, sent: 5, dropped: 1 };
  using _export = exportStats(r, () => stats, METRICS, { labels: { pool: "a" } });
  const text = r.exposeText();
  assertStringIncludes(text, 'chronetix_demo_depth{pool="a"} 2\n');
  assertStringIncludes(text, 'chronetix_demo_sent_total{pool="a"} 5\n');
  assertStringIncludes(text, 'chronetix_demo_dropped_total{pool="a",reason="full"} 1\n');
  stats.depth = 0;
  stats.sent = 8;
  assertEquals(value(r, "chronetix_demo_depth", { pool: "a" }), 0);
  assertEquals(value(r, "chronetix_demo_sent_total", { pool: "a" }), 8);
});

Deno.test("exportStats() without options exports unlabelled series", () => {
  const r = registry();
  using _export = exportStats(r, () => ({ depth: 4, sent: 1, dropped: 0 }), METRICS);
  assertEquals(value(r, "chronetix_demo_depth", {}), 4);
  assertEquals(value(r, "chronetix_demo_dropped_total", { reason: "full" }), 0);
});

Deno.test("exportStats()[Symbol.dispose]() collects once more, then stops collecting", () => {
  const r = registry();
  const stats: Stats = { depth: 1, sent: 1, dropped: 0 };
  let calls = 0;
  const handle = exportStats(r, () => {
    calls++;
    return stats;
  }, METRICS);
  stats.sent = 3;
  stats.depth = 9;
  handle[Symbol.dispose]();
  assertEquals(calls, 1);
  stats.sent = 100;
  assertEquals(value(r, "chronetix_demo_sent_total", {}), 3);
  assertEquals(value(r, "chronetix_demo_depth", {}), 9);
  assertEquals(calls, 1);
  handle[Symbol.dispose](); // idempotent: no second final collect
  assertEquals(calls, 1);
});

Deno.test("exportStats()[Symbol.dispose]() logs a throwing final collect and still stops", () => {
  const lines: string[] = [];
  const r = registry(recordingLogger(lines));
  let fail = false;
  let calls = 0;
  const handle = exportStats(r, () => {
    calls++;
    if (fail) throw new Error("boom");
    return { depth: 1, sent: 1, dropped: 0 };
  }, METRICS);
  fail = true;
  handle[Symbol.dispose]();
  assertEquals(lines.length, 1);
  assertStringIncludes(lines[0]!, "warn: Metrics collector threw on its final collect");
  assertStringIncludes(lines[0]!, "boom");
  r.collect();
  assertEquals(calls, 1);
});

Deno.test("exportStats() gives two instances with different labels distinct series", () => {
  const r = registry();
  const a: Stats = { depth: 1, sent: 10, dropped: 0 };
  const b: Stats = { depth: 2, sent: 20, dropped: 3 };
  using _a = exportStats(r, () => a, METRICS, { labels: { pool: "a" } });
  using _b = exportStats(r, () => b, METRICS, { labels: { pool: "b" } });
  assertEquals(value(r, "chronetix_demo_sent_total", { pool: "a" }), 10);
  assertEquals(value(r, "chronetix_demo_sent_total", { pool: "b" }), 20);
  assertEquals(value(r, "chronetix_demo_dropped_total", { pool: "b", reason: "full" }), 3);
  assertEquals(r.flatten().filter((s) => s.name === "chronetix_demo_depth").length, 2);
});

Deno.test("exportStats() never moves a counter back", async (t) => {
  await t.step("when the source restarts from zero, the count is carried over", () => {
    const r = registry();
    const stats: Stats = { depth: 0, sent: 5, dropped: 0 };
    using _export = exportStats(r, () => stats, METRICS);
    r.collect();
    stats.sent = 2; // restarted: 2 new since
    assertEquals(value(r, "chronetix_demo_sent_total", {}), 7);
    stats.sent = 4;
    assertEquals(value(r, "chronetix_demo_sent_total", {}), 9);
  });
  await t.step("a replaced instance of the same name continues from the old total", () => {
    const r = registry();
    exportStats(r, () => ({ depth: 0, sent: 5, dropped: 0 }), METRICS)[Symbol.dispose]();
    using _export = exportStats(r, () => ({ depth: 0, sent: 1, dropped: 0 }), METRICS);
    assertEquals(value(r, "chronetix_demo_sent_total", {}), 6);
  });
  await t.step("a value that is negative, NaN or infinite is ignored", () => {
    const r = registry();
    const stats: Stats = { depth: 0, sent: 5, dropped: 0 };
    using _export = exportStats(r, () => stats, METRICS);
    r.collect();
    for (const bad of [-1, NaN, Infinity]) {
      stats.sent = bad;
      assertEquals(value(r, "chronetix_demo_sent_total", {}), 5);
    }
    stats.sent = 6;
    assertEquals(value(r, "chronetix_demo_sent_total", {}), 6);
  });
});

Deno.test("exportStats() rejects bad arguments", () => {
  const r = registry();
  const stats = () => ({ depth: 0, sent: 0, dropped: 0 });
  assertThrows(
    () => exportStats(r, undefined as unknown as () => Stats, METRICS),
    TypeError,
    "'stats' must be a function",
  );
  assertThrows(
    () => exportStats(r, stats, METRICS, { labels: { reason: "x" } }),
    TypeError,
    "Cannot export stats as metric 'chronetix_demo_dropped_total' must have distinct label names: current names are reason, reason",
  );
  assertThrows(
    () => exportStats(r, stats, [{ ...METRICS[0]!, type: "summary" as "gauge" }]),
    TypeError,
    'must be "counter" or "gauge"',
  );
  assertThrows(
    () => exportStats(r, stats, [{ ...METRICS[0]!, name: "bad name" }]),
    TypeError,
  );
});

interface Item {
  name: string;
  depth: number;
  sent: number;
}

const KEYED: StatMetric<Item>[] = [
  { name: "chronetix_demo_depth", help: "Depth", type: "gauge", value: (i) => i.depth },
  { name: "chronetix_demo_sent_total", help: "Sent", type: "counter", value: (i) => i.sent },
];
const BY_TOPIC = { label: "topic", of: (i: Item) => i.name };

Deno.test("exportKeyedStats() exports one series per key after the instance labels", () => {
  const r = registry();
  const items: Item[] = [{ name: "a", depth: 1, sent: 2 }, { name: "b", depth: 3, sent: 4 }];
  using _export = exportKeyedStats(r, () => items, BY_TOPIC, KEYED, { labels: { bus: "main" } });
  const text = r.exposeText();
  assertStringIncludes(text, 'chronetix_demo_depth{bus="main",topic="a"} 1\n');
  assertStringIncludes(text, 'chronetix_demo_sent_total{bus="main",topic="b"} 4\n');
  assertEquals(r.flatten().filter((s) => s.name === "chronetix_demo_sent_total").length, 2);
  assertEquals(r.inventory().map((e) => e.labels), [["bus", "topic"], ["bus", "topic"]]);
});

Deno.test("exportKeyedStats() keeps a vanished key's last values and continues its counters", () => {
  const r = registry();
  const items = new Map<string, Item>([
    ["a", { name: "a", depth: 5, sent: 10 }],
    ["b", { name: "b", depth: 1, sent: 1 }],
  ]);
  using _export = exportKeyedStats(r, () => items.values(), BY_TOPIC, KEYED);
  r.collect();
  items.get("a")!.sent = 12;
  items.delete("a");
  assertEquals(value(r, "chronetix_demo_sent_total", { topic: "a" }), 10);
  assertEquals(value(r, "chronetix_demo_depth", { topic: "a" }), 5);
  // The key comes back as a new item counting from zero: the counter goes on from 10.
  items.set("a", { name: "a", depth: 0, sent: 3 });
  assertEquals(value(r, "chronetix_demo_sent_total", { topic: "a" }), 13);
  assertEquals(value(r, "chronetix_demo_depth", { topic: "a" }), 0);
  items.get("a")!.sent = 4;
  assertEquals(value(r, "chronetix_demo_sent_total", { topic: "a" }), 14);
  assertEquals(value(r, "chronetix_demo_sent_total", { topic: "b" }), 1);
});

Deno.test("exportKeyedStats() exports the first item when two share a key", () => {
  const r = registry();
  const items: Item[] = [{ name: "a", depth: 1, sent: 7 }, { name: "a", depth: 2, sent: 1 }];
  using _export = exportKeyedStats(r, () => items, BY_TOPIC, KEYED);
  assertEquals(value(r, "chronetix_demo_sent_total", { topic: "a" }), 7);
  assertEquals(value(r, "chronetix_demo_sent_total", { topic: "a" }), 7);
  assertEquals(value(r, "chronetix_demo_depth", { topic: "a" }), 1);
});

Deno.test("exportKeyedStats()[Symbol.dispose]() collects once more, then stops collecting", () => {
  const r = registry();
  const items: Item[] = [{ name: "a", depth: 1, sent: 1 }];
  let calls = 0;
  const handle = exportKeyedStats(
    r,
    () => {
      calls++;
      return items;
    },
    BY_TOPIC,
    KEYED,
  );
  items.push({ name: "late", depth: 2, sent: 9 });
  handle[Symbol.dispose]();
  handle[Symbol.dispose]();
  assertEquals(calls, 1);
  items[1]!.sent = 50;
  assertEquals(value(r, "chronetix_demo_sent_total", { topic: "late" }), 9);
  assertEquals(calls, 1);
});

Deno.test("exportKeyedStats() gives two instances with different labels distinct series", () => {
  const r = registry();
  const one: Item[] = [{ name: "t", depth: 0, sent: 1 }];
  const two: Item[] = [{ name: "t", depth: 0, sent: 2 }];
  using _one = exportKeyedStats(r, () => one, BY_TOPIC, KEYED, { labels: { bus: "one" } });
  using _two = exportKeyedStats(r, () => two, BY_TOPIC, KEYED, { labels: { bus: "two" } });
  assertEquals(value(r, "chronetix_demo_sent_total", { bus: "one", topic: "t" }), 1);
  assertEquals(value(r, "chronetix_demo_sent_total", { bus: "two", topic: "t" }), 2);
});

Deno.test("exportKeyedStats() rejects bad arguments", () => {
  const r = registry();
  assertThrows(
    () => exportKeyedStats(r, () => [], { label: "topic" } as typeof BY_TOPIC, KEYED),
    TypeError,
    "'key' must be an object with a label and an of() function",
  );
  assertThrows(
    () => exportKeyedStats(r, () => [], BY_TOPIC, KEYED, { labels: { topic: "x" } }),
    TypeError,
    "must have distinct label names: current names are topic, topic",
  );
  assertThrows(
    () => exportKeyedStats(r, () => [], BY_TOPIC, "x" as unknown as StatMetric<Item>[]),
    TypeError,
    "'metrics' must be an array",
  );
});

// deno-lint-ignore no-explicit-any
const loose = (value: unknown): any => value;

Deno.test("exportStats() and exportKeyedStats() name the parameter of a hostile argument", async (t) => {
  const r = registry();
  const stats = () => ({ depth: 0, sent: 0, dropped: 0 });
  const items = () => [];
  const cases: [string, () => unknown, string][] = [
    ["registry: 5", () => exportStats(loose(5), stats, METRICS), "registry"],
    ["registry: {}", () => exportStats(loose({}), stats, METRICS), "registry"],
    [
      "registry: null (keyed)",
      () => exportKeyedStats(loose(null), items, BY_TOPIC, KEYED),
      "registry",
    ],
    ["metrics: 5", () => exportStats(r, stats, loose(5)), "metrics"],
    ["metrics: [null]", () => exportStats(r, stats, loose([null])), "metrics[0]"],
    ["metrics: [5]", () => exportKeyedStats(r, items, BY_TOPIC, loose([5])), "metrics[0]"],
    [
      "metric name: Symbol",
      () => exportStats(r, stats, [{ ...METRICS[0]!, name: loose(Symbol("n")) }]),
      "name",
    ],
    [
      "metric value: not a function",
      () => exportStats(r, stats, [{ ...METRICS[0]!, value: loose(5) }]),
      "metrics[0].value",
    ],
    [
      "metric labels: value not a string",
      () => exportStats(r, stats, [{ ...METRICS[0]!, labels: loose({ reason: 5 }) }]),
      "metrics[0].labels",
    ],
    ["options: null", () => exportStats(r, stats, METRICS, loose(null)), "options"],
    ["options: 5 (keyed)", () => exportKeyedStats(r, items, BY_TOPIC, KEYED, loose(5)), "options"],
    [
      "options.labels: value not a string",
      () => exportStats(r, stats, METRICS, { labels: loose({ pool: Symbol("p") }) }),
      "options.labels",
    ],
    [
      "options.labels: lone surrogate",
      () => exportStats(r, stats, METRICS, { labels: { pool: "\uD800" } }),
      "options.labels",
    ],
    ["key: null", () => exportKeyedStats(r, items, loose(null), KEYED), "key"],
    [
      "key.label: Symbol",
      () => exportKeyedStats(r, items, { label: loose(Symbol("k")), of: BY_TOPIC.of }, KEYED),
      "key.label",
    ],
  ];
  for (const [label, call, parameter] of cases) {
    await t.step(label, () => {
      const error = assertThrows(call);
      const message = (error as Error).message;
      assertEquals(error instanceof TypeError || error instanceof RangeError, true, message);
      assertEquals(message.startsWith("Cannot "), true, message);
      assertStringIncludes(message, `'${parameter}'`);
    });
  }
  assertEquals(r.inventory(), [], "nothing registered by a rejected call");
});

Deno.test("exportStats() registers nothing when a later metric is rejected", () => {
  const r = registry();
  const stats = () => ({ depth: 0, sent: 0, dropped: 0 });
  assertThrows(
    () => exportStats(r, stats, [...METRICS, { ...METRICS[0]!, name: "chronetix_bad" }]),
    TypeError,
  );
  assertThrows(
    () => exportStats(r, stats, [...METRICS, { ...METRICS[0]!, help: "Another help" }]),
    TypeError,
    "already registered with a different declaration",
  );
  assertEquals(r.inventory(), []);
  using _ok = exportStats(r, stats, METRICS);
  assertEquals(r.inventory().length, 3);
});

Deno.test("exportStats() sets a gauge to NaN when its value is not a number", () => {
  const r = registry();
  const snapshot = { depth: loose("deep"), sent: 1, dropped: 0 };
  using _export = exportStats(r, () => snapshot, METRICS);
  const text = r.exposeText();
  assertStringIncludes(text, "chronetix_demo_depth NaN\n");
  assertStringIncludes(text, "chronetix_demo_sent_total 1\n");
});
