/**
 * `deno run examples/metrics.ts [--openmetrics]`: runs a 1 kHz loop and a
 * 10 Hz loop on a Driver for one second, reporting into a MetricsRegistry,
 * then prints the scrape a Prometheus server would get (Prometheus text 0.0.4,
 * or OpenMetrics 1.0 with `--openmetrics`), then the lateness quantiles the
 * same registry gives as samples.
 *
 * @module
 */
import { Driver, MetricsRegistry } from "../mod.ts";

const format = Deno.args.includes("--openmetrics") ? "openmetrics" : "prometheus";
const metrics = new MetricsRegistry();
const driver = new Driver({ profile: "balanced", metrics, name: "example" });
await driver.warmUp();

const { promise, resolve } = Promise.withResolvers<void>();
let ticks = 0;
driver.every(1, () => {
  if (++ticks === 1000) resolve();
}, { latenessClass: "control" });
driver.every(100, () => {}, { latenessClass: "report" });
await promise;
driver.close();

await Deno.stdout.write(metrics.expose(format));

const count = metrics.flatten().find((s) =>
  s.name === "chronetix_timer_lateness_seconds_count" && s.labels.class === "control"
);
console.error(`\n${count?.value} control-loop fires recorded; lateness percentiles:`);
const l = driver.lateness("control");
console.error(
  `  p50 ${(l.p50 * 1000).toFixed(1)} µs  p99 ${(l.p99 * 1000).toFixed(1)} µs  max ${
    (l.max * 1000).toFixed(1)
  } µs`,
);
