// Seeded fuzz of the application-metrics surface: registry `namespace` and
// `defaultLabels`, user metric names under any prefix, and
// collectDefaultMetrics options, with hostile values. Every call works or
// throws a clean error naming its parameter; what is accepted matches a
// small reference model (namespace, default-label conflicts); every scrape
// parses, carries the default labels on every sample, and (batched) passes
// prometheus_client's strict parsers when they are installed.
import { assert, assertEquals, fail } from "@std/assert";
import { check, cleanCall, fc, FUZZ_SEED, hostile, maybe } from "./_hostile.ts";
import { MetricsRegistry, type MetricsRegistryOptions } from "../../src/metrics/registry.ts";
import { collectDefaultMetrics } from "../../src/metrics/default_metrics.ts";
import { parseScrape } from "../metrics/_parse.ts";
import { HAS_PYTHON_CLIENT, parseWithPython, REQUIRED } from "../metrics/external_tools.ts";

const NAMESPACES = ["myapp", "edge_gw", "a1", "MyApp", "my-app", "myapp_", "_x", ""];
const GOOD_NAMESPACE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
const PREFIXES = ["myapp", "edge_gw", "other", "chronetix_demo", "process", "a1"];
const STEMS = ["frames", "decode", "queue_depth", "wait", "x"];
const LABELS = ["instance", "service", "link", "kind", "family", "le", "serviceName", "__x"];
const GOOD_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const RESERVED = ["le", "quantile", "overflow"];
const VALUES = ["edge-1", "", 'q"uote', "back\\slash", "new\nline", "\u{1F600}", "\uD800"];

function labelOk(name: string): boolean {
  return GOOD_LABEL.test(name) && !name.startsWith("__") && !RESERVED.includes(name) &&
    !/[a-z][A-Z]/.test(name);
}

const registryOptions = fc.record({
  namespace: fc.option(fc.oneof(fc.constantFrom(...NAMESPACES), hostile()), {
    nil: undefined,
    freq: 2,
  }),
  defaultLabels: fc.option(
    fc.oneof(
      {
        weight: 5,
        arbitrary: fc.dictionary(fc.constantFrom(...LABELS), fc.constantFrom(...VALUES), {
          maxKeys: 3,
        }),
      },
      { weight: 1, arbitrary: hostile() },
    ),
    { nil: undefined, freq: 2 },
  ),
  selfMetrics: fc.option(fc.boolean(), { nil: undefined }),
});

const declaration = fc.record({
  kind: fc.constantFrom("counter", "gauge", "histogram"),
  prefix: fc.constantFrom(...PREFIXES),
  stem: fc.constantFrom(...STEMS),
  labelNames: fc.subarray(LABELS.slice(0, 5), { maxLength: 3 }),
  values: fc.array(fc.constantFrom(...VALUES.filter((v) => v !== "\uD800")), {
    minLength: 3,
    maxLength: 3,
  }),
  garbageName: maybe(),
});

