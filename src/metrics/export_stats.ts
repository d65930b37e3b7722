// Exports a component's stats() snapshots as metrics: a table of metric
// declarations, each with the figure it reports, read by a collector on every
// scrape. The control path never touches the registry. This is the one place
// where collectors are fed from snapshots, run a final collect on dispose and
// carry counters over resets.

import { warnSafely } from "./_core.ts";
import type { Counter, Gauge } from "./families.ts";
import {
  type MetricsRegistry,
  registerAtomically,
  registryLogger,
  requireMetricsRegistry,
} from "./registry.ts";
import { requireFunction, requireOptions, show } from "../internal/validate.ts";

/**
 * One metric fed from a stats snapshot of type `S`, for
 * {@linkcode exportStats} and {@linkcode exportKeyedStats}.
 *
 * @typeParam S The snapshot (or keyed item) the value is read from.
 */
export interface StatMetric<S> {
  /** The metric name (`chronetix_<subsystem>_<name>[_<unit>]`; counters end in `_total`). */
  name: string;
  /** What it measures. */
  help: string;
  /**
   * `"counter"` for a count that only grows (it is carried over when the
   * source restarts from zero, so it never goes back), `"gauge"` otherwise.
   */
  type: "counter" | "gauge";
  /** A base unit (`seconds`, `bytes`, ...) that the name ends with. */
  unit?: string;
  /**
   * Extra fixed labels of this metric, for families split by a reason:
   * `{ reason: "credit" }`. They come after the instance (and key) labels.
   *
   * @default {{}}
   */
  labels?: Readonly<Record<string, string>>;
  /**
   * Reads the value from a snapshot. A counter ignores a value that is not a
   * finite number `>= 0`; a gauge takes any number (`NaN` when unknown).
   */
  value(stats: S): number;
}

/** Options of {@linkcode exportStats} and {@linkcode exportKeyedStats}. */
export interface ExportStatsOptions {
  /**
   * Labels naming the instance, put first on every series, so two instances
   * on one registry get distinct series: `{ pool: "render" }`.
   *
   * @default {{}}
   */
  labels?: Readonly<Record<string, string>>;
}

