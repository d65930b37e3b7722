// The metrics of a Driver: per-class lateness histograms and fire counters,
// written through pre-resolved handles on every fire (a typed-array write),
// and the wake-up and wheel counters, read from a stats snapshot at scrape
// time.
import { exportStats, type StatMetric } from "../metrics/export_stats.ts";
import type { Counter, CounterFamily, Histogram, HistogramFamily } from "../metrics/families.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import type { TimerWheelStats } from "./timer_wheel.ts";

/** Bucket bounds of `chronetix_timer_lateness_seconds`, 1 µs to 1 s. */
export const TIMER_LATENESS_BUCKETS: readonly number[] = [
  0.000001,
  0.000005,
  0.00001,
  0.000025,
  0.00005,
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.1,
  1,
];

/** What the scrape-time metrics read: a `DriverStats` snapshot is one. */
export interface DriverMetricSource {
  /** The wheel's counters. */
  readonly wheel: Readonly<TimerWheelStats>;
  /** Wake-up counts by mode, spin time and the current lead, in milliseconds. */
  readonly wakes: Readonly<
    Record<
      "far" | "near" | "block" | "imminent" | "early" | "spinMs" | "blockMs" | "leadMs",
      number
    >
  >;
}

/** The handles of one lateness class, resolved once and kept by its timers. */
export interface ClassMetrics {
  /** `chronetix_timer_lateness_seconds{driver, class}`. */
  readonly lateness: Histogram;
  /** `chronetix_timer_fires_total{driver, class}`. */
  readonly fires: Counter;
}

const WAKE_MODES = ["far", "near", "block", "imminent", "early"] as const;

const SOURCE_METRICS: readonly StatMetric<DriverMetricSource>[] = [
  {
    name: "chronetix_timer_callback_errors_total",
    help:
      "Timer callbacks that threw or returned a promise that rejected; the other timers kept running",
    type: "counter",
    value: (s) => s.wheel.callbackErrors,
  },
  {
    name: "chronetix_timer_skipped_ticks_total",
    help: "Periodic ticks skipped after a stall by the skip missed-tick policy",
    type: "counter",
    value: (s) => s.wheel.skippedTicks,
  },
  {
    name: "chronetix_timer_pending",
    help: "Timers scheduled and not yet fired or cancelled",
    type: "gauge",
    value: (s) => s.wheel.pending,
  },
  ...WAKE_MODES.map((mode): StatMetric<DriverMetricSource> => ({
    name: "chronetix_driver_wakeups_total",
    help: "Wake-ups armed by the driver, by mode (far, near, block, imminent) and early wake-ups",
    type: "counter",
    labels: { mode },
    value: (s) => s.wakes[mode],
  })),
  {
    name: "chronetix_driver_spin_seconds_total",
    help: "Time the driver spent spinning on the clock just before deadlines",
    type: "counter",
    unit: "seconds",
    value: (s) => s.wakes.spinMs / 1000,
  },
  {
    name: "chronetix_driver_block_seconds_total",
    help: "Time the driver held the main thread blocked in Atomics.wait just before deadlines",
    type: "counter",
    unit: "seconds",
    value: (s) => s.wakes.blockMs / 1000,
  },
  {
    name: "chronetix_driver_lead_seconds",
    help: "Current lead of near wake-ups, adapted to the measured wake-up latency",
    type: "gauge",
    unit: "seconds",
    value: (s) => s.wakes.leadMs / 1000,
  },
];

/**
 * A driver's metrics on one registry, every series labelled
 * `driver="<name>"`, so two drivers on one registry report apart.
 *
 * @example Per-class handles and scrape-time figures
 * ```ts
 * import { DriverMetrics } from "./_driver_metrics.ts";
 * import { MetricsRegistry } from "../metrics/registry.ts";
 * import { TimerWheel } from "./timer_wheel.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const registry = new MetricsRegistry();
 * const wheel = new TimerWheel();
 * wheel.schedule(5, () => {});
 * const wakes = { far: 1, near: 0, block: 0, imminent: 0, early: 0, spinMs: 0, blockMs: 0, leadMs: 0.15 };
 * using metrics = new DriverMetrics(registry, "main", () => ({ wheel: wheel.stats(), wakes }));
 * metrics.classMetrics("loop").fires.inc();
 * const text = registry.exposeText();
 * assertStringIncludes(text, 'chronetix_timer_fires_total{driver="main",class="loop"} 1\n');
 * assertStringIncludes(text, 'chronetix_timer_pending{driver="main"} 1\n');
 * assertStringIncludes(text, 'chronetix_driver_wakeups_total{driver="main",mode="far"} 1\n');
 * ```
 */
export class DriverMetrics implements Disposable {
  readonly #name: string;
  readonly #lateness: HistogramFamily;
  readonly #fires: CounterFamily;
  readonly #export: Disposable;

  /**
   * Registers every family (so the inventory lists them before any fire)
   * and a collector that reads `source()` at scrape time.
   *
   * @param registry Where to report.
   * @param name The `driver` label.
   * @param source Returns the driver's current figures.
   */
  constructor(registry: MetricsRegistry, name: string, source: () => DriverMetricSource) {
    this.#name = name;
    this.#lateness = registry.histogram({
      name: "chronetix_timer_lateness_seconds",
      help: "How late timers fired: fire time minus deadline, by driver and lateness class",
      unit: "seconds",
      labelNames: ["driver", "class"],
      buckets: TIMER_LATENESS_BUCKETS,
    });
    this.#fires = registry.counter({
      name: "chronetix_timer_fires_total",
      help: "Timer callbacks run, by driver and lateness class",
      labelNames: ["driver", "class"],
    });
    this.#export = exportStats(registry, source, SOURCE_METRICS, {
      labels: { driver: name },
    });
  }

  /**
   * Resolves the handles of a lateness class, once per class.
   *
   * @param latenessClass The class name.
   * @returns Its lateness histogram and fire counter.
   */
  classMetrics(latenessClass: string): ClassMetrics {
    return {
      lateness: this.#lateness.labels(this.#name, latenessClass),
      fires: this.#fires.labels(this.#name, latenessClass),
    };
  }

  /** Collects one last time, then stops collecting; the series stay. */
  [Symbol.dispose](): void {
    this.#export[Symbol.dispose]();
  }
}
