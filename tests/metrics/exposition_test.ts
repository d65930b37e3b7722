import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { negotiateExpositionFormat } from "../../src/metrics/exposition.ts";
import { everyKindRegistry } from "./_fixture.ts";

Deno.test("MetricsRegistry.expose() writes Prometheus text 0.0.4", () => {
  const text = everyKindRegistry().exposeText("prometheus");
  assertStringIncludes(
    text,
    "# HELP chronetix_demo_requests_total Requests handled, by method and code\n" +
      "# TYPE chronetix_demo_requests_total counter\n" +
      'chronetix_demo_requests_total{method="GET",code="200"} 3\n',
  );
  assertStringIncludes(text, "# TYPE chronetix_demo_temperature_celsius gauge\n");
  assertStringIncludes(text, "chronetix_demo_temperature_celsius 21.5\n");
  assertStringIncludes(text, 'chronetix_demo_latency_seconds_bucket{op="read",le="0.001"} 1\n');
  assertStringIncludes(text, 'chronetix_demo_latency_seconds_bucket{op="read",le="+Inf"} 3\n');
  assertStringIncludes(text, 'chronetix_demo_latency_seconds_count{op="read"} 3\n');
  assert(!text.includes("# EOF"));
  assert(!text.includes("# UNIT"));
  assert(text.endsWith("\n"));
});

Deno.test("MetricsRegistry.expose() writes OpenMetrics 1.0", () => {
  const text = everyKindRegistry().exposeText("openmetrics");
  // The counter family is named without _total; its samples keep it.
  assertStringIncludes(text, "# TYPE chronetix_demo_requests counter\n");
  assertStringIncludes(text, 'chronetix_demo_requests_total{method="GET",code="200"} 3\n');
  assertStringIncludes(text, "# UNIT chronetix_demo_latency_seconds seconds\n");
  assert(text.endsWith("\n# EOF\n"));
  assertEquals(text.indexOf("# EOF"), text.length - "# EOF\n".length);
});

Deno.test("Exposition escapes label values and HELP in each format, Unicode intact", () => {
  const r = new MetricsRegistry({ selfMetrics: false });
  const c = r.counter({
    name: "chronetix_demo_paths_total",
    help: 'Paths seen, with "quotes" and a \\ backslash\nover two lines',
    labelNames: ["path"],
  });
  c.labels('C:\\tmp\\"x"\nnext').inc();
  c.labels("température/ß/日本").inc(2);
  const prom = r.exposeText("prometheus");
  assertStringIncludes(
    prom,
    '# HELP chronetix_demo_paths_total Paths seen, with "quotes" and a \\\\ backslash\\nover two lines\n',
  );
  assertStringIncludes(prom, 'chronetix_demo_paths_total{path="C:\\\\tmp\\\\\\"x\\"\\nnext"} 1\n');
  assertStringIncludes(prom, 'chronetix_demo_paths_total{path="température/ß/日本"} 2\n');
  const om = r.exposeText("openmetrics");
  assertStringIncludes(
    om,
    '# HELP chronetix_demo_paths Paths seen, with \\"quotes\\" and a \\\\ backslash\\nover two lines\n',
  );
  const bytes = r.expose("prometheus");
  assertEquals(new TextDecoder("utf-8", { fatal: true }).decode(bytes), prom);
});

Deno.test("Exposition keeps each family contiguous, metadata first, buckets ascending with +Inf = count", () => {
  for (const format of ["prometheus", "openmetrics"] as const) {
    const lines = everyKindRegistry().exposeText(format).trimEnd().split("\n");
    const seen = new Set<string>();
    let current = "";
    let lastLe = -Infinity;
    let infCount = NaN;
    for (const line of lines) {
      if (line === "# EOF") continue;
      if (line.startsWith("# ")) {
        const family = line.split(" ")[2]!;
        if (line.startsWith("# HELP")) {
          assert(!seen.has(family), `${format}: family ${family} appears twice`);
          seen.add(family);
          current = family;
          lastLe = -Infinity;
        }
        assertEquals(family, current);
        continue;
      }
      const name = line.slice(0, line.search(/[{ ]/));
      assert(name.startsWith(current), `${format}: sample ${name} outside its family ${current}`);
      const le = line.match(/le="([^"]+)"/)?.[1];
      const value = Number(line.slice(line.lastIndexOf(" ") + 1));
      if (le !== undefined) {
        const bound = le === "+Inf" ? Infinity : Number(le);
        assert(bound > lastLe || bound === -Infinity || lastLe === Infinity, `${format}: ${line}`);
        lastLe = bound === Infinity ? -Infinity : bound;
        if (bound === Infinity) infCount = value;
      }
      if (name.endsWith("_count")) assertEquals(value, infCount, `${format}: ${line}`);
    }
    assert(seen.size >= 3);
  }
});

Deno.test("MetricsRegistry.expose() reuses its buffer across scrapes", () => {
  const r = everyKindRegistry();
  const first = r.expose("prometheus");
  const firstText = new TextDecoder().decode(first);
  const second = r.expose("prometheus");
  assertEquals(second.buffer === first.buffer, true);
  assertEquals(new TextDecoder().decode(second), firstText);
  const om = r.expose("openmetrics");
  assertEquals(om.buffer === first.buffer, true);
});

Deno.test("negotiateExpositionFormat() follows the Accept header", () => {
  assertEquals(
    negotiateExpositionFormat("application/openmetrics-text; version=1.0.0"),
    "openmetrics",
  );
  assertEquals(
    negotiateExpositionFormat("application/openmetrics-text;q=0.2, text/plain;q=0.9"),
    "prometheus",
  );
  assertEquals(negotiateExpositionFormat("*/*"), "prometheus");
  assertEquals(negotiateExpositionFormat(""), "prometheus");
  assertEquals(negotiateExpositionFormat(undefined), "prometheus");
});

Deno.test("negotiateExpositionFormat() rejects an Accept header that is not a string", () => {
  for (const accept of [5, {}, Symbol("a"), 1n, ["text/plain"], true]) {
    assertThrows(
      () => negotiateExpositionFormat(accept as unknown as string),
      TypeError,
      "Cannot negotiate the exposition format as 'accept' must be a string, null or undefined",
    );
  }
});
