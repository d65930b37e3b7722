import type { FamilyCore, SeriesRecord } from "./_core.ts";
import type { MetricType } from "./naming.ts";

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
   * @throws {RangeError} when `value` is negative or not finite.
   */
  inc(value?: number): void;
  /**
   * Raises the counter to `total`, for collectors that mirror a count kept
   * elsewhere (a component's own statistics).
   *
   * @param total The new total, not below the current value.
   * @throws {RangeError} when `total` is below the current value or not finite.
   */
  advanceTo(total: number): void;
  /** The current value. */
  readonly value: number;
}

/** A gauge series: goes up and down. */
export interface Gauge {
  /** Sets the value. */
  set(value: number): void;
  /** Adds `value` (default 1). */
  inc(value?: number): void;
  /** Subtracts `value` (default 1). */
  dec(value?: number): void;
  /** The current value. */
  readonly value: number;
}

/** A histogram series: counts observations into fixed buckets. */
export interface Histogram {
  /**
   * Records one observation.
   *
   * @param value The observed value in the metric's unit (seconds, bytes).
   * @throws {RangeError} when `value` is `NaN`.
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
    if (!(value >= 0 && value !== Infinity)) {
      throw new RangeError(
        `Cannot increment counter '${this.#name}' as 'value' must be a finite number >= 0: current value is ${value}`,
      );
    }
    this.#slots[this.#i]! += value;
  }
  advanceTo(total: number): void {
    const current = this.#slots[this.#i]!;
    if (!(total >= current && total !== Infinity)) {
      throw new RangeError(
        `Cannot advance counter '${this.#name}' as 'total' must be finite and >= ${current}: current value is ${total}`,
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
  constructor(series: SeriesRecord) {
    this.#slots = series.slots;
    this.#i = series.offset;
  }
  set(value: number): void {
    this.#slots[this.#i] = value;
  }
  inc(value = 1): void {
    this.#slots[this.#i]! += value;
  }
  dec(value = 1): void {
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
  readonly #name: string;
  constructor(series: SeriesRecord, bounds: Float64Array, name: string) {
    this.#slots = series.slots;
    this.#i = series.offset;
    this.#bounds = bounds;
    this.#name = name;
  }
  observe(value: number): void {
    if (value !== value) {
      throw new RangeError(`Cannot observe a value for histogram '${this.#name}' as it is NaN`);
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
  if (type === "gauge") return (series) => new GaugeHandle(series);
  const bounds = Float64Array.from(buckets);
  return (series) => new HistogramHandle(series, bounds, name);
}

/** Wraps a family's state in its public facade. */
export function familyFacade<H>(
  core: FamilyCore<H>,
): MetricFamily<H> & { buckets: readonly number[] } {
  return new Family(core);
}
