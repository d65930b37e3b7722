import type { FamilyCore, SeriesRecord } from "./_core.ts";
import type { MetricType } from "./naming.ts";
import { show } from "../internal/validate.ts";

/** What every metric family has: its declaration and its series. */
export interface MetricFamily<H> {
  /** The metric name. */
  readonly name: string;
  /** The HELP text. */
  readonly help: string;
  /** The kind of metric. */
  readonly type: MetricType;
  /** The base unit, if any. */
  readonly unit: string | undefined;
  /** Label names, in the order values are given to {@linkcode MetricFamily.labels}. */
  readonly labelNames: readonly string[];
  /** Number of labelled series (the overflow series excluded). */
  readonly seriesCount: number;
  /**
   * Returns the handle of the series with these label values, creating the
   * series on first use. Resolve once and keep the handle on hot paths:
   * the handle's update is a single typed-array write, while this lookup
   * walks one map per label. Past the family's hard cardinality limit, new
   * label sets all get the one overflow series (`overflow="true"`).
   *
   * @param values One string per label name, in order.
   * @returns The series' handle.
   * @throws {TypeError} when the count of values is wrong or one is not a string.
   */
  labels(...values: string[]): H;
}

/** A counter series: only goes up. */
export interface Counter {
  /**
   * Adds `value` (default 1).
   *
   * @param value A finite number `>= 0`.
   * @throws {TypeError} when `value` is not a number.
   * @throws {RangeError} when `value` is negative or not finite.
   */
  inc(value?: number): void;
  /**
   * Raises the counter to `total`, for collectors that mirror a count kept
   * elsewhere (a component's own statistics).
   *
   * @param total The new total, not below the current value.
   * @throws {TypeError} when `total` is not a number.
   * @throws {RangeError} when `total` is below the current value or not finite.
   */
  advanceTo(total: number): void;
  /** The current value. */
  readonly value: number;
}

/**
 * A gauge series: goes up and down. It takes any number, `NaN` (unknown) and
 * the infinities included; anything else is a `TypeError`.
 */
export interface Gauge {
  /**
   * Sets the value.
   *
   * @param value The new value.
   * @throws {TypeError} when `value` is not a number.
   */
  set(value: number): void;
  /**
   * Adds `value` (default 1).
   *
   * @param value What to add.
   * @throws {TypeError} when `value` is not a number.
   */
  inc(value?: number): void;
  /**
   * Subtracts `value` (default 1).
   *
   * @param value What to subtract.
   * @throws {TypeError} when `value` is not a number.
   */
  dec(value?: number): void;
  /** The current value. */
  readonly value: number;
}

/**
 * A histogram series: counts observations into fixed buckets.
 *
 * Its sum must stay valid OpenMetrics, where a histogram's sum is a counter
 * (never negative, never going down). So a histogram whose bucket bounds are
 * all `>= 0` takes only observations `>= 0`; one with a negative bucket
 * bound takes negative observations too, and its OpenMetrics exposition
 * leaves out `_sum` and `_count`, as the OpenMetrics 1.0 specification
 * requires (Prometheus text 0.0.4 and `flatten()` keep them).
 */
export interface Histogram {
  /**
   * Records one observation.
   *
   * @param value The observed value in the metric's unit (seconds, bytes):
   * a finite number, `>= 0` unless a bucket bound is negative.
   * @throws {TypeError} when `value` is not a number.
   * @throws {RangeError} when `value` is `NaN`, infinite, or negative in a
   * histogram whose bucket bounds are all `>= 0`.
   */
  observe(value: number): void;
  /** Number of observations. */
  readonly count: number;
  /** Sum of observations. */
  readonly sum: number;
}

/** A family of counters. */
export type CounterFamily = MetricFamily<Counter>;
/** A family of gauges. */
export type GaugeFamily = MetricFamily<Gauge>;
/** A family of histograms, with its bucket bounds. */
export interface HistogramFamily extends MetricFamily<Histogram> {
  /** Upper bounds of the buckets, ascending (the `+Inf` bucket is implicit). */
  readonly buckets: readonly number[];
}

// The handles' checks are one `typeof` and one or two comparisons, inline;
// the messages are built out of line, only when a check fails.

/** The error for a value that is not a number, or out of range. */
function badNumber(action: string, parameter: string, rule: string, value: unknown): Error {
  return typeof value !== "number"
    ? new TypeError(
      `Cannot ${action} as '${parameter}' must be a number: current value is ${show(value)}`,
    )
    : new RangeError(
      `Cannot ${action} as '${parameter}' must be ${rule}: current value is ${value}`,
    );
}

function badObservation(name: string, value: unknown): Error {
  return badNumber(
    `observe a value for histogram '${name}'`,
    "value",
    typeof value === "number" && !Number.isFinite(value)
      ? "a finite number"
      : ">= 0 (its buckets are all >= 0)",
    value,
  );
}

