// Golden test: for the same counters, gauges and histograms, our sample lines
// equal those of npm prom-client, the library a Node user would pick. Label
// order inside braces is free in the format, so it is normalised.
import { assertEquals } from "@std/assert";
import client from "prom-client";
import { MetricsRegistry } from "../../src/metrics/registry.ts";

function sampleLines(text: string): string[] {
  return text.split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const m = line.match(/^([^{ ]+)(?:\{(.*)\})? (.+)$/);
      if (m === null) throw new Error(`Unparsable sample line: ${line}`);
      const labels = (m[2] ?? "").match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? [];
      return `${m[1]}{${labels.sort().join(",")}} ${m[3]}`;
    })
    .sort();
}

Deno.test("MetricsRegistry prints the same sample lines as prom-client", async () => {
  const ours = new MetricsRegistry({ selfMetrics: false });
  const theirs = new client.Registry();
  const buckets = [0.005, 0.01, 0.1, 1];

  const oc = ours.counter({
    name: "chronetix_demo_requests_total",
    help: "Requests",
    labelNames: ["method", "code"],
  });
  const tc = new client.Counter({
    name: "chronetix_demo_requests_total",
    help: "Requests",
    labelNames: ["method", "code"],
    registers: [theirs],
  });
  const og = ours.gauge({ name: "chronetix_demo_depth", help: "Depth", labelNames: ["queue"] });
  const tg = new client.Gauge({
    name: "chronetix_demo_depth",
    help: "Depth",
    labelNames: ["queue"],
    registers: [theirs],
  });
  const ou = ours.gauge({ name: "chronetix_demo_ratio", help: "A ratio" });
  const tu = new client.Gauge({
    name: "chronetix_demo_ratio",
    help: "A ratio",
    registers: [theirs],
  });
  const oh = ours.histogram({
    name: "chronetix_demo_latency_seconds",
    help: "Latency",
    unit: "seconds",
    labelNames: ["op"],
    buckets,
  });
  const th = new client.Histogram({
    name: "chronetix_demo_latency_seconds",
    help: "Latency",
    labelNames: ["op"],
    buckets,
    registers: [theirs],
  });

  for (
    const [method, code, n] of [["GET", "200", 3], ["POST", "500", 1.5], [
      'we"ird\\',
      "x\ny",
      2,
    ]] as const
  ) {
    oc.labels(method, code).inc(n);
    tc.inc({ method, code }, n);
  }
  for (const [queue, v] of [["in", 4], ["out", -2.25]] as const) {
    og.labels(queue).set(v);
    tg.set({ queue }, v);
  }
  ou.labels().set(0.125);
  tu.set(0.125);
  for (const [op, v] of [["read", 0.003], ["read", 0.05], ["read", 7], ["write", 0.01]] as const) {
    oh.labels(op).observe(v);
    th.observe({ op }, v);
  }

  assertEquals(sampleLines(ours.exposeText("prometheus")), sampleLines(await theirs.metrics()));
});
