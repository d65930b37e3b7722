import { type Clock, MONOTONIC_CLOCK, requireClock } from "../time/clock.ts";
import { type MetricsRegistry, requireMetricsRegistry } from "../metrics/registry.ts";
import { exportStats, type StatMetric } from "../metrics/export_stats.ts";
import {
  requireInteger,
  requireName,
  requireOneOf,
  requireOptions,
  show,
} from "../internal/validate.ts";

/**
 * What a telemetry event reports: a lifecycle `transition`, a plugin
 * `load`ed or `unload`ed, an `exit` (it ended: crash, hang, clean exit), the
 * supervisor's `restart_scheduled`, `restart_loaded` (the restarted instance
 * is running), `restart_give_up`, an `auto_unload`, an `escalate` to the
 * kernel, a `kill`, a hot `reload` (with its `phases`), a `rollback` to the
 * previous version.
 */
export type TelemetryKind =
  | "transition"
  | "load"
  | "unload"
  | "exit"
  | "restart_scheduled"
  | "restart_loaded"
  | "restart_give_up"
  | "auto_unload"
  | "escalate"
  | "kill"
  | "reload"
  | "rollback";

/** Every {@linkcode TelemetryKind}. */
export const TELEMETRY_KINDS: readonly TelemetryKind[] = Object.freeze([
  "transition",
  "load",
  "unload",
  "exit",
  "restart_scheduled",
  "restart_loaded",
  "restart_give_up",
  "auto_unload",
  "escalate",
  "kill",
  "reload",
  "rollback",
]);

/** Why an event did not make it into the ring, or was pushed out of it. */
export type TelemetryDropReason = "capacity" | "filter";

/** What is recorded; the ring adds `seq` (and `atMs` when left out). */
export interface TelemetryInput {
  /** The kind of event. */
  kind: TelemetryKind;
  /** The plugin it is about. */
  plugin: string;
  /** When, ms on the ring's clock. @default {now} */
  atMs?: number;
  /** The state before (transitions). */
  from?: string;
  /** The state after (transitions). */
  to?: string;
  /** The lifecycle phase. */
  phase?: string;
  /** A duration, ms (a phase, a kill). */
  durationMs?: number;
  /** The restart attempt (from 0). */
  attempt?: number;
  /** A restart delay, ms. */
  delayMs?: number;
  /** Why, in words. */
  reason?: string;
  /** An error's message. */
  error?: string;
  /** Per step, its duration in ms (a hot `reload`). */
  phases?: Readonly<Record<string, number>>;
}

/** One event in the ring. */
export interface TelemetryEvent extends Readonly<TelemetryInput> {
  /** Its number: 0, 1, 2, ... over the events accepted. */
  readonly seq: number;
  /** When, ms on the ring's clock. */
  readonly atMs: number;
}

/** Which events a ring keeps: by kind and by plugin. */
export interface TelemetryFilter {
  /** Kinds; left out, every kind. */
  kinds?: readonly TelemetryKind[];
  /** Plugin names; left out, every plugin. */
  plugins?: readonly string[];
}

/** Include and exclude filters: an event is kept when it matches `include` and not `exclude`. */
export interface TelemetryFilters {
  /** Keep only events matching this (both fields, where given). */
  include?: TelemetryFilter;
  /** Drop events matching this (either field). */
  exclude?: TelemetryFilter;
}

/** Options of a {@linkcode TelemetryRing}. */
export interface TelemetryRingOptions extends TelemetryFilters {
  /** Events kept; older ones are pushed out (counted as `capacity` drops). @default {1024} */
  capacity?: number;
  /** The ring's name: the `ring` label of its metrics. @default {"plugins"} */
  name?: string;
  /** The clock that stamps events. @default {MONOTONIC_CLOCK} */
  clock?: Clock;
  /** Registry to export `chronetix_plugin_telemetry_*` into. */
  metrics?: MetricsRegistry;
}

/** Options of {@linkcode TelemetryRing.events}. */
export interface TelemetryReadOptions {
  /** Start at the oldest event in the ring, or only with events recorded from now. @default {"oldest"} */
  from?: "oldest" | "next";
  /** Ends the iteration when it aborts. */
  signal?: AbortSignal;
}