class CounterHandle implements Counter {
  readonly #slots: Float64Array;
  readonly #i: number;
  readonly #name: string;
  constructor(series: SeriesRecord, name: string) {
    this.#slots = series.slots;
    this.#i = series.offset;
    this.#name = name;
  }
  inc(value = 1): void {
    if (typeof value !== "number" || !(value >= 0 && value < Infinity)) {
      throw badNumber(`increment counter '${this.#name}'`, "value", "a finite number >= 0", value);
    }
    this.#slots[this.#i]! += value;
  }
  advanceTo(total: number): void {
    const current = this.#slots[this.#i]!;
    if (typeof total !== "number" || !(total >= current) || total === Infinity) {
      throw badNumber(
        `advance counter '${this.#name}'`,
        "total",
        `finite and >= ${current}`,
        total,
      );
    }
    this.#slots[this.#i] = total;
  }
  get value(): number {
    return this.#slots[this.#i]!;
  }
}

class GaugeHandle implements Gauge {
  readonly #slots: Float64Array;
  readonly #i: number;
  readonly #name: string;
  constructor(series: SeriesRecord, name: string) {
    this.#slots = series.slots;
    this.#i = series.offset;
    this.#name = name;
  }
  set(value: number): void {
    if (typeof value !== "number") throw badNumber(`set gauge '${this.#name}'`, "value", "", value);
    this.#slots[this.#i] = value;
  }
  inc(value = 1): void {
    if (typeof value !== "number") {
      throw badNumber(`increment gauge '${this.#name}'`, "value", "", value);
    }
    this.#slots[this.#i]! += value;
  }
  dec(value = 1): void {
    if (typeof value !== "number") {
      throw badNumber(`decrement gauge '${this.#name}'`, "value", "", value);
    }
    this.#slots[this.#i]! -= value;
  }
  get value(): number {
    return this.#slots[this.#i]!;
  }
}

class HistogramHandle implements Histogram {
  readonly #slots: Float64Array;
  readonly #i: number;
  readonly #bounds: Float64Array;
  /** The lowest value taken: 0, or the lowest finite number when a bucket bound is negative. */
  readonly #min: number;
  readonly #name: string;
  constructor(series: SeriesRecord, bounds: Float64Array, name: string) {
    this.#slots = series.slots;
    this.#i = series.offset;
    this.#bounds = bounds;
    this.#min = bounds.length > 0 && bounds[0]! < 0 ? -Number.MAX_VALUE : 0;
    this.#name = name;
  }
  observe(value: number): void {
    // Two comparisons also refuse NaN and both infinities.
    if (typeof value !== "number" || !(value >= this.#min && value < Infinity)) {
      throw badObservation(this.#name, value);
    }
    const bounds = this.#bounds;
    const n = bounds.length;
    let b = 0;
    while (b < n && value > bounds[b]!) b++;
    const slots = this.#slots;
    const i = this.#i;
    slots[i + b]!++;
    slots[i + n + 1]! += value;
    slots[i + n + 2]!++;
  }
  get count(): number {
    return this.#slots[this.#i + this.#bounds.length + 2]!;
  }
  get sum(): number {
    return this.#slots[this.#i + this.#bounds.length + 1]!;
  }
}

class Family<H> implements MetricFamily<H> {
  readonly #core: FamilyCore<H>;
  constructor(core: FamilyCore<H>) {
    this.#core = core;
  }
  get name(): string {
    return this.#core.declaration.name;
  }
  get help(): string {
    return this.#core.declaration.help;
  }
  get type(): MetricType {
    return this.#core.declaration.type;
  }
  get unit(): string | undefined {
    return this.#core.declaration.unit;
  }
  get labelNames(): readonly string[] {
    return this.#core.declaration.labelNames;
  }
  get seriesCount(): number {
    return this.#core.seriesCount;
  }
  get buckets(): readonly number[] {
    return this.#core.declaration.buckets;
  }
  labels(...values: string[]): H {
    return this.#core.resolve(values);
  }
}

/** Builds the handle of a new series for a family of the given type. */
export function handleFactory(
  type: MetricType,
  name: string,
  buckets: readonly number[],
): (series: SeriesRecord) => Counter | Gauge | Histogram {
  if (type === "counter") return (series) => new CounterHandle(series, name);
  if (type === "gauge") return (series) => new GaugeHandle(series, name);
  const bounds = Float64Array.from(buckets);
  return (series) => new HistogramHandle(series, bounds, name);
}

/** Wraps a family's state in its public facade. */
export function familyFacade<H>(
  core: FamilyCore<H>,
): MetricFamily<H> & { buckets: readonly number[] } {
  return new Family(core);
}