Deno.test("fuzz: registry namespace and defaultLabels, user names, default metrics", async () => {
  const texts: { format: "prometheus" | "openmetrics"; text: string }[] = [];
  const seen = {
    registries: 0,
    families: 0,
    rejectedFamilies: 0,
    defaultMetrics: 0,
    responses: 0,
  };
  await check(
    fc.property(
      registryOptions,
      fc.array(declaration, { maxLength: 8 }),
      maybe(fc.record({ prefix: maybe(fc.constantFrom("", "myapp_", "Bad_", "x")) })),
      fc.oneof(
        fc.constantFrom(
          "prometheus",
          "openmetrics",
          new Request("http://x/metrics", { headers: { accept: "application/openmetrics-text" } }),
        ),
        hostile(),
      ),
      (options, decls, defaultOptions, formatOrRequest) => {
        const registry = cleanCall(
          () =>
            new MetricsRegistry({
              ...options,
              logger: { error() {}, warn() {}, info() {} },
            } as MetricsRegistryOptions),
          ["namespace", "defaultLabels"],
        );
        // Reference model of the constructor's checks.
        const { namespace, defaultLabels, selfMetrics } = options;
        const nsOk = namespace === undefined ||
          (typeof namespace === "string" && GOOD_NAMESPACE.test(namespace));
        const labelsOk = defaultLabels === undefined ||
          (defaultLabels !== null && typeof defaultLabels === "object" &&
            !Array.isArray(defaultLabels) &&
            Object.entries(defaultLabels).every(([k, v]) =>
              labelOk(k) && typeof v === "string" && v.isWellFormed()
            ) &&
            !(selfMetrics !== false && Object.hasOwn(defaultLabels, "family")));
        assertEquals(registry !== undefined, nsOk && labelsOk, Deno.inspect(options));
        if (registry === undefined) return;
        seen.registries++;
        const defaults = (defaultLabels ?? {}) as Record<string, string>;
        for (const d of decls) {
          const name: unknown = d.garbageName !== undefined
            ? d.garbageName
            : `${d.prefix}_${d.stem}${d.kind === "counter" ? "_total" : ""}`;
          const make = () => {
            const spec = { name: name as string, help: "Fuzzed", labelNames: d.labelNames };
            const family = d.kind === "counter"
              ? registry.counter(spec)
              : d.kind === "gauge"
              ? registry.gauge(spec)
              : registry.histogram({ ...spec, buckets: [0.5, 2] });
            const handle = family.labels(...d.values.slice(0, d.labelNames.length));
            if ("observe" in handle) handle.observe(1);
            else handle.inc();
            return family;
          };
          // A bad name, a clash or a label conflict: a clean TypeError naming the metric.
          const family = cleanCall(make);
          if (typeof name !== "string" || d.garbageName !== undefined || family === undefined) {
            if (family === undefined) seen.rejectedFamilies++;
            continue;
          }
          seen.families++;
          // Accepted: so the namespace and default-label rules held.
          const ns = registry.namespace;
          assert(
            ns === undefined || name.startsWith(`${ns}_`) || name.startsWith("chronetix_"),
            `${name} accepted under namespace ${ns}`,
          );
          assert(
            d.labelNames.every((l) => !Object.hasOwn(defaults, l)),
            `${name} accepted with a label that is a default label`,
          );
        }
        const handle = defaultOptions === undefined ? undefined : cleanCall(
          () =>
            collectDefaultMetrics(registry, {
              ...(defaultOptions as object),
              sources: { setTimer: () => 0, clearTimer: () => {}, openFds: () => 3 },
            }),
          ["prefix", "options"],
        );
        if (handle !== undefined) seen.defaultMetrics++;
        const response = cleanCall(() => registry.toResponse(formatOrRequest as "prometheus"), [
          "formatOrRequest",
        ]);
        if (response !== undefined) {
          seen.responses++;
          assert(response.headers.get("content-type")?.includes("charset=utf-8"));
        }
        try {
          for (const format of ["prometheus", "openmetrics"] as const) {
            const text = registry.exposeText(format);
            const scrape = parseScrape(text);
            for (const s of scrape.samples) {
              for (const [k, v] of Object.entries(defaults)) {
                assertEquals(s.labels[k], v, `${s.name} lacks default label ${k}`);
              }
            }
            if (texts.length < 400) texts.push({ format, text });
          }
        } finally {
          handle?.close();
        }
      },
    ),
  );
  // The generators reach every outcome (a degenerate run cannot pass).
  assert(Object.values(seen).every((n) => n >= 10), JSON.stringify(seen));
  if (!HAS_PYTHON_CLIENT) {
    if (REQUIRED) fail("python3-prometheus-client is required but missing");
    return;
  }
  const outcomes = await parseWithPython(texts);
  const bad = outcomes.findIndex((o) => o.error !== null);
  if (bad >= 0) {
    fail(
      `seed ${FUZZ_SEED}: prometheus_client refused:\n${outcomes[bad]!.error}\n${texts[bad]!.text}`,
    );
  }
});
