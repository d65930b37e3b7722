/**
 * `deno run -A examples/app_metrics.ts [--openmetrics]`: an application's own
 * metrics next to the standard process and runtime ones. It registers
 * `myapp_*` families in a namespaced registry with default labels, adds
 * `collectDefaultMetrics`, serves `/metrics` on a free port with
 * `registry.toResponse(request)`, scrapes itself once like a Prometheus
 * server would, prints the scrape and the event-loop lag percentiles, and
 * ends.
 *
 * @module
 */
import { collectDefaultMetrics, MetricsRegistry } from "../mod.ts";

const registry = new MetricsRegistry({
  namespace: "myapp",
  defaultLabels: { instance: "edge-1", service: "gateway" },
});
const frames = registry.counter({
  name: "myapp_frames_received_total",
  help: "Frames received, by link",
  labelNames: ["link"],
});
const decode = registry.histogram({
  name: "myapp_decode_duration_seconds",
  help: "Time to decode one frame",
  unit: "seconds",
  buckets: [0.00001, 0.0001, 0.001, 0.01],
});
// A 10 ms probe (prom-client's period) so this short run gets a few dozen samples.
const defaults = collectDefaultMetrics(registry, { eventLoopResolutionMs: 10 });

// Some work to count: decode a few hundred fake frames on two links.
const links = [frames.labels("can0"), frames.labels("can1")];
const decodeTime = decode.labels();
for (let i = 0; i < 500; i++) {
  const t0 = performance.now();
  JSON.parse(JSON.stringify({ id: i, payload: [i, i * 2, i * 3] }));
  decodeTime.observe((performance.now() - t0) / 1000);
  links[i % 2]!.inc();
  // Yield through a timer now and then, so the event-loop probe runs.
  if (i % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 12));
}

const server = Deno.serve(
  { port: 0, hostname: "127.0.0.1", onListen: () => {} },
  (request) => registry.toResponse(request),
);
const accept = Deno.args.includes("--openmetrics")
  ? "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
  : "text/plain;version=0.0.4";
const response = await fetch(`http://127.0.0.1:${server.addr.port}/metrics`, {
  headers: { accept },
});
console.log(`# Content-Type: ${response.headers.get("content-type")}`);
console.log(await response.text());
await server.shutdown();

const lag = defaults.stats().eventLoopLag;
console.error(
  `event-loop lag over ${lag.count} probes: p50 ${lag.p50.toFixed(2)} ms, p99 ${
    lag.p99.toFixed(2)
  } ms, max ${lag.max.toFixed(2)} ms`,
);
defaults.close();
