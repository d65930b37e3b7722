// The state behind a metric family, shared by the public family classes, the
// registry and the encoder. Values live in chunks of a Float64Array that are
// never reallocated, so a handle keeps a direct reference to its slots and an
// update is one typed-array write.
import type { MetricType } from "./naming.ts";
import type { Logger } from "../logger.ts";
import { show } from "../internal/validate.ts";

const CHUNK_SLOTS = 4096;
const ENCODER = new TextEncoder();

/** One labelled series of a family. */
export interface SeriesRecord {
  /** Labels as a record, built once, for `flatten()`. */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * Where `name="value",...`, escaped for the exposition formats and UTF-8
   * encoded once, lies in the family's label arena.
   */
  readonly labelStart: number;
  /** End (exclusive) of the label text in the arena. */
  readonly labelEnd: number;
  /** The chunk holding this series' slots. */
  readonly slots: Float64Array;
  /** Index of the first slot in the chunk. */
  readonly offset: number;
}

/** Cardinality limits of one family. */
export interface CardinalityLimits {
  soft: number;
  hard: number;
}

/**
 * Logs a warning; a logger that throws is ignored, so a broken logger never
 * breaks a registration or a scrape (there is nowhere left to report it).
 */
export function warnSafely(logger: Logger, message: string): void {
  try {
    logger.warn(message);
  } catch {
    // Contained: see above.
  }
}

/** Escapes a label value for both exposition formats. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

/** Formats a sample value (or bucket bound) the way both formats accept. */
export function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (value !== value) return "NaN";
  return String(value);
}