/** A snapshot of a {@linkcode TelemetryRing}'s counters. */
export interface TelemetryRingStats {
  /** The ring's name. */
  name: string;
  /** Events it can hold. */
  capacity: number;
  /** Events it holds now. */
  size: number;
  /** Events offered to `record()`. */
  offered: number;
  /** Events accepted (past the filters). */
  accepted: number;
  /** Events dropped, by reason: refused by a filter, or pushed out by newer ones. */
  dropped: Record<TelemetryDropReason, number>;
  /** Events a slow reader skipped because they were pushed out before it read them. */
  readerLag: number;
  /** Async iterators reading now. */
  readers: number;
  /** Whether it is closed. */
  closed: boolean;
}

const METRICS: readonly StatMetric<TelemetryRingStats>[] = [
  {
    name: "chronetix_plugin_telemetry_accepted_total",
    help: "Plugin telemetry events accepted into the ring",
    type: "counter",
    value: (s) => s.accepted,
  },
  {
    name: "chronetix_plugin_telemetry_dropped_total",
    help: "Plugin telemetry events dropped: refused by a filter or pushed out at capacity",
    type: "counter",
    labels: { reason: "capacity" },
    value: (s) => s.dropped.capacity,
  },
  {
    name: "chronetix_plugin_telemetry_dropped_total",
    help: "Plugin telemetry events dropped: refused by a filter or pushed out at capacity",
    type: "counter",
    labels: { reason: "filter" },
    value: (s) => s.dropped.filter,
  },
  {
    name: "chronetix_plugin_telemetry_reader_lag_total",
    help: "Plugin telemetry events a slow reader skipped as they were pushed out first",
    type: "counter",
    value: (s) => s.readerLag,
  },
  {
    name: "chronetix_plugin_telemetry_buffered",
    help: "Plugin telemetry events held in the ring",
    type: "gauge",
    value: (s) => s.size,
  },
];

interface CheckedFilter {
  kinds: ReadonlySet<string> | undefined;
  plugins: ReadonlySet<string> | undefined;
}

/**
 * A bounded ring of plugin lifecycle and meta events (transitions, restarts
 * scheduled and loaded, give-ups, auto-unloads, kills, escalations). Include
 * and exclude filters by kind and plugin decide what is kept; every event
 * not kept is counted by reason: `filter` (refused) or `capacity` (pushed
 * out by a newer one when full). Read it as a snapshot, or as an async
 * iterator that waits for new events and ends when the ring closes.
 *
 * @example Filters, drops and a snapshot
 * ```ts
 * import { TelemetryRing } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const ring = new TelemetryRing({ capacity: 2, exclude: { kinds: ["transition"] } });
 * ring.record({ kind: "transition", plugin: "a", from: "ready", to: "started" }); // filtered
 * ring.record({ kind: "restart_scheduled", plugin: "a", delayMs: 100 });
 * ring.record({ kind: "restart_loaded", plugin: "a" });
 * ring.record({ kind: "restart_give_up", plugin: "a" }); // pushes the oldest out
 * assertEquals(ring.snapshot().map((e) => e.kind), ["restart_loaded", "restart_give_up"]);
 * assertEquals(ring.stats().dropped, { capacity: 1, filter: 1 });
 * ring.close();
 * ```
 *
 * @example Reading live until the ring closes
 * ```ts
 * import { TelemetryRing } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const ring = new TelemetryRing();
 * const seen: string[] = [];
 * const reading = (async () => {
 *   for await (const event of ring) seen.push(`${event.plugin}:${event.kind}`);
 * })();
 * ring.record({ kind: "load", plugin: "sampler" });
 * ring.record({ kind: "kill", plugin: "sampler" });
 * ring.close(); // the iterator yields what is left, then ends
 * await reading;
 * assertEquals(seen, ["sampler:load", "sampler:kill"]);
 * ```
 */
export class TelemetryRing implements AsyncIterable<TelemetryEvent> {
  /** The ring's name. */
  readonly name: string;
  /** Events it can hold. */
  readonly capacity: number;
  readonly #clock: Clock;
  readonly #slots: (TelemetryEvent | undefined)[];
  #include: CheckedFilter = { kinds: undefined, plugins: undefined };
  #exclude: CheckedFilter = { kinds: undefined, plugins: undefined };
  /** The seq the next accepted event gets; the oldest held is `#next - #size`. */
  #next = 0;
  #size = 0;
  #offered = 0;
  readonly #dropped: Record<TelemetryDropReason, number> = { capacity: 0, filter: 0 };
  #readerLag = 0;
  #readers = 0;
  #waiters: (() => void)[] = [];
  #closed = false;
  #export: Disposable | undefined;

