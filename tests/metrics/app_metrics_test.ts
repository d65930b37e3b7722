// Metrics for an application: user prefixes, a registry namespace, default
// labels, responses and the self metrics being current on the scrape that
// reads them. Assertions are on real scrape text, parsed.
import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { exportKeyedStats } from "../../src/metrics/export_stats.ts";
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE } from "../../src/metrics/exposition.ts";
import { find, parseScrape } from "./_parse.ts";
import { HAS_PYTHON_CLIENT, parseWithPython, REQUIRED } from "./external_tools.ts";

Deno.test("MetricsRegistry takes user names under their own prefix", () => {
  const r = new MetricsRegistry({ selfMetrics: false });
  const frames = r.counter({
    name: "myapp_frames_received_total",
    help: "Frames received, by link",
    labelNames: ["link"],
  });
  frames.labels("can0").inc(3);
  r.histogram({
    name: "myapp_decode_duration_seconds",
    help: "Decode time",
    unit: "seconds",
    buckets: [0.001, 0.01],
  }).labels().observe(0.002);
  const scrape = parseScrape(r.exposeText());
  assertEquals(find(scrape, "myapp_frames_received_total"), [
    { name: "myapp_frames_received_total", labels: { link: "can0" }, value: 3 },
  ]);
  assertEquals(
    find(scrape, "myapp_decode_duration_seconds_bucket").map((s) => [s.labels.le, s.value]),
    [["0.001", 0], ["0.01", 1], ["+Inf", 1]],
  );
  assertEquals(scrape.types.get("myapp_decode_duration_seconds"), "histogram");
});

Deno.test("MetricsRegistry still refuses invalid names with the rule they break", async (t) => {
  const r = new MetricsRegistry({ selfMetrics: false });
  const cases: [string, string, string][] = [
    ["two words", "frames_total", ""],
    ["single word", "frames", "must match <prefix>_<name>"],
    ["colon", "myapp:frames_total", "no colon"],
    ["camelCase", "myApp_frames_total", "lower snake case"],
    ["library namespace shape", "chronetix_total", "chronetix_<subsystem>_<name>"],
    ["counter suffix", "myapp_frames", "must end with '_total'"],
    ["non-base unit", "myapp_wait_ms_total", "'ms' is not a base unit"],
  ];
  for (const [title, name, expected] of cases) {
    await t.step(title, () => {
      if (expected === "") {
        // Two parts are a prefix and a name: accepted.
        assertEquals(r.counter({ name, help: "Frames" }).name, name);
        return;
      }
      const error = assertThrows(() => r.counter({ name, help: "Frames" }), TypeError);
      assertStringIncludes(error.message, `Cannot register metric '${name}' as `);
      assertStringIncludes(error.message, expected);
    });
  }
});

Deno.test("MetricsRegistry namespace refuses foreign names and lets the library's own in", () => {
  const r = new MetricsRegistry({ namespace: "myapp" });
  assertEquals(r.namespace, "myapp");
  r.counter({ name: "myapp_frames_total", help: "Frames" });
  // The registry's own metrics and kernel components sharing it use chronetix_.
  r.gauge({ name: "chronetix_bus_queue_depth", help: "Depth" });
  assertThrows(
    () => r.counter({ name: "other_frames_total", help: "Frames" }),
    TypeError,
    "Cannot register metric 'other_frames_total' as its name must start with the registry's namespace 'myapp_'",
  );
  assertThrows(
    () => r.counter({ name: "myapps_frames_total", help: "Frames" }),
    TypeError,
    "namespace 'myapp_'",
  );
  assertEquals(
    r.inventory().map((m) => m.name).filter((n) => !n.startsWith("chronetix_metrics_")),
    ["myapp_frames_total", "chronetix_bus_queue_depth"],
  );
  for (const bad of ["MyApp", "my-app", "myapp_", "", "_x", 5]) {
    assertThrows(
      () => new MetricsRegistry({ namespace: bad as string }),
      TypeError,
      "Cannot create a MetricsRegistry as 'namespace' must be lower snake case",
    );
  }
});

Deno.test("MetricsRegistry defaultLabels go on every series in both formats and flatten()", async () => {
  const r = new MetricsRegistry({
    defaultLabels: { instance: "edge-1", service: 'gate"way\\' },
    hardLimit: 2,
    softLimit: 1,
    logger: { error() {}, warn() {}, info() {} },
  });
  assertEquals(r.defaultLabels, { instance: "edge-1", service: 'gate"way\\' });
  const c = r.counter({ name: "myapp_frames_total", help: "Frames", labelNames: ["link"] });
  for (const link of ["a", "b", "c", "d"]) c.labels(link).inc();
  r.histogram({ name: "myapp_size_bytes", help: "Sizes", unit: "bytes", buckets: [10] })
    .labels().observe(5);
  const defaults = { instance: "edge-1", service: 'gate"way\\' };
  for (const format of ["prometheus", "openmetrics"] as const) {
    const text = r.exposeText(format);
    const scrape = parseScrape(text);
    assert(scrape.samples.length > 10);
    for (const s of scrape.samples) {
      assertEquals(s.labels.instance, "edge-1", `${format}: ${s.name}`);
      assertEquals(s.labels.service, 'gate"way\\', `${format}: ${s.name}`);
    }
    // Cardinality limits count the family's own label sets: c and d overflow.
    assertEquals(find(scrape, "myapp_frames_total", { overflow: "true" }), [
      { name: "myapp_frames_total", labels: { overflow: "true", ...defaults }, value: 2 },
    ]);
    assertEquals(find(scrape, "myapp_size_bytes_bucket", { le: "10" })[0]!.labels, {
      ...defaults,
      le: "10",
    });
    assertEquals(
      find(scrape, "chronetix_metrics_series", { family: "myapp_frames_total" })[0]!.value,
      2,
    );
  }
  for (const s of r.flatten()) assertEquals(s.labels.instance, "edge-1", s.name);
  if (HAS_PYTHON_CLIENT || REQUIRED) {
    const outcomes = await parseWithPython([
      { format: "prometheus", text: r.exposeText("prometheus") },
      { format: "openmetrics", text: r.exposeText("openmetrics") },
    ]);
    assertEquals(outcomes.map((o) => o.error), [null, null]);
  }
});

