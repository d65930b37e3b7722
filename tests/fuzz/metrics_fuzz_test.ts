// Seeded fuzz of the metrics layer: random sequences of registry, family,
// handle, collector and export calls with hostile values. Each call works or
// throws a clean error naming its parameter; afterwards every handle holds
// exactly what a reference model says, and the exposition is valid: both
// formats parse in-process checks, and (batched, one process per tool) the
// Prometheus text passes `promtool check metrics` and the OpenMetrics text
// prometheus_client's strict parser. The external check runs when the tools
// exist, and is required when CHRONETIX_REQUIRE_TOOLS=1.
import { assert, assertEquals, fail } from "@std/assert";
import { check, cleanCall, fc, FUZZ_SEED, hostile, maybe } from "./_hostile.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { SampleBuffer } from "../../src/metrics/sample.ts";
import { exportKeyedStats, exportStats } from "../../src/metrics/export_stats.ts";
import { negotiateExpositionFormat } from "../../src/metrics/exposition.ts";
import type { Counter, Gauge, Histogram } from "../../src/metrics/families.ts";
import type { Logger } from "../../src/logger.ts";
import {
  checkWithPromtool,
  HAS_PYTHON_CLIENT,
  parseWithPython,
  PROMTOOL,
  REQUIRED,
} from "../metrics/external_tools.ts";

// Valid declarations per kind whose names clash with each other in every way
// the formats care about (x_total vs x, histogram x vs x_count_total, x_sum,
// the self metrics); with some probability one field is then made invalid
// or hostile.
const VALID: Record<Kind, readonly [string, string | undefined][]> = {
  counter: [
    ["chronetix_fuzz_events_total", undefined],
    ["chronetix_fuzz_events_count_total", undefined],
    ["chronetix_fuzz_latency_seconds_total", "seconds"],
    ["chronetix_fuzz_x_total", undefined],
    ["chronetix_metrics_overflow_total", undefined],
  ],
  gauge: [
    ["chronetix_fuzz_events", undefined],
    ["chronetix_fuzz_events_created", undefined],
    ["chronetix_fuzz_level_ratio", "ratio"],
    ["chronetix_fuzz_latency_seconds", "seconds"],
    ["chronetix_fuzz_x", undefined],
    ["chronetix_metrics_series", undefined],
  ],
  histogram: [
    ["chronetix_fuzz_latency_seconds", "seconds"],
    ["chronetix_fuzz_size_bytes", "bytes"],
    ["chronetix_fuzz_events", undefined],
    ["chronetix_fuzz_x", undefined],
    ["chronetix_fuzz_x_sum", undefined],
  ],
};
const BAD_NAMES = [
  "chronetix_fuzz_wait_ms",
  "chronetix_fuzz_gauge",
  "chronetix_fuzz_delay_s",
  "chronetix_fuzz_events_count",
  "Chronetix_fuzz_bad",
  "",
];
const HELPS = [
  "Events",
  'Back\\slash "quoted" and\nnewline',
  "Tab\there and CR\r",
  "Unicode \u{1F600} \u00fc \uFFFD",
  "Null \u0000 char",
];
const BAD_HELPS = ["", " padded ", "Period.", "Lone \uD800 surrogate"];
const LABEL_NAMES = ["kind", "code", "a_b", "_c", "k"];
const BAD_LABEL_NAMES = ["le", "__x", "1a", "myLabel", "overflow"];
const OPS_PER_CASE = 40;

const labelValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("a", "b", "c", "", "\\", '"', "\n", "a\\nb") },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "\r\t\u0000",
      "\u{1F600}",
      "\uD800",
      "\uDC01x",
      "\uDBFF\uDFFF",
      "\uFFFD",
      "x".repeat(300),
    ),
  },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 8 }) },
  { weight: 1, arbitrary: hostile() },
);

const number: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: -10, max: 10, noNaN: true }) },
  { weight: 4, arbitrary: fc.double({ min: 0, max: 20, noNaN: true }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 1000 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, -0, 1, 0.1, 1e308, -1e308, 5e-324, 2 ** 53) },
  { weight: 2, arbitrary: hostile() },
);

