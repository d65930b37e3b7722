import {
  type CardinalityLimits,
  type DefaultLabelSet,
  defaultLabelSet,
  FamilyCore,
} from "./_core.ts";
import { ExpositionEncoder } from "./_encode.ts";
import {
  EXPOSITION_FORMATS,
  expositionContentType,
  type ExpositionFormat,
  negotiateExpositionFormat,
} from "./exposition.ts";
import {
  type Counter,
  type CounterFamily,
  familyFacade,
  type Gauge,
  type GaugeFamily,
  handleFactory,
  type Histogram,
  type HistogramFamily,
} from "./families.ts";
import type { MetricType } from "./naming.ts";
import { checkDeclaration } from "./_declaration.ts";
import { registerSelfMetrics } from "./_self_metrics.ts";
import { type Sample, SampleBuffer } from "./sample.ts";
import {
  requireFunction,
  requireLogger,
  requireOneOf,
  requireOptions,
  show,
} from "../internal/validate.ts";
import { LogLimiter } from "../internal/log_limiter.ts";
import {
  checkDefaultLabels,
  DEFAULT_HARD_LIMIT,
  DEFAULT_SOFT_LIMIT,
  describeError,
  envLimit,
  limits,
  optionalLimit,
  requireNamespace,
  requireSampleBuffer,
  takenNames,
} from "./_registry_checks.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";

/** Options shared by every metric. */
export interface MetricOptions {
  /**
   * `<prefix>_<name>[_<unit>]` in lower snake case (`myapp_frames_received_total`);
   * counters end in `_total`. The `chronetix_` prefix is the library's own:
   * names under it follow `chronetix_<subsystem>_<name>[_<unit>]`.
   */
  name: string;
  /** What it measures: required, non-empty, no trailing period. */
  help: string;
  /** A base unit (`seconds`, `bytes`, ...) that the name ends with. */
  unit?: string;
  /**
   * Label names, in the order values are given to `labels()`.
   *
   * @default {[]}
   */
  labelNames?: readonly string[];
  /** This family's soft cardinality limit; see {@linkcode MetricsRegistryOptions}. */
  softLimit?: number;
  /** This family's hard cardinality limit; see {@linkcode MetricsRegistryOptions}. */
  hardLimit?: number;
}

/** Options of a histogram. */
export interface HistogramOptions extends MetricOptions {
  /**
   * Upper bounds of the buckets, strictly ascending and finite; `+Inf` is
   * implicit.
   *
   * @default {latency buckets in seconds, from 5 µs (0.000005) to 10 s, 1-2.5-5 per decade}
   */
  buckets?: readonly number[];
}

/** Options of a {@linkcode MetricsRegistry}. */
export interface MetricsRegistryOptions {
  /**
   * Series per family past which the registry warns once and exports
   * `chronetix_metrics_cardinality_soft_limit_exceeded{family}` = 1.
   * Also from `CHRONETIX_CARDINALITY_SOFT_LIMIT` when env access is granted.
   *
   * @default {1000, or the hard limit when that is lower}
   */
  softLimit?: number;
  /**
   * Series per family past which new label sets all go to one overflow
   * series labelled `overflow="true"`, counted in
   * `chronetix_metrics_overflow_total{family}`. Existing series are not
   * affected. Also from `CHRONETIX_CARDINALITY_HARD_LIMIT`.
   *
   * @default {2000}
   */
  hardLimit?: number;
  /**
   * Receives warnings (`logger.warn`): a soft cardinality limit crossed, a
   * collector that threw.
   *
   * @default {CONSOLE_LOGGER}
   */
  logger?: Logger;
  /**
   * Register the registry's own metrics (series per family, soft limit
   * exceeded, overflow).
   *
   * @default {true}
   */
  selfMetrics?: boolean;
  /**
   * When set, every family registered must be named `<namespace>_...`
   * (`"myapp"`: `myapp_frames_received_total`), so a typo'd or foreign name
   * is refused at registration. The library's own `chronetix_` families
   * (kernel components sharing the registry) and the standard families of
   * {@linkcode collectDefaultMetrics} (`process_*`, `nodejs_*`, `deno_*`)
   * are exempt. Lower snake case, no trailing underscore.
   *
   * @default {undefined: any valid name}
   */
  namespace?: string;
  /**
   * Labels added to every series of this registry, in both formats and in
   * `flatten()`: `{ instance: "edge-1", service: "gateway" }`. They come after
   * each series' own labels. A family that declares a label of the same
   * name is refused at registration (a `TypeError` naming both), rather than
   * one silently winning. Names follow the label-name rules (not `le`,
   * `quantile`, `overflow`, `__*`); values are strings of well-formed Unicode.
   * With `selfMetrics` on, `family` is taken by the registry's own metrics.
   *
   * @default {{}}
   */
  defaultLabels?: Readonly<Record<string, string>>;
}

