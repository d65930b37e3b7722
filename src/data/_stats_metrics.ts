// Exports a component's stats() snapshot as metrics: one table of metric
// declarations, each with the figure it reports, read on every scrape. The
// data path never touches the registry; the collector reads the snapshot.

import type { Counter, Gauge } from "../metrics/families.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";

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
 * Registers `metrics` with the label `label=name` and a collector that reads
 * `stats()`; disposing runs a final update, then stops it.
 */
export function exportStats<S>(
  registry: MetricsRegistry,
  label: string,
  name: string,
  stats: () => S,
  metrics: readonly StatMetric<S>[],
): Disposable {
  const feeds = metrics.map((m) => {
    const labelNames = m.extra === undefined ? [label] : [label, m.extra[0]];
    const values = m.extra === undefined ? [name] : [name, m.extra[1]];
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