const buckets: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  {
    weight: 4,
    arbitrary: fc.uniqueArray(fc.double({ min: -100, max: 100, noNaN: true }), {
      minLength: 1,
      maxLength: 6,
    }).map((a) => a.sort((x, y) => x - y)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom([], [1, 1], [2, 1], [0, Infinity], [-0, 0], [1e-300, 1e300]),
  },
  { weight: 1, arbitrary: hostile() },
);

const limit: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 4 }) },
  { weight: 1, arbitrary: hostile() },
);

/** A declaration of `kind`: valid, or with one field broken. */
function declaration(kind: Kind): fc.Arbitrary<unknown> {
  const valid = fc.record({
    spec: fc.constantFrom(...VALID[kind]),
    help: fc.constantFrom(...HELPS),
    labelNames: fc.oneof(
      fc.constant(undefined),
      fc.uniqueArray(fc.constantFrom(...LABEL_NAMES), { maxLength: 3 }),
    ),
    softLimit: limit,
    hardLimit: limit,
    buckets,
  }).map(({ spec: [name, unit], ...rest }) => ({ name, unit, ...rest }));
  const broken = fc.oneof(
    fc.record({
      field: fc.constant("name"),
      value: fc.oneof(fc.constantFrom(...BAD_NAMES), hostile()),
    }),
    fc.record({
      field: fc.constant("help"),
      value: fc.oneof(fc.constantFrom(...BAD_HELPS), hostile()),
    }),
    fc.record({
      field: fc.constant("unit"),
      value: fc.oneof(fc.constantFrom("ms", "", "bytes"), hostile()),
    }),
    fc.record({
      field: fc.constant("labelNames"),
      value: fc.oneof(
        fc.array(fc.constantFrom(...LABEL_NAMES, ...BAD_LABEL_NAMES), { maxLength: 3 }),
        hostile(),
      ),
    }),
  );
  return fc.oneof(
    { weight: 12, arbitrary: valid },
    {
      weight: 4,
      arbitrary: fc.tuple(valid, broken).map(([options, { field, value }]) => ({
        ...options,
        [field]: value,
      })),
    },
    { weight: 1, arbitrary: hostile() },
  );
}

type Kind = "counter" | "gauge" | "histogram";

type Op =
  | { op: "register"; kind: Kind; options: unknown }
  | { op: "labels"; family: number; values: unknown[]; exact: boolean }
  | { op: "update"; handle: number; method: string; value: unknown; omit: boolean }
  | { op: "read"; family: number }
  | { op: "collector"; kind: "throw" | "set" | "register" | "reenter" | "hostile"; value: unknown }
  | { op: "dispose"; index: number }
  | { op: "expose"; format: unknown; text: boolean }
  | {
    op: "flatten";
    buffer: "fresh" | "kept" | "corrupt" | "hostile";
    field: "values" | "names" | "labels";
    value: unknown;
  }
  | { op: "reserve"; n: unknown }
  | { op: "export"; keyed: boolean; args: unknown[]; values: unknown[] }
  | { op: "negotiate"; accept: unknown };

const exportMetric: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      name: fc.constantFrom(
        "chronetix_fuzzexport_depth",
        "chronetix_fuzzexport_sent_total",
        "chronetix_fuzzexport_depth_total",
        "chronetix_fuzzexport_bad_ms",
      ),
      help: fc.constantFrom("Depth", "Sent", ""),
      type: fc.oneof(fc.constantFrom("counter", "gauge"), hostile()),
      labels: fc.oneof(
        fc.constant(undefined),
        fc.constant({ reason: "full" }),
        fc.constant({ reason: "\uD800" }),
        hostile(),
      ),
      value: fc.oneof(fc.integer({ min: 0, max: 4 }), hostile()),
    }, { requiredKeys: ["name", "help", "type", "value"] }),
  },
  { weight: 1, arbitrary: hostile() },
);

