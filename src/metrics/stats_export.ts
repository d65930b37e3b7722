// Exports a component's stats() snapshot as metrics: one table of metric
// declarations, each with the figure it reports, read on every scrape. The
// control path never touches the registry; the collector reads the snapshot.
// Shared by the components whose metrics have fixed label sets (allocator,
// port, ring, offload pool); not part of the public API.

import type { Counter, Gauge } from "./families.ts";
import type { MetricsRegistry } from "./registry.ts";

/** One metric fed from a stats snapshot of type `S`. */
export interface StatMetric<S> {
  name: string;
  help: string;
  type: "counter" | "gauge";
  unit?: string;
  /** An extra label and its value, for families split by reason. */
  extra?: readonly [label: string, value: string];
  value(stats: S): number;
}

/**
 * Registers `metrics`, each with the instance label `label` (when given) and
 * its own `extra` label, and a collector that reads `stats()`; disposing runs
 * a final update, then stops it.
 */
export function exportStats<S>(
  registry: MetricsRegistry,
  label: readonly [name: string, value: string] | undefined,
  stats: () => S,
  metrics: readonly StatMetric<S>[],
): Disposable {
  const feeds = metrics.map((m) => {
    const pairs = [label, m.extra].filter((p) => p !== undefined);
    const labelNames = pairs.map((p) => p[0]);
    const values = pairs.map((p) => p[1]);
    const declaration = { name: m.name, help: m.help, unit: m.unit, labelNames };
    if (m.type === "counter") {
      const counter: Counter = registry.counter(declaration).labels(...values);
      return (s: S) => counter.advanceTo(m.value(s));
    }
    const gauge: Gauge = registry.gauge(declaration).labels(...values);
    return (s: S) => gauge.set(m.value(s));
  });
  const collect = () => {
    const snapshot = stats();
    for (const feed of feeds) feed(snapshot);
  };
  const collector = registry.addCollector(collect);
  return {
    [Symbol.dispose]() {
      collect();
      collector[Symbol.dispose]();
    },
  };
}