// Feeds one counter series from a source count that may restart from zero:
// a drop below the last value is taken as a restart and the count carried
// over, so the exported counter never goes back.
class CounterFeed {
  readonly #counter: Counter;
  #base: number;
  #last = 0;
  constructor(counter: Counter) {
    this.#counter = counter;
    // A series left by an earlier instance of the same name continues from there.
    this.#base = counter.value;
  }
  feed(value: number): void {
    if (!(value >= 0 && value !== Infinity)) return;
    if (value < this.#last) this.#base += this.#last;
    this.#last = value;
    const total = this.#base + value;
    if (total > this.#counter.value) this.#counter.advanceTo(total);
  }
  /** The source is gone: its next value, if it comes back, counts from here. */
  detach(): void {
    this.#base += this.#last;
    this.#last = 0;
  }
}

type Feed<S> = (stats: S) => void;

interface Row<S> {
  feeds: Feed<S>[];
  counters: CounterFeed[];
  seen: number;
}

/** A checked copy of one metric of the table: each field read once. */
interface CheckedMetric<S> {
  name: string;
  help: string;
  type: "counter" | "gauge";
  unit: string | undefined;
  labels: [string, string][];
  value: (stats: S) => number;
}

/**
 * Checks the table before anything is registered: each entry an object with
 * a `value` function and string labels (the registry checks the rest: name,
 * HELP, unit, type clashes).
 */
function checkMetrics<S>(action: string, metrics: unknown): CheckedMetric<S>[] {
  if (!Array.isArray(metrics)) {
    throw new TypeError(
      `Cannot ${action} as 'metrics' must be an array: current value is ${show(metrics)}`,
    );
  }
  return metrics.map((m: unknown, i) => {
    const at = `metrics[${i}]`;
    if (m === null || typeof m !== "object") {
      throw new TypeError(
        `Cannot ${action} as '${at}' must be a StatMetric object: current value is ${show(m)}`,
      );
    }
    const { name, help, type, unit, labels, value } = m as StatMetric<S>;
    if (type !== "counter" && type !== "gauge") {
      throw new TypeError(
        `Cannot ${action} as the type of metric ${
          show(name)
        } ('${at}.type') must be "counter" or "gauge": current value is ${show(type)}`,
      );
    }
    requireFunction(action, `${at}.value`, value);
    return { name, help, type, unit, labels: labelPairs(action, `${at}.labels`, labels), value };
  });
}

/** Fixed labels: an object whose values are strings of well-formed Unicode. */
function labelPairs(action: string, parameter: string, labels: unknown): [string, string][] {
  if (labels === undefined) return [];
  if (labels === null || typeof labels !== "object") {
    throw new TypeError(
      `Cannot ${action} as '${parameter}' must be an object: current value is ${show(labels)}`,
    );
  }
  const pairs = Object.entries(labels);
  for (const [name, value] of pairs) {
    if (typeof value !== "string" || !value.isWellFormed()) {
      throw new TypeError(
        `Cannot ${action} as '${parameter}' must map label names to strings of well-formed Unicode: current value of ${
          show(name)
        } is ${show(value)}`,
      );
    }
  }
  return pairs as [string, string][];
}

// Registers each metric's family with the instance labels, then `middle`
// (the key label, if any), then its own labels; returns a resolver of the
// series of one key.
function declare<S>(
  action: string,
  registry: MetricsRegistry,
  metrics: readonly CheckedMetric<S>[],
  instance: [string, string][],
  middle: string[],
): (middleValues: string[]) => Row<S> {
  const families = metrics.map((m) => {
    const own = m.labels;
    const labelNames = [...instance.map((p) => p[0]), ...middle, ...own.map((p) => p[0])];
    if (new Set(labelNames).size !== labelNames.length) {
      throw new TypeError(
        `Cannot ${action} as metric '${
          typeof m.name === "string" ? m.name : show(m.name)
        }' must have distinct label names: current names are ${labelNames.join(", ")}`,
      );
    }
    const declaration = { name: m.name, help: m.help, unit: m.unit, labelNames };
    const family = m.type === "counter"
      ? registry.counter(declaration)
      : registry.gauge(declaration);
    const before = instance.map((p) => p[1]);
    const after = own.map((p) => p[1]);
    return { metric: m, family, before, after };
  });
  return (middleValues) => {
    const row: Row<S> = { feeds: [], counters: [], seen: 0 };
    for (const { metric, family, before, after } of families) {
      const handle = family.labels(...before, ...middleValues, ...after);
      if (metric.type === "counter") {
        const feed = new CounterFeed(handle as Counter);
        row.counters.push(feed);
        row.feeds.push((s) => feed.feed(metric.value(s)));
      } else {
        const gauge = handle as Gauge;
        row.feeds.push((s) => {
          const value = metric.value(s);
          gauge.set(typeof value === "number" ? value : NaN);
        });
      }
    }
    return row;
  };
}

// Adds `collect` as a collector; disposing runs it one last time, then removes it.
function collector(registry: MetricsRegistry, collect: () => void): Disposable {
  const registration = registry.addCollector(collect);
  let disposed = false;
  return {
    [Symbol.dispose]() {
      if (disposed) return;
      disposed = true;
      try {
        collect();
      } catch (error) {
        warnSafely(
          registryLogger(registry),
          `Metrics collector threw on its final collect, its values may be stale: ${
            error instanceof Error ? error.message : show(error)
          }`,
        );
      } finally {
        registration[Symbol.dispose]();
      }
    },
  };
}

/**
 * Exports a component's statistics as metrics: registers each metric in
 * `metrics` and a collector that calls `stats()` before every scrape and
 * sets each metric from the snapshot. Nothing is written on the component's
 * hot path. Disposing the returned handle runs one final collect (so the
 * last figures are kept), then removes the collector; the series stay.
 *
 * A counter never goes back: when its value drops (the source restarted),
 * the count so far is carried over; a new export whose series already exist
 * (an instance of the same name replaced) continues from their values.
 *
 * @typeParam S The snapshot type.
 * @param registry Where the metrics are registered.
 * @param stats Returns the current snapshot; keep it quick.
 * @param metrics What to export, one entry per series.
 * @param options Instance labels.
 * @returns A disposable that runs a final collect, then stops collecting.
 * @throws {TypeError} when an argument has the wrong type, a metric's
 * declaration is invalid or clashes with an existing one, or label names
 * repeat. A rejected call registers nothing.
 *
 * @example Exporting a queue's statistics
 * ```ts
 * import { exportStats, MetricsRegistry, type StatMetric } from "@chronetix/core";
 * import { assertStringIncludes } from "@std/assert";
 *
 * interface QueueStats { depth: number; accepted: number }
 * const queueStats: QueueStats = { depth: 0, accepted: 0 };
 * const metrics: StatMetric<QueueStats>[] = [
 *   { name: "chronetix_demo_queue_depth", help: "Items waiting", type: "gauge", value: (s) => s.depth },
 *   { name: "chronetix_demo_accepted_total", help: "Items accepted", type: "counter", value: (s) => s.accepted },
 * ];
 * const registry = new MetricsRegistry();
 * {
 *   using _export = exportStats(registry, () => queueStats, metrics, { labels: { queue: "in" } });
 *   queueStats.depth = 3;
 *   queueStats.accepted = 7;
 *   assertStringIncludes(registry.exposeText(), 'chronetix_demo_queue_depth{queue="in"} 3\n');
 *   queueStats.accepted = 9;
 * } // disposed: one final collect
 * assertStringIncludes(registry.exposeText(), 'chronetix_demo_accepted_total{queue="in"} 9\n');
 * ```
 */
export function exportStats<S>(
  registry: MetricsRegistry,
  stats: () => S,
  metrics: readonly StatMetric<S>[],
  options: ExportStatsOptions = {},
): Disposable {
  const action = "export stats";
  requireMetricsRegistry(action, "registry", registry);
  requireFunction(action, "stats", stats);
  const checked = checkMetrics<S>(action, metrics);
  requireOptions(action, "options", options);
  const instance = labelPairs(action, "options.labels", options.labels);
  const { feeds } = registerAtomically(
    registry,
    () => declare(action, registry, checked, instance, [])([]),
  );
  return collector(registry, () => {
    const snapshot = stats();
    for (const feed of feeds) feed(snapshot);
  });
}

/**
 * Exports per-key statistics (per task, per topic) as metric families with
 * one series per key: before every scrape, calls `items()` and sets each
 * item's series, labelled `key.label="<key.of(item)>"` after the instance
 * labels. Disposing runs one final collect, then removes the collector.
 *
 * A key that disappears keeps its series at their last values; when it comes
 * back, its counters continue from there (never going back). When two items
 * share a key in one collect, the first one is exported. There is no
 * all-keys total series: sum over the key label instead.
 *
 * @typeParam S The type of one item.
 * @param registry Where the metrics are registered.
 * @param items Returns the current items (an array, a map's values); keep it quick.
 * @param key The label that tells items apart, and how to read it from an item.
 * @param metrics What to export per item.
 * @param options Instance labels.
 * @returns A disposable that runs a final collect, then stops collecting.
 * @throws {TypeError} when an argument has the wrong type, a metric's
 * declaration is invalid or clashes with an existing one, or label names
 * repeat. A rejected call registers nothing. A key that is not a string of
 * well-formed Unicode is found at collect time: that item is skipped and the
 * collector reports it (counted and logged by the registry).
 *
 * @example Exporting per-topic counts
 * ```ts
 * import { exportKeyedStats, MetricsRegistry } from "@chronetix/core";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const topics = new Map([["alerts", { name: "alerts", sent: 2 }]]);
 * const registry = new MetricsRegistry();
 * using _export = exportKeyedStats(
 *   registry,
 *   () => topics.values(),
 *   { label: "topic", of: (t) => t.name },
 *   [{ name: "chronetix_demo_sent_total", help: "Messages sent", type: "counter", value: (t) => t.sent }],
 *   { labels: { bus: "main" } },
 * );
 * assertStringIncludes(registry.exposeText(), 'chronetix_demo_sent_total{bus="main",topic="alerts"} 2\n');
 * topics.delete("alerts"); // the series keeps its last value
 * assertStringIncludes(registry.exposeText(), 'chronetix_demo_sent_total{bus="main",topic="alerts"} 2\n');
 * ```
 */
export function exportKeyedStats<S>(
  registry: MetricsRegistry,
  items: () => Iterable<S>,
  key: { label: string; of(item: S): string },
  metrics: readonly StatMetric<S>[],
  options: ExportStatsOptions = {},
): Disposable {
  const action = "export keyed stats";
  requireMetricsRegistry(action, "registry", registry);
  requireFunction(action, "items", items);
  if (key === null || typeof key !== "object" || typeof key.of !== "function") {
    throw new TypeError(
      `Cannot ${action} as 'key' must be an object with a label and an of() function: current value is ${
        show(key)
      }`,
    );
  }
  const { label, of } = key;
  if (typeof label !== "string") {
    throw new TypeError(
      `Cannot ${action} as 'key.label' must be a string: current value is ${show(label)}`,
    );
  }
  const checked = checkMetrics<S>(action, metrics);
  requireOptions(action, "options", options);
  const instance = labelPairs(action, "options.labels", options.labels);
  const row = registerAtomically(
    registry,
    () => declare(action, registry, checked, instance, [label]),
  );
  const rows = new Map<string, Row<S>>();
  const present = new Set<Row<S>>();
  let generation = 0;
  return collector(registry, () => {
    const current = ++generation;
    // One bad item (a key that is not a label value, a throwing getter)
    // does not stop the others; the first error is reported at the end.
    let failure: { error: unknown } | undefined;
    for (const item of items()) {
      try {
        const k = of.call(key, item);
        let r = rows.get(k);
        if (r === undefined) {
          r = row([k]);
          rows.set(k, r);
        }
        if (r.seen === current) continue;
        r.seen = current;
        present.add(r);
        for (const feed of r.feeds) feed(item);
      } catch (error) {
        failure ??= { error };
      }
    }
    for (const r of present) {
      if (r.seen === current) continue;
      present.delete(r);
      for (const counter of r.counters) counter.detach();
    }
    if (failure !== undefined) throw failure.error;
  });
}