Deno.test("MetricsRegistry defaultLabels conflicts fail with clear errors", () => {
  const r = new MetricsRegistry({ defaultLabels: { instance: "a" } });
  assertThrows(
    () => r.counter({ name: "myapp_frames_total", help: "Frames", labelNames: ["instance"] }),
    TypeError,
    `Cannot register metric 'myapp_frames_total' as its label "instance" is also a default label of the registry: rename one of them`,
  );
  assertEquals(r.inventory().some((m) => m.name === "myapp_frames_total"), false);
  assertThrows(
    () => new MetricsRegistry({ defaultLabels: { family: "x" } }),
    TypeError,
    `'defaultLabels' must not hold "family"`,
  );
  // Without self metrics, "family" is free.
  const free = new MetricsRegistry({ selfMetrics: false, defaultLabels: { family: "x" } });
  free.gauge({ name: "myapp_up", help: "Up" });
  assertStringIncludes(free.exposeText(), 'myapp_up{family="x"} 0\n');
  const bad: [unknown, string][] = [
    [{ le: "x" }, `label name "le" is reserved`],
    [{ overflow: "x" }, `label name "overflow" is reserved`],
    [{ __x: "x" }, "is not valid"],
    [{ "a-b": "x" }, "is not valid"],
    [{ serviceName: "x" }, "camelCase"],
    [{ service: 5 }, `current value of "service" is 5`],
    [{ service: "\uD800" }, "well-formed Unicode"],
    [["a"], "'defaultLabels' must be an object"],
    [null, "'defaultLabels' must be an object"],
  ];
  for (const [labels, expected] of bad) {
    const error = assertThrows(
      () => new MetricsRegistry({ defaultLabels: labels as Record<string, string> }),
      TypeError,
    );
    assertStringIncludes(error.message, "Cannot create a MetricsRegistry as 'defaultLabels'");
    assertStringIncludes(error.message, expected);
  }
});

Deno.test("chronetix_metrics_series is current on the scrape that reads it", () => {
  const r = new MetricsRegistry();
  const topics = new Map<string, { name: string; sent: number }>();
  using _export = exportKeyedStats(
    r,
    () => topics.values(),
    { label: "topic", of: (t) => t.name },
    [{ name: "myapp_sent_total", help: "Sent", type: "counter", value: (t) => t.sent }],
  );
  const series = () =>
    find(parseScrape(r.exposeText()), "chronetix_metrics_series", {
      family: "myapp_sent_total",
    })[0]?.value;
  assertEquals(series(), 0);
  topics.set("a", { name: "a", sent: 1 });
  assertEquals(series(), 1); // the collector made the series on this very scrape
  topics.set("b", { name: "b", sent: 1 });
  topics.set("c", { name: "c", sent: 1 });
  assertEquals(series(), 3);
  // A family registered after the registry by a later collector is counted at once too.
  let late = false;
  using _late = r.addCollector(() => {
    if (!late) {
      late = true;
      r.gauge({ name: "myapp_late", help: "Late", labelNames: ["k"] }).labels("x").set(1);
    }
  });
  assertEquals(
    find(parseScrape(r.exposeText()), "chronetix_metrics_series", { family: "myapp_late" })[0]
      ?.value,
    1,
  );
});

Deno.test("MetricsRegistry.expose() is a Response body and toResponse() sets the content type", async () => {
  const r = new MetricsRegistry({ selfMetrics: false });
  const c = r.counter({ name: "myapp_hits_total", help: "Hits" }).labels();
  c.inc();
  const body = new Response(r.expose()); // typed: Uint8Array<ArrayBuffer> is a BodyInit
  c.inc(); // the next scrape reuses the buffer: the Response holds its own copy
  r.expose();
  assertStringIncludes(await body.text(), "myapp_hits_total 1\n");

  const text = r.toResponse();
  assertEquals(text.status, 200);
  assertEquals(text.headers.get("content-type"), PROMETHEUS_CONTENT_TYPE);
  assertStringIncludes(await text.text(), "myapp_hits_total 2\n");

  const om = r.toResponse("openmetrics");
  assertEquals(om.headers.get("content-type"), OPENMETRICS_CONTENT_TYPE);
  assert((await om.text()).endsWith("# EOF\n"));

  const negotiated = r.toResponse(
    new Request("http://x/metrics", {
      headers: { accept: "application/openmetrics-text;version=1.0.0,text/plain;q=0.5" },
    }),
  );
  assertEquals(negotiated.headers.get("content-type"), OPENMETRICS_CONTENT_TYPE);
  await negotiated.body?.cancel();
  const plain = r.toResponse(new Request("http://x/metrics"));
  assertEquals(plain.headers.get("content-type"), PROMETHEUS_CONTENT_TYPE);
  await plain.body?.cancel();
  assertThrows(
    () => r.toResponse("json" as "prometheus"),
    TypeError,
    "Cannot answer a scrape as 'formatOrRequest'",
  );
});
