// The registry's own metrics: series per family, soft limit exceeded,
// overflow, collector errors. The registry runs the returned collect after
// every other collector, so the figures are current on the scrape that
// reads them (a collector may create series while the scrape runs).
import type { FamilyCore } from "./_core.ts";
import type { Counter, CounterFamily, Gauge, GaugeFamily } from "./families.ts";

/** What the self metrics need of the registry (kept structural: no import cycle). */
interface FamilyFactory {
  gauge(spec: { name: string; help: string; labelNames?: string[] }): GaugeFamily;
  counter(spec: { name: string; help: string; labelNames?: string[] }): CounterFamily;
}

/** What {@linkcode registerSelfMetrics} gives the registry. */
export interface SelfMetrics {
  /** Sets the figures of every family in `cores`; run last in a collect. */
  collect: () => void;
  /** `chronetix_metrics_collector_errors_total`. */
  collectorErrors: Counter;
}

/**
 * Registers the self metrics on `registry`; `cores` is the registry's live
 * list of families (read on every collect).
 */
export function registerSelfMetrics(
  registry: FamilyFactory,
  cores: readonly FamilyCore[],
): SelfMetrics {
  const series = registry.gauge({
    name: "chronetix_metrics_series",
    help: "Series in each metric family, the overflow series excluded",
    labelNames: ["family"],
  });
  const exceeded = registry.gauge({
    name: "chronetix_metrics_cardinality_soft_limit_exceeded",
    help: "Whether a metric family has more series than its soft cardinality limit (1) or not (0)",
    labelNames: ["family"],
  });
  const overflow = registry.counter({
    name: "chronetix_metrics_overflow_total",
    help:
      "Label sets of a metric family sent to its overflow series because its hard cardinality limit was reached",
    labelNames: ["family"],
  });
  const collectorErrors = registry.counter({
    name: "chronetix_metrics_collector_errors_total",
    help: "Collector calls that threw; the other collectors still ran",
  });
  const self = new Set([series.name, exceeded.name, overflow.name, collectorErrors.name]);
  // Handles resolved once per family, so a scrape does not allocate.
  const handles = new Map<FamilyCore, [Gauge, Gauge, Counter]>();
  const collect = () => {
    for (const core of cores) {
      const family = core.declaration.name;
      if (self.has(family)) continue;
      let h = handles.get(core);
      if (h === undefined) {
        h = [series.labels(family), exceeded.labels(family), overflow.labels(family)];
        handles.set(core, h);
      }
      h[0].set(core.seriesCount);
      h[1].set(core.softExceeded ? 1 : 0);
      h[2].advanceTo(core.overflowed);
    }
  };
  return { collect, collectorErrors: collectorErrors.labels() };
}