const register: fc.Arbitrary<Op> = fc.constantFrom<Kind>("counter", "gauge", "histogram").chain(
  (kind) =>
    fc.record({
      op: fc.constant("register" as const),
      kind: fc.constant(kind),
      options: declaration(kind),
    }),
);

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: register },
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant("labels" as const),
      family: fc.nat(),
      values: fc.array(labelValue, { maxLength: 4 }),
      exact: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, {
        weight: 1,
        arbitrary: fc.constant(false),
      }),
    }),
  },
  {
    weight: 14,
    arbitrary: fc.record({
      op: fc.constant("update" as const),
      handle: fc.nat(),
      method: fc.constantFrom("inc", "dec", "set", "observe", "advanceTo"),
      value: number,
      omit: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("read" as const), family: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("collector" as const),
      kind: fc.constantFrom("throw", "set", "register", "reenter", "hostile") as fc.Arbitrary<
        "throw" | "set" | "register" | "reenter" | "hostile"
      >,
      value: fc.oneof(number, hostile()),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("dispose" as const), index: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("expose" as const),
      format: fc.oneof(fc.constantFrom(undefined, "prometheus", "openmetrics"), hostile()),
      text: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("flatten" as const),
      buffer: fc.constantFrom("fresh", "kept", "corrupt", "hostile") as fc.Arbitrary<
        "fresh" | "kept" | "corrupt" | "hostile"
      >,
      field: fc.constantFrom("values", "names", "labels") as fc.Arbitrary<
        "values" | "names" | "labels"
      >,
      value: hostile(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("reserve" as const), n: number }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("export" as const),
      keyed: fc.boolean(),
      args: fc.tuple(
        fc.oneof({ weight: 8, arbitrary: fc.constant("registry") }, {
          weight: 1,
          arbitrary: hostile(),
        }),
        fc.oneof({ weight: 8, arbitrary: fc.constant("fn") }, { weight: 1, arbitrary: hostile() }),
        fc.oneof(
          { weight: 8, arbitrary: fc.array(exportMetric, { maxLength: 3 }) },
          { weight: 1, arbitrary: hostile() },
        ),
        fc.oneof(
          { weight: 4, arbitrary: fc.constant(undefined) },
          { weight: 4, arbitrary: fc.constant({ labels: { pool: "p" } }) },
          { weight: 1, arbitrary: fc.constant({ labels: { pool: 5 } }) },
          { weight: 1, arbitrary: hostile() },
        ),
        fc.oneof(
          { weight: 8, arbitrary: fc.constant({ label: "topic", of: "name" }) },
          { weight: 1, arbitrary: hostile() },
        ),
      ),
      values: fc.array(labelValue, { maxLength: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("negotiate" as const),
      accept: fc.oneof(
        fc.constantFrom(
          "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
          "text/plain;q=abc",
          ";;,,q=",
        ),
        fc.string(),
        hostile(),
      ),
    }),
  },
);

const registryOptions: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 6,
    arbitrary: fc.record({
      softLimit: maybe(fc.oneof(fc.integer({ min: 1, max: 5 }), hostile())),
      hardLimit: maybe(fc.oneof(fc.integer({ min: 1, max: 5 }), hostile())),
      logger: fc.constantFrom<unknown>("quiet", "quiet", "throwing", {}, 5),
      selfMetrics: fc.oneof(fc.boolean(), fc.constant(undefined), hostile()),
    }, { requiredKeys: [] }),
  },
  { weight: 1, arbitrary: hostile() },
);