  /**
   * Creates a ring.
   *
   * @param options Capacity, filters, name, clock and metrics.
   * @throws {TypeError} when an option has the wrong type or a filter names an unknown kind.
   * @throws {RangeError} when `capacity` is not an integer in [1, 1,000,000].
   */
  constructor(options: TelemetryRingOptions = {}) {
    const action = "create a TelemetryRing";
    requireOptions(action, "options", options);
    this.capacity = requireInteger(action, "capacity", options.capacity ?? 1024, 1, 1_000_000);
    this.name = requireName(action, "name", options.name ?? "plugins");
    this.#clock = options.clock === undefined
      ? MONOTONIC_CLOCK
      : requireClock(action, "clock", options.clock);
    const registry = options.metrics === undefined
      ? undefined
      : requireMetricsRegistry(action, "metrics", options.metrics);
    this.#setFilters(action, options);
    this.#slots = new Array(this.capacity).fill(undefined);
    if (registry !== undefined) {
      this.#export = exportStats(registry, () => this.stats(), METRICS, {
        labels: { ring: this.name },
      });
    }
  }

  /**
   * Replaces the include and exclude filters (for events recorded from now).
   *
   * @param filters The new filters; a field left out matches everything (include) or nothing (exclude).
   * @throws {TypeError} when a filter has the wrong type or names an unknown kind.
   */
  setFilters(filters: TelemetryFilters): void {
    this.#setFilters("set the telemetry filters", filters);
  }

  /**
   * Records an event, unless a filter refuses it. When full, the oldest
   * event is pushed out. After `close()` it does nothing and returns `false`.
   *
   * @param input The event.
   * @returns `true` when the event was kept.
   * @throws {TypeError} when `input` is not an object, or its kind or plugin is not valid.
   */
  record(input: TelemetryInput): boolean {
    const action = "record a telemetry event";
    requireOptions(action, "input", input);
    if (input === undefined) {
      throw new TypeError(
        `Cannot ${action} as 'input' must be an object: current value is undefined`,
      );
    }
    requireOneOf(action, "input.kind", input.kind, TELEMETRY_KINDS);
    if (typeof input.plugin !== "string") {
      throw new TypeError(
        `Cannot ${action} as 'input.plugin' must be a string: current value is ${
          show(input.plugin)
        }`,
      );
    }
    if (this.#closed) return false;
    this.#offered++;
    if (!this.#keeps(input.kind, input.plugin)) {
      this.#dropped.filter++;
      return false;
    }
    const atMs = typeof input.atMs === "number" ? input.atMs : this.#clock.now();
    const event: TelemetryEvent = Object.freeze({ ...input, atMs, seq: this.#next });
    this.#slots[this.#next % this.capacity] = event;
    this.#next++;
    if (this.#size === this.capacity) this.#dropped.capacity++;
    else this.#size++;
    this.#wake();
    return true;
  }

  /**
   * The events held now, oldest first.
   *
   * @returns A copy.
   */
  snapshot(): TelemetryEvent[] {
    const out: TelemetryEvent[] = [];
    for (let seq = this.#next - this.#size; seq < this.#next; seq++) {
      out.push(this.#slots[seq % this.capacity]!);
    }
    return out;
  }

  /**
   * Reads events as they come: the ones held now (or only new ones, with
   * `from: "next"`), then each new one. It ends when the ring closes (after
   * the events left) or `signal` aborts. A reader slower than the ring skips
   * what was pushed out before it read it (counted as `readerLag`).
   *
   * @param options Where to start, and a signal to stop.
   * @returns An async iterator.
   * @throws {TypeError} when an option has the wrong type.
   */
  events(options: TelemetryReadOptions = {}): AsyncIterableIterator<TelemetryEvent> {
    const action = "read telemetry events";
    requireOptions(action, "options", options);
    const from = requireOneOf(action, "from", options.from ?? "oldest", ["oldest", "next"]);
    const signal = options.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(
        `Cannot ${action} as 'signal' must be an AbortSignal: current value is ${show(signal)}`,
      );
    }
    let cursor = from === "oldest" ? this.#next - this.#size : this.#next;
    let done = false;
    this.#readers++;
    const finish = (): IteratorResult<TelemetryEvent> => {
      if (!done) {
        done = true;
        this.#readers--;
      }
      return { done: true, value: undefined };
    };
    const onAbort = () => this.#wake();
    signal?.addEventListener("abort", onAbort, { once: true });
    const iterator: AsyncIterableIterator<TelemetryEvent> = {
      next: async (): Promise<IteratorResult<TelemetryEvent>> => {
        for (;;) {
          if (done) return { done: true, value: undefined };
          if (signal?.aborted) {
            signal.removeEventListener("abort", onAbort);
            return finish();
          }
          const oldest = this.#next - this.#size;
          if (cursor < oldest) {
            this.#readerLag += oldest - cursor;
            cursor = oldest;
          }
          if (cursor < this.#next) {
            const event = this.#slots[cursor % this.capacity]!;
            cursor++;
            return { done: false, value: event };
          }
          if (this.#closed) {
            signal?.removeEventListener("abort", onAbort);
            return finish();
          }
          const { promise, resolve } = Promise.withResolvers<void>();
          this.#waiters.push(resolve);
          await promise;
        }
      },
      return: (): Promise<IteratorResult<TelemetryEvent>> => {
        signal?.removeEventListener("abort", onAbort);
        this.#wake();
        return Promise.resolve(finish());
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /**
   * Same as `events()`: every event held now, then each new one, until close.
   *
   * @returns An async iterator.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<TelemetryEvent> {
    return this.events();
  }

  /**
   * Takes a snapshot of the counters.
   *
   * @returns Size, offered, accepted, drops by reason, reader lag, readers.
   */
  stats(): TelemetryRingStats {
    return {
      name: this.name,
      capacity: this.capacity,
      size: this.#size,
      offered: this.#offered,
      accepted: this.#next,
      dropped: { ...this.#dropped },
      readerLag: this.#readerLag,
      readers: this.#readers,
      closed: this.#closed,
    };
  }

  /** Whether {@linkcode TelemetryRing.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Closes the ring: `record()` does nothing from now on, readers get the
   * events left and then end; the snapshot and the counters stay readable,
   * and the metrics get a final update. Calling it again does nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake();
    const exported = this.#export;
    this.#export = undefined;
    exported?.[Symbol.dispose]();
  }

  /** Same as {@linkcode TelemetryRing.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #keeps(kind: string, plugin: string): boolean {
    const inc = this.#include;
    if (inc.kinds !== undefined && !inc.kinds.has(kind)) return false;
    if (inc.plugins !== undefined && !inc.plugins.has(plugin)) return false;
    const exc = this.#exclude;
    if (exc.kinds?.has(kind) || exc.plugins?.has(plugin)) return false;
    return true;
  }

  #wake(): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }

  #setFilters(action: string, filters: TelemetryFilters | undefined): void {
    requireOptions(action, "filters", filters);
    const include = checkFilter(action, "include", filters?.include);
    const exclude = checkFilter(action, "exclude", filters?.exclude);
    this.#include = include;
    this.#exclude = exclude;
  }
}

function checkFilter(action: string, name: string, filter: unknown): CheckedFilter {
  requireOptions(action, name, filter);
  const f = (filter ?? {}) as TelemetryFilter;
  const list = (field: string, value: unknown, check: (v: unknown, at: string) => string) => {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) {
      throw new TypeError(
        `Cannot ${action} as '${name}.${field}' must be an array: current value is ${show(value)}`,
      );
    }
    return new Set(value.map((v, i) => check(v, `${name}.${field}[${i}]`)));
  };
  return {
    kinds: list("kinds", f.kinds, (v, at) => requireOneOf(action, at, v, TELEMETRY_KINDS)),
    plugins: list("plugins", f.plugins, (v, at) => {
      if (typeof v !== "string") {
        throw new TypeError(
          `Cannot ${action} as '${at}' must be a string: current value is ${show(v)}`,
        );
      }
      return v;
    }),
  };
}