/** Escapes HELP text: backslash and newline (and, for OpenMetrics, quotes). */
export function escapeHelp(help: string, quotes: boolean): string {
  return help.replace(quotes ? /[\\"\n]/g : /[\\\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

/** What a family is declared with, normalised. */
export interface FamilyDeclaration {
  name: string;
  help: string;
  type: MetricType;
  unit: string | undefined;
  labelNames: readonly string[];
  /** Upper bounds of a histogram's buckets, ascending, without +Inf. */
  buckets: readonly number[];
}

/** A registry's default labels, added after each series' own labels. */
export interface DefaultLabelSet {
  /** The labels as a record. */
  readonly record: Readonly<Record<string, string>>;
  /** `name="value",...`, escaped; `""` when there are none. */
  readonly text: string;
}

/** No default labels. */
export const NO_DEFAULT_LABELS: DefaultLabelSet = { record: {}, text: "" };

/** Builds the {@linkcode DefaultLabelSet} of checked label pairs. */
export function defaultLabelSet(pairs: readonly [string, string][]): DefaultLabelSet {
  if (pairs.length === 0) return NO_DEFAULT_LABELS;
  return {
    record: Object.fromEntries(pairs),
    text: pairs.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(","),
  };
}

/** Called with the series that was just created, so a facade can wrap it. */
export type HandleFactory<H> = (series: SeriesRecord) => H;

/** The state of a metric family. */
export class FamilyCore<H = unknown> {
  readonly declaration: FamilyDeclaration;
  /** Slots per series: 1, or buckets + 1 (+Inf) + sum + count for a histogram. */
  readonly width: number;
  readonly series: SeriesRecord[] = [];
  readonly limits: CardinalityLimits;
  /**
   * Sample names: the metric name for a counter or gauge; `_bucket`, `_sum`
   * and `_count` names for a histogram.
   */
  readonly sampleNames: readonly string[];
  /** For a histogram, the `le` value of each bucket, `+Inf` last. */
  readonly leValues: readonly string[];
  /**
   * A histogram with a negative bucket bound: it takes negative
   * observations, so its sum is no counter and OpenMetrics leaves out
   * `_sum` and `_count`.
   */
  readonly signed: boolean;
  /** Label-set resolutions sent to the overflow series. */
  overflowed = 0;
  softExceeded = false;
  readonly #logger: Logger;
  readonly #makeHandle: HandleFactory<H>;
  readonly #defaults: DefaultLabelSet;
  /** Nested maps, one level per label; the last level maps to a handle. */
  readonly #trie = new Map<unknown, unknown>();
  #unlabelled: H | undefined;
  #overflow: H | undefined;
  readonly #bucketLabels = new WeakMap<SeriesRecord, Readonly<Record<string, string>>[]>();
  #chunk = new Float64Array(0);
  #chunkUsed = 0;
  #arena = new Uint8Array(256);
  #arenaUsed = 0;

  constructor(
    declaration: FamilyDeclaration,
    limits: CardinalityLimits,
    logger: Logger,
    makeHandle: HandleFactory<H>,
    defaults: DefaultLabelSet = NO_DEFAULT_LABELS,
  ) {
    this.declaration = declaration;
    const { name, type, buckets } = declaration;
    this.width = type === "histogram" ? buckets.length + 3 : 1;
    this.sampleNames = type === "histogram"
      ? [`${name}_bucket`, `${name}_sum`, `${name}_count`]
      : [name];
    this.leValues = type === "histogram" ? [...buckets.map(formatValue), "+Inf"] : [];
    this.signed = type === "histogram" && buckets.length > 0 && buckets[0]! < 0;
    this.limits = limits;
    this.#logger = logger;
    this.#makeHandle = makeHandle;
    this.#defaults = defaults;
  }

  /** The label text of every series, back to back (see {@linkcode SeriesRecord}). */
  get labelArena(): Uint8Array {
    return this.#arena;
  }

  /**
   * Resolves label values to the handle of their series, creating it once.
   * A rejected call changes nothing: every value is checked before the
   * series and its path in the lookup trie are made.
   */
  resolve(values: readonly string[]): H {
    const names = this.declaration.labelNames;
    if (values.length !== names.length) {
      throw new TypeError(
        `Cannot resolve a series of '${this.declaration.name}' as it takes ${names.length} label value(s) (${
          names.join(", ")
        }): current count is ${values.length}`,
      );
    }
    if (names.length === 0) return this.#unlabelled ??= this.#create([]);
    let node: Map<unknown, unknown> = this.#trie;
    const last = names.length - 1;
    for (let i = 0; i < last; i++) {
      const next = node.get(values[i]) as Map<unknown, unknown> | undefined;
      if (next === undefined) return this.#add(values);
      node = next;
    }
    const leaf = node.get(values[last]) as H | undefined;
    return leaf !== undefined ? leaf : this.#add(values);
  }

  /** A histogram series' labels plus `le`, one record per bucket, built once. */
  bucketLabels(series: SeriesRecord): readonly Readonly<Record<string, string>>[] {
    let records = this.#bucketLabels.get(series);
    if (records === undefined) {
      records = this.leValues.map((le) => ({ ...series.labels, le }));
      this.#bucketLabels.set(series, records);
    }
    return records;
  }

  /** Number of regular series (the overflow series excluded). */
  get seriesCount(): number {
    return this.series.length - (this.#overflow === undefined ? 0 : 1);
  }

  /** A new label set: checked, then given a series (or the overflow series). */
  #add(values: readonly string[]): H {
    const names = this.declaration.labelNames;
    for (let i = 0; i < names.length; i++) {
      const value: unknown = values[i];
      // A lone surrogate has no UTF-8 form: encoded, it would become U+FFFD
      // and two distinct values would print as one series.
      if (typeof value !== "string" || !value.isWellFormed()) {
        throw new TypeError(
          `Cannot resolve a series of '${this.declaration.name}' as label '${names[i]}' must be ${
            typeof value === "string" ? "well-formed Unicode (no lone surrogate)" : "a string"
          }: current value is ${show(value)}`,
        );
      }
    }
    if (this.seriesCount >= this.limits.hard) {
      this.overflowed++;
      return this.#overflow ??= this.#create([], true);
    }
    const handle = this.#create(values);
    let node: Map<unknown, unknown> = this.#trie;
    const last = names.length - 1;
    for (let i = 0; i < last; i++) {
      let next = node.get(values[i]) as Map<unknown, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(values[i], next);
      }
      node = next;
    }
    node.set(values[last], handle);
    if (!this.softExceeded && this.seriesCount > this.limits.soft) {
      this.softExceeded = true;
      warnSafely(
        this.#logger,
        `Metric '${this.declaration.name}' has more than ${this.limits.soft} series (soft limit); past ${this.limits.hard} new label sets go to one overflow series`,
      );
    }
    return handle;
  }

  #create(values: readonly string[], overflow = false): H {
    const names = this.declaration.labelNames;
    const labels: Record<string, string> = {};
    const parts: string[] = [];
    if (overflow) {
      labels.overflow = "true";
      parts.push('overflow="true"');
    } else {
      names.forEach((name, i) => {
        labels[name] = values[i]!;
        parts.push(`${name}="${escapeLabelValue(values[i]!)}"`);
      });
    }
    // The registry's default labels come after the series' own.
    if (this.#defaults.text !== "") {
      Object.assign(labels, this.#defaults.record);
      parts.push(this.#defaults.text);
    }
    if (this.#chunkUsed + this.width > this.#chunk.length) {
      this.#chunk = new Float64Array(Math.max(CHUNK_SLOTS, this.width));
      this.#chunkUsed = 0;
    }
    const text = parts.join(",");
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    if (this.#arenaUsed + text.length * 3 > this.#arena.length) {
      let size = this.#arena.length * 2;
      while (size < this.#arenaUsed + text.length * 3) size *= 2;
      const arena = new Uint8Array(size);
      arena.set(this.#arena.subarray(0, this.#arenaUsed));
      this.#arena = arena;
    }
    const start = this.#arenaUsed;
    this.#arenaUsed += ENCODER.encodeInto(text, this.#arena.subarray(start)).written;
    const series: SeriesRecord = {
      labels,
      labelStart: start,
      labelEnd: this.#arenaUsed,
      slots: this.#chunk,
      offset: this.#chunkUsed,
    };
    this.#chunkUsed += this.width;
    this.series.push(series);
    return this.#makeHandle(series);
  }
}