const QUIET: Logger = { error: () => {}, warn: () => {}, info: () => {} };
const THROWING: Logger = {
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

/** What a handle must hold, computed independently of the registry. */
type Model =
  | { kind: "counter"; value: number }
  | { kind: "gauge"; value: number }
  | { kind: "histogram"; count: number; sum: number };

interface Family {
  kind: Kind;
  family: {
    name: string;
    labelNames: readonly string[];
    labels(...values: string[]): unknown;
    seriesCount: number;
  };
}

// deno-lint-ignore no-explicit-any
type Loose = any;

const DECLARATION_PARAMETERS = [
  "options",
  "name",
  "help",
  "unit",
  "labelNames",
  "buckets",
  "softLimit",
  "hardLimit",
];

/** A declaration's metric name, when it is a string. */
function nameOf(declaration: unknown): string {
  const name = (declaration as Loose)?.name;
  return typeof name === "string" ? name : "name";
}

/** What an export's error may name: a parameter, a table entry's field, or a metric. */
function exportParameters(table: unknown): string[] {
  const names = ["registry", "stats", "items", "metrics", "options", "options.labels", "key"];
  names.push("key.label", ...DECLARATION_PARAMETERS);
  if (!Array.isArray(table)) return names;
  table.forEach((m, i) => {
    names.push(`metrics[${i}]`, `metrics[${i}].value`, `metrics[${i}].labels`);
    names.push(`metrics[${i}].type`, nameOf(m));
  });
  return names;
}

/** Expositions collected from every case, checked by the external tools at the end. */
const collected: { prometheus: string; openmetrics: string; ops: string }[] = [];

function runCase(options: unknown, ops: readonly Op[]): void {
  // Without options the registry logs to the console: keep the test quiet.
  if (options === undefined) options = { logger: "quiet" };
  const registry = cleanCall(
    () => {
      const o = options as Loose;
      // undefined and null mean the console logger: keep the test quiet.
      const logger = o?.logger === undefined || o?.logger === null || o?.logger === "quiet"
        ? QUIET
        : o?.logger === "throwing"
        ? THROWING
        : o?.logger;
      const given = o !== null && typeof o === "object" ? { ...o, logger } : o;
      return new MetricsRegistry(given);
    },
    ["options", "softLimit", "hardLimit", "logger", "selfMetrics"],
  ) ?? new MetricsRegistry({ logger: QUIET });
  const families: Family[] = [];
  const handles: { kind: Kind; handle: unknown }[] = [];
  const models = new Map<unknown, Model>();
  const disposables: Disposable[] = [];
  let kept = new SampleBuffer();
  let collectorGauge: Gauge | undefined;

  const track = (kind: Kind, handle: unknown) => {
    handles.push({ kind, handle });
    if (models.has(handle)) return;
    models.set(
      handle,
      kind === "histogram" ? { kind, count: 0, sum: 0 } : { kind, value: 0 } as Model,
    );
  };

  for (const o of ops) {
    switch (o.op) {
      case "register": {
        const family = cleanCall(
          () => (registry as Loose)[o.kind](o.options) as Family["family"],
          // A parameter, or the metric by name when its declaration breaks a rule.
          [...DECLARATION_PARAMETERS, nameOf(o.options)],
        );
        if (family === undefined) break;
        assertEquals(family.name, (o.options as { name: string }).name);
        families.push({ kind: o.kind, family });
        // An unlabelled family's one series exists from the start.
        if (family.labelNames.length === 0) track(o.kind, family.labels());
        break;
      }
      case "labels": {
        if (families.length === 0) break;
        const { kind, family } = families[o.family % families.length]!;
        const before = family.seriesCount;
        const values = o.exact
          ? Array.from(family.labelNames, (_, i) => o.values[i] ?? "a")
          : o.values;
        const handle = cleanCall(
          () => family.labels(...values as string[]),
          [family.name, ...family.labelNames],
        );
        if (handle === undefined) {
          assertEquals(family.seriesCount, before, "a rejected labels() made no series");
          break;
        }
        track(kind, handle);
        break;
      }
      case "update": {
        if (handles.length === 0) break;
        const { handle } = handles[o.handle % handles.length]!;
        update(handle, models.get(handle)!, o.method, o.value, o.omit);
        break;
      }
      case "read": {
        if (families.length === 0) break;
        const { family } = families[o.family % families.length]!;
        const f = family as Loose;
        assertEquals([typeof f.name, typeof f.help, typeof f.type], ["string", "string", "string"]);
        assert(Number.isInteger(f.seriesCount) && f.seriesCount >= 0);
        assert(Array.isArray(f.labelNames) && (f.type !== "histogram" || f.buckets.length > 0));
        break;
      }
      case "collector": {
        collectorGauge ??= registry.gauge({
          name: "chronetix_fuzzcollect_level",
          help: "Set by a collector",
        }).labels();
        const gauge = collectorGauge;
        const value = o.value;
        const collect = o.kind === "throw"
          ? () => {
            throw value;
          }
          : o.kind === "set"
          ? () => gauge.set(value as number)
          : o.kind === "register"
          ? () => void registry.counter({ name: "chronetix_fuzzcollect_late_total", help: "Late" })
          : o.kind === "reenter"
          ? () => void registry.exposeText("openmetrics")
          : value;
        const disposable = cleanCall(
          () => registry.addCollector(collect as () => void),
          ["collect"],
        );
        if (disposable !== undefined) disposables.push(disposable);
        break;
      }
      case "dispose": {
        if (disposables.length === 0) break;
        const [d] = disposables.splice(o.index % disposables.length, 1);
        d![Symbol.dispose]();
        d![Symbol.dispose](); // twice: does nothing more
        break;
      }
      case "expose": {
        const result = cleanCall(
          () =>
            o.text ? registry.exposeText(o.format as Loose) : registry.expose(o.format as Loose),
          ["format"],
        );
        if (result !== undefined) assert(o.format === undefined || typeof o.format === "string");
        break;
      }
      case "flatten": {
        let buffer: unknown = o.buffer === "fresh" ? new SampleBuffer() : kept;
        if (o.buffer === "hostile") buffer = o.value;
        if (o.buffer === "corrupt") {
          kept = new SampleBuffer();
          (kept as Loose)[o.field] = o.value;
          buffer = kept;
        }
        const n = cleanCall(
          () => registry.flattenInto(buffer as SampleBuffer),
          ["buffer", "buffer.values", "buffer.names", "buffer.labels"],
        );
        if (n !== undefined) assertEquals((buffer as SampleBuffer).length, n);
        if (o.buffer === "corrupt") kept = new SampleBuffer();
        break;
      }
      case "reserve": {
        const buffer = new SampleBuffer();
        const done = cleanCall(() => {
          buffer.reserve(o.n as number);
          return true;
        }, ["n"]);
        if (done) assert(buffer.values.length >= (o.n as number));
        break;
      }
      case "export": {
        const [reg, fn, metrics, options, key] = o.args;
        const table = Array.isArray(metrics)
          ? metrics.map((m) =>
            m !== null && typeof m === "object" && !Array.isArray(m)
              ? {
                ...m,
                value: typeof (m as Loose).value === "number"
                  ? () => (m as Loose).value
                  : (m as Loose).value,
              }
              : m
          )
          : metrics;
        const target = reg === "registry" ? registry : reg;
        const values = o.values;
        const disposable = cleanCall(() =>
          o.keyed
            ? exportKeyedStats(
              target as MetricsRegistry,
              (fn === "fn" ? () => values.map((name) => ({ name })) : fn) as () => Iterable<
                unknown
              >,
              (key !== null && typeof key === "object" && (key as Loose).of === "name"
                ? { label: "topic", of: (item: Loose) => item.name }
                : key) as Loose,
              table as Loose,
              options as Loose,
            )
            : exportStats(
              target as MetricsRegistry,
              (fn === "fn" ? () => ({}) : fn) as () => unknown,
              table as Loose,
              options as Loose,
            ), exportParameters(table));
        if (disposable !== undefined) disposables.push(disposable);
        break;
      }
      case "negotiate": {
        const format = cleanCall(() => negotiateExpositionFormat(o.accept as string), ["accept"]);
        if (format !== undefined) assert(format === "prometheus" || format === "openmetrics");
        break;
      }
    }
  }

  // Every handle holds exactly what the model says.
  for (const [handle, model] of models) {
    if (model.kind === "histogram") {
      const h = handle as Histogram;
      assertEquals([h.count, h.sum], [model.count, model.sum]);
    } else {
      const actual = (handle as Counter).value;
      // === for 0 and -0, Object.is for NaN.
      assert(
        actual === model.value || Object.is(actual, model.value),
        `${actual} !== ${model.value}`,
      );
    }
  }
  // A collector may register a family, which the self metrics only see on
  // the next collect: settle first, so both texts and flatten() agree.
  registry.collect();
  registry.collect();
  const prometheus = registry.exposeText("prometheus");
  const openmetrics = registry.exposeText("openmetrics");
  checkShape(registry, prometheus, openmetrics);
  collected.push({ prometheus, openmetrics, ops: fc.stringify([options, ops]) });
  for (const d of disposables) d[Symbol.dispose]();
}

function update(
  handle: unknown,
  model: Model,
  method: string,
  value: unknown,
  omit: boolean,
): void {
  const h = handle as Loose;
  const call = () => {
    if (typeof h[method] !== "function") return false;
    if (omit) h[method]();
    else h[method](value);
    return true;
  };
  const done = cleanCall(call, ["value", "total"]);
  if (done !== true) return;
  // inc() and dec() default to 1, also for an explicit undefined.
  const v = (omit || value === undefined) && (method === "inc" || method === "dec")
    ? 1
    : value as number;
  if (model.kind === "histogram") {
    model.count++;
    model.sum += v as number;
  } else if (method === "set" || method === "advanceTo") {
    model.value = v as number;
  } else if (method === "dec") {
    model.value -= v as number;
  } else {
    model.value += v as number;
  }
}

/** In-process checks of both texts against `flatten()`. */
function checkShape(registry: MetricsRegistry, prometheus: string, openmetrics: string): void {
  const samples = registry.flatten();
  const promLines = prometheus.split("\n");
  assertEquals(promLines.pop(), "", "the text ends with a newline (or is empty)");
  const promSamples = promLines.filter((l) => !l.startsWith("#"));
  assertEquals(promSamples.length, samples.length);
  assertEquals(
    new Set(promSamples.map((l) => l.slice(0, l.lastIndexOf(" ")))).size,
    samples.length,
    "no two samples share a name and label set",
  );
  assert(openmetrics.endsWith("# EOF\n"));
  const omSamples = openmetrics.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
  assert(omSamples.length <= samples.length);
  // Buckets are cumulative (never decreasing), and +Inf equals _count.
  let last: { le: string; value: number } | undefined;
  let infinity: number | undefined;
  for (const s of samples) {
    assert(typeof s.value === "number");
    if (s.name.endsWith("_bucket") || s.name.endsWith("_count") || s.name.endsWith("_total")) {
      assert(!(s.value < 0), `${s.name} ${s.value}`);
    }
    if (s.name.endsWith("_bucket")) {
      const first = last === undefined || last.le === "+Inf";
      if (!first) assert(s.value >= last!.value, `${s.name} is not cumulative`);
      last = { le: s.labels.le!, value: s.value };
      if (s.labels.le === "+Inf") infinity = s.value;
      continue;
    }
    last = undefined;
    if (infinity !== undefined && s.name.endsWith("_count")) {
      assertEquals(s.value, infinity, `${s.name}: the +Inf bucket is not the count`);
      infinity = undefined;
    }
  }
}

Deno.test("metrics fuzz: random call sequences keep every series exact and the exposition valid", async () => {
  collected.length = 0;
  check(
    fc.property(
      registryOptions,
      fc.array(register, { minLength: 1, maxLength: 4 }),
      fc.array(op, { maxLength: OPS_PER_CASE, size: "max" }),
      (options, first, ops) => runCase(options, [...first, ...ops]),
    ),
  );
  if (REQUIRED && (PROMTOOL === undefined || !HAS_PYTHON_CLIENT)) {
    fail("promtool and python3-prometheus-client are required but were not found");
  }
  if (HAS_PYTHON_CLIENT) {
    const outcomes = await parseWithPython(
      collected.flatMap((c) => [
        { format: "openmetrics" as const, text: c.openmetrics },
        { format: "prometheus" as const, text: c.prometheus },
      ]),
    );
    outcomes.forEach((outcome, i) => {
      if (outcome.error === null) return;
      const c = collected[i >> 1]!;
      const format = i % 2 === 0 ? "openmetrics" : "prometheus";
      fail(
        `prometheus_client rejected the ${format} text of case ${
          i >> 1
        } (seed ${FUZZ_SEED}): ${outcome.error}\n--- text\n${
          i % 2 === 0 ? c.openmetrics : c.prometheus
        }--- calls\n${c.ops}`,
      );
    });
  }
  if (PROMTOOL !== undefined) {
    const rejected = await checkWithPromtool(PROMTOOL, collected.map((c) => c.prometheus));
    if (rejected !== undefined) {
      const c = collected[rejected.index];
      fail(
        `promtool rejected case ${rejected.index} (seed ${FUZZ_SEED}): ${rejected.output}\n--- text\n${c?.prometheus}--- calls\n${c?.ops}`,
      );
    }
  }
});
