import { MetricsRegistry } from "../../src/metrics/registry.ts";

/** A registry holding every kind of metric, with labels, units and values. */
export function everyKindRegistry(): MetricsRegistry {
  const r = new MetricsRegistry();
  const requests = r.counter({
    name: "chronetix_demo_requests_total",
    help: "Requests handled, by method and code",
    labelNames: ["method", "code"],
  });
  requests.labels("GET", "200").inc(3);
  requests.labels("POST", "500").inc();
  r.counter({ name: "chronetix_demo_restarts_total", help: "Restarts" });
  r.gauge({ name: "chronetix_demo_temperature_celsius", help: "Temperature", unit: "celsius" })
    .labels().set(21.5);
  r.gauge({ name: "chronetix_demo_queue_depth", help: "Queue depth", labelNames: ["queue"] })
    .labels('in "a"').set(-2);
  const latency = r.histogram({
    name: "chronetix_demo_latency_seconds",
    help: "Latency by operation",
    unit: "seconds",
    labelNames: ["op"],
    buckets: [0.001, 0.01, 0.1],
  });
  const read = latency.labels("read");
  for (const v of [0.0005, 0.02, 3]) read.observe(v);
  latency.labels("write");
  r.histogram({
    name: "chronetix_demo_size_bytes",
    help: "Frame sizes",
    unit: "bytes",
    buckets: [64, 1024, 65536],
  }).labels().observe(1500);
  return r;
}