/** One metric in the inventory: what `docs/metrics.md` is generated from. */
export interface MetricInventoryEntry {
  /** The metric name. */
  name: string;
  /** Counter, gauge or histogram. */
  type: MetricType;
  /** The base unit, or `""`. */
  unit: string;
  /** The HELP text. */
  help: string;
  /** Label names. */
  labels: string[];
}

/** Bucket bounds for latencies in seconds, from 5 µs to 10 s. */
export const DEFAULT_LATENCY_BUCKETS: readonly number[] = [
  ...[0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005],
  ...[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
];

// Set by MetricsRegistry's static block: the friend functions below reach a
// registry's logger and registration without a public accessor.
let loggerOf: (registry: MetricsRegistry) => Logger;
let atomically: <T>(registry: MetricsRegistry, register: () => T) => T;
let standardly: <T>(registry: MetricsRegistry, register: () => T) => T;

/** The logger a registry reports to, for the metrics layer's own helpers. */
export function registryLogger(registry: MetricsRegistry): Logger {
  return loggerOf(registry);
}

/**
 * Runs `register`, which registers families; when it throws, the families it
 * registered are removed again, so a rejected call leaves the registry as it
 * was. For the metrics layer's helpers that register several families.
 */
export function registerAtomically<T>(registry: MetricsRegistry, register: () => T): T {
  return atomically(registry, register);
}

/**
 * Like {@linkcode registerAtomically}, for the standard families of
 * `collectDefaultMetrics` (`process_*`, `nodejs_*`, `deno_*`): they are
 * registered whatever the registry's namespace.
 */
export function registerStandardAtomically<T>(registry: MetricsRegistry, register: () => T): T {
  return standardly(registry, register);
}

/**
 * Throws a `TypeError` unless `value` is a {@linkcode MetricsRegistry}: a
 * component's `metrics` option, checked where it is given rather than at the
 * first scrape.
 *
 * @param action What the caller was doing (`create an EventBus`).
 * @param name The parameter as the caller wrote it (`metrics`).
 * @param value The value to check.
 * @returns The registry.
 */
export function requireMetricsRegistry(
  action: string,
  name: string,
  value: unknown,
): MetricsRegistry {
  if (!(value instanceof MetricsRegistry)) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a MetricsRegistry: current value is ${show(value)}`,
    );
  }
  return value;
}

/**
 * Holds counters, gauges and histograms, and writes them out.
 *
 * A metric is created once with its name, HELP text, unit and label names,
 * and hands out handles: `handle.inc()` is one typed-array write, with no
 * allocation or hashing. Names and HELP are checked when a metric is
 * created: any lower-snake-case name with a prefix (`myapp_frames_total`),
 * the `chronetix_` prefix being the library's own; a `namespace` option
 * refuses names outside yours, and `defaultLabels` go on every series.
 * Families are protected against label explosions by a soft and a hard
 * cardinality limit. The registry writes Prometheus text 0.0.4 or
 * OpenMetrics 1.0 into a reused buffer, and gives the samples as objects
 * ({@linkcode MetricsRegistry.flatten}) or into a reusable buffer
 * ({@linkcode MetricsRegistry.flattenInto}).
 *
 * @example Counting requests and exposing them
 * ```ts
 * import { MetricsRegistry } from "@chronetix/core";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const registry = new MetricsRegistry();
 * const requests = registry.counter({
 *   name: "chronetix_demo_requests_total",
 *   help: "Requests handled, by method",
 *   labelNames: ["method"],
 * });
 * const get = requests.labels("GET"); // resolve once, keep the handle
 * get.inc();
 * get.inc(2);
 * const text = registry.exposeText("prometheus");
 * assertStringIncludes(text, '# TYPE chronetix_demo_requests_total counter\n');
 * assertStringIncludes(text, 'chronetix_demo_requests_total{method="GET"} 3\n');
 * ```
 */
export class MetricsRegistry {
  readonly #cores: FamilyCore[] = [];
  readonly #byName = new Map<string, { core: FamilyCore; facade: unknown }>();
  /** Every name a family takes (see `takenNames`), with the family's name. */
  readonly #taken = new Map<string, string>();
  readonly #collectors = new Set<() => void>();
  /** The self metrics' collector: run after the others, so it sees the series they made. */
  #selfCollect: (() => void) | undefined;
  readonly #namespace: string | undefined;
  readonly #defaults: DefaultLabelSet;
  /** Above 0 while standard families are registered: the namespace does not apply. */
  #standard = 0;
  readonly #limits: CardinalityLimits;
  readonly #logger: Logger;
  readonly #collectorLog: LogLimiter;
  /** `chronetix_metrics_collector_errors_total`, when self metrics are on. */
  #collectorErrors: Counter | undefined;
  readonly #encoder = new ExpositionEncoder();
  readonly #decoder = new TextDecoder();
  #collecting = false;

  static {
    loggerOf = (registry) => registry.#logger;
    atomically = (registry, register) => registry.#atomically(register);
    standardly = (registry, register) => {
      registry.#standard++;
      try {
        return registry.#atomically(register);
      } finally {
        registry.#standard--;
      }
    };
  }

  /**
   * Creates an empty registry.
   *
   * @param options Default cardinality limits, logger, self metrics,
   * namespace, default labels.
   * @throws {TypeError} when `options` is not an object, `logger` is not a
   * Logger, `selfMetrics` is not a boolean, `namespace` is not lower snake
   * case, or a default label has an invalid name or value (or is `family`
   * while self metrics are on).
   * @throws {RangeError} when a limit is not a positive integer, or the soft
   * limit exceeds the hard one.
   */
  constructor(options: MetricsRegistryOptions = {}) {
    const action = "create a MetricsRegistry";
    requireOptions(action, "options", options);
    const { softLimit, hardLimit, logger, selfMetrics, namespace, defaultLabels } = options;
    const hard = optionalLimit(action, "hardLimit", hardLimit) ??
      envLimit("CHRONETIX_CARDINALITY_HARD_LIMIT") ?? DEFAULT_HARD_LIMIT;
    // A default soft limit never exceeds the hard one it is paired with.
    const soft = optionalLimit(action, "softLimit", softLimit) ??
      envLimit("CHRONETIX_CARDINALITY_SOFT_LIMIT") ?? Math.min(DEFAULT_SOFT_LIMIT, hard);
    if (selfMetrics !== undefined && typeof selfMetrics !== "boolean") {
      throw new TypeError(
        `Cannot ${action} as 'selfMetrics' must be a boolean: current value is ${
          show(selfMetrics)
        }`,
      );
    }
    requireNamespace(action, namespace);
    this.#namespace = namespace;
    const defaults = checkDefaultLabels(action, defaultLabels);
    if (selfMetrics !== false && defaults.some(([name]) => name === "family")) {
      throw new TypeError(
        `Cannot ${action} as 'defaultLabels' must not hold "family", a label of the registry's own metrics: rename it or set 'selfMetrics' to false`,
      );
    }
    this.#defaults = defaultLabelSet(defaults);
    this.#limits = limits(action, soft, hard);
    this.#logger = requireLogger(action, "logger", logger ?? CONSOLE_LOGGER);
    this.#collectorLog = new LogLimiter(this.#logger);
    if (selfMetrics !== false) this.#registerSelfMetrics();
  }

  /**
   * Creates a counter family, or returns the existing one of that name when
   * its declaration is identical. A rejected call registers nothing.
   *
   * @param options Name, HELP, unit, labels, limits.
   * @returns The family.
   * @throws {TypeError} when an option has the wrong type, the name or HELP
   * breaks the rules, the name is taken by a different declaration, or its
   * sample names clash with another family's (`x_total` and `x`).
   * @throws {RangeError} when a limit is not a positive integer.
   */
  counter(options: MetricOptions): CounterFamily {
    return this.#family<Counter>("counter", options);
  }

  /**
   * Creates a gauge family (or returns the identical existing one). A
   * rejected call registers nothing.
   *
   * @param options Name, HELP, unit, labels, limits.
   * @returns The family.
   * @throws {TypeError} when an option has the wrong type, the name or HELP
   * breaks the rules, the name is taken by a different declaration, or it
   * clashes with another family's sample names (a histogram `x` prints
   * `x_count`).
   * @throws {RangeError} when a limit is not a positive integer.
   */
  gauge(options: MetricOptions): GaugeFamily {
    return this.#family<Gauge>("gauge", options);
  }

  /**
   * Creates a histogram family (or returns the identical existing one). A
   * rejected call registers nothing.
   *
   * A histogram whose bucket bounds are all `>= 0` takes observations
   * `>= 0`; give it a negative bound to observe negative values, and its
   * OpenMetrics exposition leaves out `_sum` and `_count` (see
   * {@linkcode Histogram}).
   *
   * @param options Name, HELP, unit, labels, limits and buckets.
   * @returns The family.
   * @throws {TypeError} when an option has the wrong type, the name or HELP
   * breaks the rules, the name is taken by a different declaration, or its
   * sample names clash with another family's.
   * @throws {RangeError} when the buckets are empty, not finite or not
   * strictly ascending, or a limit is not a positive integer.
   */
  histogram(options: HistogramOptions): HistogramFamily {
    return this.#family<Histogram>("histogram", options) as HistogramFamily;
  }

  /**
   * Adds a callback run before every scrape and flatten, to set values that
   * are read at scrape time (queue depth, RSS) instead of pushed.
   *
   * To export a component's `stats()` snapshot, use `exportStats` or
   * `exportKeyedStats`, which add a collector and run a final collect when
   * disposed.
   *
   * @example Reading a queue's depth at scrape time
   * ```ts
   * import { MetricsRegistry } from "@chronetix/core";
   * import { assertStringIncludes } from "@std/assert";
   *
   * const registry = new MetricsRegistry({ selfMetrics: false });
   * const queue: string[] = ["a", "b"];
   * const depth = registry.gauge({ name: "chronetix_demo_queue_depth", help: "Items waiting" }).labels();
   * using _collector = registry.addCollector(() => depth.set(queue.length));
   * assertStringIncludes(registry.exposeText(), "chronetix_demo_queue_depth 2\n");
   * queue.pop();
   * assertStringIncludes(registry.exposeText(), "chronetix_demo_queue_depth 1\n");
   * ```
   *
   * @param collect Sets gauges or advances counters; keep it quick.
   * @returns A disposable that removes the collector.
   * @throws {TypeError} when `collect` is not a function.
   */
  addCollector(collect: () => void): Disposable {
    requireFunction("add a collector", "collect", collect);
    this.#collectors.add(collect);
    return { [Symbol.dispose]: () => void this.#collectors.delete(collect) };
  }

  /**
   * Runs the collectors. Scrapes and flattens do this themselves; a throwing
   * collector does not stop the others: it is counted
   * (`chronetix_metrics_collector_errors_total`) and logged through the
   * logger (`logger.error`, at most one line a second).
   */
  collect(): void {
    if (this.#collecting) return;
    this.#collecting = true;
    try {
      for (const collect of this.#collectors) {
        try {
          collect();
        } catch (error) {
          this.#collectorErrors?.inc();
          try {
            this.#collectorLog.error(
              "collector",
              performance.now(),
              `Metrics collector threw, its values may be stale: ${describeError(error)}`,
            );
          } catch {
            // A throwing logger is contained too: the scrape goes on.
          }
        }
      }
      // Last, so the series the other collectors just made are counted.
      this.#selfCollect?.();
    } finally {
      this.#collecting = false;
    }
  }

  /**
   * Writes every family in the given format into the registry's reused
   * buffer. The returned view is valid until the next call.
   *
   * The bytes are a `BodyInit`: `new Response(registry.expose())` works
   * (the `Response` copies them). {@linkcode MetricsRegistry.toResponse} also
   * sets the `Content-Type` and negotiates the format.
   *
   * @param format `"prometheus"` (text 0.0.4) or `"openmetrics"` (1.0).
   * @returns UTF-8 bytes, ending with a newline (and `# EOF` for OpenMetrics).
   * @throws {TypeError} when `format` is not one of the two.
   */
  expose(format: ExpositionFormat = "prometheus"): Uint8Array<ArrayBuffer> {
    requireOneOf("expose metrics", "format", format, EXPOSITION_FORMATS);
    this.collect();
    return this.#encoder.encode(this.#cores, format);
  }

  /**
   * Scrapes the registry into an HTTP `Response` with the right
   * `Content-Type`: given a `Request`, the format is negotiated from its
   * `Accept` header (OpenMetrics for a Prometheus server, else text 0.0.4).
   *
   * @example Serving /metrics
   * ```ts
   * import { MetricsRegistry, OPENMETRICS_CONTENT_TYPE } from "@chronetix/core";
   * import { assertEquals, assertStringIncludes } from "@std/assert";
   *
   * const registry = new MetricsRegistry({ defaultLabels: { service: "gateway" } });
   * registry.counter({ name: "myapp_frames_received_total", help: "Frames received" }).labels().inc();
   * const handler = (request: Request) => registry.toResponse(request); // Deno.serve(handler)
   * const response = handler(new Request("http://localhost/metrics", {
   *   headers: { accept: "application/openmetrics-text;version=1.0.0" },
   * }));
   * assertEquals(response.headers.get("content-type"), OPENMETRICS_CONTENT_TYPE);
   * assertStringIncludes(await response.text(), 'myapp_frames_received_total{service="gateway"} 1\n');
   * ```
   *
   * @param formatOrRequest A format, or the scrape request to negotiate it from.
   * @returns A `200` response holding a copy of the exposition.
   * @throws {TypeError} when `formatOrRequest` is neither a format nor a `Request`.
   */
  toResponse(formatOrRequest: ExpositionFormat | Request = "prometheus"): Response {
    const format = formatOrRequest instanceof Request
      ? negotiateExpositionFormat(formatOrRequest.headers.get("accept"))
      : formatOrRequest;
    requireOneOf("answer a scrape", "formatOrRequest", format, EXPOSITION_FORMATS);
    return new Response(this.expose(format), {
      headers: { "content-type": expositionContentType(format) },
    });
  }

  /** The namespace every family must start with, if any. */
  get namespace(): string | undefined {
    return this.#namespace;
  }

  /** The labels added to every series (a copy). */
  get defaultLabels(): Record<string, string> {
    return { ...this.#defaults.record };
  }

  /**
   * Same as {@linkcode MetricsRegistry.expose}, decoded to a string.
   *
   * @param format The exposition format.
   * @returns The exposition text.
   * @throws {TypeError} when `format` is not one of the two.
   */
  exposeText(format: ExpositionFormat = "prometheus"): string {
    return this.#decoder.decode(this.expose(format));
  }

  /**
   * Returns every sample as an object (histograms as `_bucket` samples with
   * cumulative counts, then `_sum` and `_count`).
   *
   * @returns A new array of samples.
   */
  flatten(): Sample[] {
    const buffer = new SampleBuffer();
    const n = this.flattenInto(buffer);
    const out: Sample[] = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = { name: buffer.names[i]!, labels: buffer.labels[i]!, value: buffer.values[i]! };
    }
    return out;
  }

  /**
   * Writes every sample into a reusable buffer: no allocation once the
   * buffer has grown to the registry's size.
   *
   * @param buffer The destination, reused across calls.
   * @returns The number of samples written (also `buffer.length`).
   * @throws {TypeError} when `buffer` is not a {@linkcode SampleBuffer}, or
   * its arrays were replaced by something else.
   */
  flattenInto(buffer: SampleBuffer): number {
    requireSampleBuffer(buffer);
    this.collect();
    buffer.reserve(this.#sampleCount());
    const { names, labels, values } = buffer;
    let n = 0;
    for (const core of this.#cores) {
      const { type, buckets } = core.declaration;
      const sampleNames = core.sampleNames;
      if (type !== "histogram") {
        const name = sampleNames[0]!;
        for (const s of core.series) {
          names[n] = name;
          labels[n] = s.labels;
          values[n++] = s.slots[s.offset]!;
        }
        continue;
      }
      const nb = buckets.length;
      const [bucket, sum, count] = sampleNames as [string, string, string];
      for (const s of core.series) {
        const bucketLabels = core.bucketLabels(s);
        let cumulative = 0;
        for (let b = 0; b <= nb; b++) {
          cumulative += s.slots[s.offset + b]!;
          names[n] = bucket;
          labels[n] = bucketLabels[b]!;
          values[n++] = cumulative;
        }
        names[n] = sum;
        labels[n] = s.labels;
        values[n++] = s.slots[s.offset + nb + 1]!;
        names[n] = count;
        labels[n] = s.labels;
        values[n++] = s.slots[s.offset + nb + 2]!;
      }
    }
    buffer.length = n;
    return n;
  }

  /**
   * Returns the declaration of every metric, for docs and lint.
   *
   * @returns One entry per family, in registration order.
   */
  inventory(): MetricInventoryEntry[] {
    return this.#cores.map(({ declaration: d }) => ({
      name: d.name,
      type: d.type,
      unit: d.unit ?? "",
      help: d.help,
      labels: [...d.labelNames],
    }));
  }

  // --- internals -----------------------------------------------------------

  #family<H>(type: MetricType, options: MetricOptions | HistogramOptions): never {
    const { declaration, named, ownSoft, ownHard } = checkDeclaration(type, options, {
      defaultBuckets: DEFAULT_LATENCY_BUCKETS,
      namespace: this.#standard === 0 ? this.#namespace : undefined,
      defaults: this.#defaults.record,
    });
    const { name, help, unit, labelNames: labels, buckets } = declaration;
    const existing = this.#byName.get(name);
    if (existing !== undefined) {
      const d = existing.core.declaration;
      const same = d.type === type && d.help === help && d.unit === unit &&
        d.labelNames.join() === labels.join() && d.buckets.join() === buckets.join();
      if (!same) {
        throw new TypeError(
          `Cannot register metric '${name}' as it is already registered with a different declaration`,
        );
      }
      return existing.facade as never;
    }
    const taken = takenNames(type, name);
    for (const sample of taken) {
      const owner = this.#taken.get(sample);
      if (owner !== undefined) {
        throw new TypeError(
          `Cannot register metric '${name}' as its sample name '${sample}' would clash with metric '${owner}'`,
        );
      }
    }
    const familyLimits = limits(
      named,
      ownSoft ?? Math.min(this.#limits.soft, ownHard ?? Infinity),
      ownHard ?? Math.max(this.#limits.hard, ownSoft ?? 0),
    );
    const core = new FamilyCore<H>(
      declaration,
      familyLimits,
      this.#logger,
      handleFactory(type, name, buckets) as (s: unknown) => H,
      this.#defaults,
    );
    // An unlabelled family has exactly one series: create it, so it is exported as 0.
    if (labels.length === 0) core.resolve([]);
    const facade = familyFacade(core);
    this.#cores.push(core as FamilyCore);
    this.#byName.set(name, { core: core as FamilyCore, facade });
    for (const sample of taken) this.#taken.set(sample, name);
    return facade as never;
  }

  #atomically<T>(register: () => T): T {
    const mark = this.#cores.length;
    try {
      return register();
    } catch (error) {
      for (const core of this.#cores.splice(mark)) {
        const { type, name } = core.declaration;
        this.#byName.delete(name);
        for (const sample of takenNames(type, name)) this.#taken.delete(sample);
      }
      throw error;
    }
  }

  #sampleCount(): number {
    let n = 0;
    for (const core of this.#cores) {
      n += core.series.length *
        (core.declaration.type === "histogram" ? core.declaration.buckets.length + 3 : 1);
    }
    return n;
  }

  #registerSelfMetrics(): void {
    const self = registerSelfMetrics(this, this.#cores);
    this.#collectorErrors = self.collectorErrors;
    this.#selfCollect = self.collect;
  }
}
