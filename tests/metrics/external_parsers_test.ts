// The exposition checked by the real tools users run: promtool and the strict
// parsers of python3-prometheus-client (see ./external_tools.ts). On a
// machine without the tools these tests are reported as ignored, unless
// CHRONETIX_REQUIRE_TOOLS=1 (CI), where they fail.
import { assertEquals, fail } from "@std/assert";
import { everyKindRegistry } from "./_fixture.ts";
import {
  checkWithPromtool,
  HAS_PYTHON_CLIENT,
  parseWithPython,
  PROMTOOL,
  REQUIRED,
  run,
} from "./external_tools.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";

/** Values at the edges: a signed histogram, NaN and infinite gauges, odd label values. */
function edgeRegistry(): MetricsRegistry {
  const r = new MetricsRegistry();
  const offset = r.histogram({
    name: "chronetix_demo_offset_seconds",
    help: "Clock offset, may be negative",
    unit: "seconds",
    labelNames: ["peer"],
    buckets: [-0.5, -0.001, 0, 0.001, 0.5],
  });
  for (const v of [-3, -0.01, 0, 0.0005, 2]) offset.labels("a").observe(v);
  offset.labels('\u{1F600} \\ " \n \r \t \u0000');
  const g = r.gauge({ name: "chronetix_demo_level", help: "Level", labelNames: ["k"] });
  g.labels("nan").set(NaN);
  g.labels("inf").set(Infinity);
  g.labels("-inf").set(-Infinity);
  g.labels("big").set(1e308);
  g.labels("tiny").set(5e-324);
  g.labels("\uFFFD").set(-0);
  const c = r.counter({ name: "chronetix_demo_bytes_total", help: "Bytes", unit: "bytes" });
  c.labels().inc(1e308);
  c.labels().inc(1e308); // +Inf: still a valid counter
  r.histogram({ name: "chronetix_demo_size_bytes", help: "Sizes", buckets: [0, 1e21] })
    .labels().observe(1e300);
  return r;
}

Deno.test({
  name: "promtool check metrics accepts the Prometheus text exposition of every kind of metric",
  ignore: PROMTOOL === undefined && !REQUIRED,
  async fn() {
    if (PROMTOOL === undefined) {
      fail("promtool is required (CHRONETIX_REQUIRE_TOOLS=1) but was not found");
    }
    const result = await run(
      PROMTOOL,
      ["check", "metrics"],
      everyKindRegistry().expose("prometheus"),
    );
    assertEquals(result.code, 0, `promtool said:\n${result.stdout}${result.stderr}`);
    assertEquals(
      result.stdout.trim() + result.stderr.trim(),
      "",
      "promtool reported lint problems",
    );
  },
});

Deno.test({
  name: "promtool check metrics accepts edge values: negative buckets, NaN, infinities",
  ignore: PROMTOOL === undefined && !REQUIRED,
  async fn() {
    if (PROMTOOL === undefined) {
      fail("promtool is required (CHRONETIX_REQUIRE_TOOLS=1) but was not found");
    }
    const text = edgeRegistry().exposeText("prometheus");
    assertEquals(await checkWithPromtool(PROMTOOL, [text]), undefined, text);
  },
});

for (const format of ["openmetrics", "prometheus"] as const) {
  Deno.test({
    name: `python prometheus_client's strict parser accepts the ${format} exposition`,
    ignore: !HAS_PYTHON_CLIENT && !REQUIRED,
    async fn() {
      if (!HAS_PYTHON_CLIENT) fail("python3-prometheus-client is required but was not found");
      const registry = everyKindRegistry();
      const [outcome] = await parseWithPython([{ format, text: registry.exposeText(format) }]);
      assertEquals(outcome!.error, null);
      const expected = new Set(registry.inventory().map((m) => m.name)).size;
      assertEquals(outcome!.counts, [expected, registry.flatten().length]);
    },
  });

  Deno.test({
    name:
      `python prometheus_client's strict parser accepts edge values in the ${format} exposition`,
    ignore: !HAS_PYTHON_CLIENT && !REQUIRED,
    async fn() {
      if (!HAS_PYTHON_CLIENT) fail("python3-prometheus-client is required but was not found");
      const registry = edgeRegistry();
      const text = registry.exposeText(format);
      const [outcome] = await parseWithPython([{ format, text }]);
      assertEquals(outcome!.error, null, text);
      // OpenMetrics leaves out the signed histogram's _sum and _count (2 series).
      const samples = registry.flatten().length - (format === "openmetrics" ? 4 : 0);
      assertEquals(outcome!.counts?.[1], samples);
    },
  });
}
