// The process and runtime metrics every service exports, opt-in with one
// call, under the names Prometheus' process collector and prom-client use
// (`process_*`, `nodejs_*`), so existing dashboards work. Everything is read
// by a collector on scrape, except the event-loop lag, which needs a probe
// running between scrapes: one unref'd timer.
//
// Measured on Deno 2.9.6 (so not exported): `node:perf_hooks`
// PerformanceObserver lists "gc" among its entry types but delivers no
// entries (a forced gc() and 4 M allocations gave none), so there is no
// `nodejs_gc_duration_seconds`; `Deno.resources()` is gone in Deno 2, so open
// resources are `process.getActiveResourcesInfo()` (timers, sockets; not
// files) and, on Linux with read access to /proc/self/fd, open descriptors.

import process from "node:process";
import type { Counter, Gauge, Histogram } from "./families.ts";
import {
  type MetricsRegistry,
  registerStandardAtomically,
  requireMetricsRegistry,
} from "./registry.ts";
import {
  HIST_CELLS,
  type LatencySnapshot,
  recordCells,
  resetCells,
  snapshotOf,
} from "../internal/histogram_cells.ts";
import { requireInteger, requireOptions, show } from "../internal/validate.ts";
import { histogramBuckets } from "./_registry_checks.ts";

/** Memory figures in bytes, as `Deno.memoryUsage()` gives them. */
export interface MemoryFigures {
  /** Resident set size. */
  rss: number;
  /** V8 heap reserved. */
  heapTotal: number;
  /** V8 heap in use. */
  heapUsed: number;
  /** Memory of objects outside the V8 heap (ArrayBuffers, ...). */
  external: number;
}

/**
 * Where {@linkcode collectDefaultMetrics} reads its figures. The defaults read
 * the Deno runtime; tests (and unusual platforms) replace some.
 */
export interface ProcessSources {
  /** CPU time used by the process, in microseconds (`process.cpuUsage()`). */
  cpuUsage(): { user: number; system: number };
  /** Memory figures (`Deno.memoryUsage()`). */
  memoryUsage(): MemoryFigures;
  /**
   * Open file descriptors, or `undefined` when they cannot be counted (the
   * family is then not registered). Default: the entries of /proc/self/fd on
   * Linux when read access to it is granted.
   */
  openFds(): number | undefined;
  /** The open-descriptor limit, or `undefined` (read once, at the call). */
  maxFds(): number | undefined;
  /**
   * The kinds of the resources keeping the event loop alive, one entry per
   * resource (`process.getActiveResourcesInfo()`: `"Timeout"`, ...), or
   * `undefined` when unknown.
   */
  activeResources(): readonly string[] | undefined;
  /** When the process started, in seconds since the Unix epoch. */
  startTimeSeconds(): number;
  /** A monotonic clock in milliseconds (`performance.now()`). */
  now(): number;
  /** Arms the event-loop probe's timer; it must not keep the process alive. */
  setTimer(callback: () => void, delayMs: number): number;
  /** Cancels a timer armed by `setTimer`. */
  clearTimer(id: number): void;
}

/** Options of {@linkcode collectDefaultMetrics}. */
export interface DefaultMetricsOptions {
  /**
   * Put in front of every name, as prom-client's `prefix`: `"myapp_"` gives
   * `myapp_process_cpu_seconds_total`. Lower snake case, ending with `_`.
   *
   * @default {""}
   */
  prefix?: string;
  /**
   * How often the event-loop probe wakes, in milliseconds (prom-client's
   * `eventLoopMonitoringPrecision`, 10 there). Each wake-up's delay past its
   * due time is one observation of `nodejs_eventloop_delay_seconds`. A
   * Deno timer wake-up costs about 0.2 ms of CPU on a small VM, so 10 ms
   * takes 2-3 % of a core and 50 ms well under 1 %; a stall shorter than
   * the period is caught in proportion to its length.
   *
   * @default {50}
   */
  eventLoopResolutionMs?: number;
  /**
   * Bucket bounds of `nodejs_eventloop_delay_seconds`, in seconds.
   *
   * @default {[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]}
   */
  eventLoopBuckets?: readonly number[];
  /**
   * Replaces some of the runtime's figures (tests, other platforms).
   *
   * @default {the Deno runtime}
   */
  sources?: Partial<ProcessSources>;
}

/** What {@linkcode DefaultMetrics.stats} returns. */
export interface DefaultMetricsStats {
  /**
   * Event-loop lag (how late the probe's timer fired) since the start, in
   * milliseconds: p50, p99, max and the rest. It includes the timer's own
   * lateness, about 1 ms on Linux.
   */
  eventLoopLag: LatencySnapshot;
  /** Collections run (scrapes and flattens). */
  collections: number;
  /** Whether {@linkcode DefaultMetrics.close} was called. */
  closed: boolean;
}

/** The handle of {@linkcode collectDefaultMetrics}: stats and close. */
export interface DefaultMetrics extends Disposable {
  /** The names of the families registered, in order. */
  readonly names: readonly string[];
  /**
   * The event-loop lag percentiles and collection count.
   *
   * @returns A new snapshot.
   */
  stats(): DefaultMetricsStats;
  /**
   * Stops the probe's timer and collects one last time; the series stay
   * with their last values. Idempotent.
   */
  close(): void;
}

/** Default bucket bounds of the event-loop delay histogram, in seconds. */
export const EVENT_LOOP_BUCKETS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

const PREFIX = /^(?:[a-z][a-z0-9]*_)*$/;
/** Registries with open default metrics: a second call would only double the work. */
const active = new WeakSet<MetricsRegistry>();

function readProcFdCount(): number | undefined {
  const path = "/proc/self/fd";
  try {
    if (Deno.build.os !== "linux") return undefined;
    if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return undefined;
    // Linux 6.2 and later report the count as the directory's size: one
    // stat (8 µs here) instead of a listing (65 µs).
    const size = Deno.statSync(path).size;
    if (size > 0) return size;
    let n = 0;
    for (const _ of Deno.readDirSync(path)) n++;
    // The directory handle used to list it is one of the entries.
    return n - 1;
  } catch {
    return undefined;
  }
}

function readMaxFds(): number | undefined {
  const path = "/proc/self/limits";
  try {
    if (Deno.build.os !== "linux") return undefined;
    if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return undefined;
    const line = Deno.readTextFileSync(path).split("\n").find((l) =>
      l.startsWith("Max open files")
    );
    const soft = Number(line?.slice("Max open files".length).trim().split(/\s+/)[0]);
    return Number.isFinite(soft) ? soft : undefined;
  } catch {
    return undefined;
  }
}

/** The Deno runtime's figures. */
export const DENO_SOURCES: ProcessSources = {
  cpuUsage: () => process.cpuUsage(),
  memoryUsage: () => Deno.memoryUsage(),
  openFds: readProcFdCount,
  maxFds: readMaxFds,
  activeResources: () => process.getActiveResourcesInfo(),
  startTimeSeconds: () => performance.timeOrigin / 1000,
  now: () => performance.now(),
  setTimer: (callback, delayMs) => {
    // With node: types loaded, setTimeout is typed as Node's; Deno returns a number.
    const id = setTimeout(callback, delayMs) as unknown as number;
    Deno.unrefTimer(id);
    return id;
  },
  clearTimer: (id) => clearTimeout(id),
};

function checkSources(action: string, sources: unknown): ProcessSources {
  if (sources === undefined) return DENO_SOURCES;
  requireOptions(action, "sources", sources);
  const merged = { ...DENO_SOURCES } as Record<string, unknown>;
  for (const key of Object.keys(DENO_SOURCES)) {
    const value = (sources as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof value !== "function") {
      throw new TypeError(
        `Cannot ${action} as 'sources.${key}' must be a function: current value is ${show(value)}`,
      );
    }
    merged[key] = value;
  }
  return merged as unknown as ProcessSources;
}

/**
 * Registers the standard process and runtime metrics on `registry` and
 * collects them on every scrape, like prom-client's `collectDefaultMetrics`:
 *
 * - `process_cpu_user_seconds_total`, `process_cpu_system_seconds_total`,
 *   `process_cpu_seconds_total` (counters);
 * - `process_resident_memory_bytes`, `process_start_time_seconds`, and on
 *   Linux with read access to /proc/self: `process_open_fds`, `process_max_fds`;
 * - `nodejs_heap_size_total_bytes`, `nodejs_heap_size_used_bytes`,
 *   `nodejs_external_memory_bytes` (from `Deno.memoryUsage()`);
 * - `nodejs_eventloop_lag_seconds` (gauge: the latest probe's lag, as
 *   prom-client) and `nodejs_eventloop_delay_seconds` (histogram of every
 *   probe: `histogram_quantile()` gives p50/p99 across instances);
 * - `nodejs_active_resources{type}` (what keeps the event loop alive);
 * - `deno_version_info{version,v8,typescript}` = 1.
 *
 * There is no `nodejs_gc_duration_seconds`: Deno 2.9.6 delivers no GC
 * entries to a PerformanceObserver. The registry's namespace does not apply
 * to these names; a `prefix` does. Reading them costs one
 * `Deno.memoryUsage()`, one `process.cpuUsage()` and, on Linux, one listing
 * of /proc/self/fd per scrape; the event-loop probe is one unref'd timer
 * every `eventLoopResolutionMs`, which {@linkcode DefaultMetrics.close} stops.
 *
 * @example Default metrics on a registry
 * ```ts
 * import { collectDefaultMetrics, MetricsRegistry } from "@chronetix/core";
 * import { assert, assertEquals } from "@std/assert";
 *
 * const registry = new MetricsRegistry({ defaultLabels: { service: "gateway" } });
 * using defaults = collectDefaultMetrics(registry);
 * const rss = registry.flatten().find((s) => s.name === "process_resident_memory_bytes");
 * assertEquals(rss?.labels, { service: "gateway" });
 * assert(rss!.value > 0);
 * assertEquals(defaults.stats().closed, false);
 * ```
 *
 * @param registry Where the families are registered.
 * @param options Name prefix, event-loop probe, sources.
 * @returns A handle with `stats()` and `close()` (also `using`).
 * @throws {TypeError} when an argument has the wrong type, the prefix is not
 * lower snake case ending with `_`, a family clashes with an existing one,
 * or the registry already collects default metrics (close those first). A
 * rejected call registers nothing.
 * @throws {RangeError} when `eventLoopResolutionMs` is not an integer in
 * [1, 60000], or the buckets are not finite and ascending.
 */
export function collectDefaultMetrics(
  registry: MetricsRegistry,
  options: DefaultMetricsOptions = {},
): DefaultMetrics {
  const action = "collect default metrics";
  requireMetricsRegistry(action, "registry", registry);
  requireOptions(action, "options", options);
  const { prefix = "", eventLoopResolutionMs = 50, eventLoopBuckets, sources } = options;
  if (typeof prefix !== "string" || !PREFIX.test(prefix)) {
    throw new TypeError(
      `Cannot ${action} as 'prefix' must be lower snake case ending with '_' (or empty): current value is ${
        show(prefix)
      }`,
    );
  }
  const resolution = requireInteger(
    action,
    "eventLoopResolutionMs",
    eventLoopResolutionMs,
    1,
    60_000,
  );
  const buckets = histogramBuckets(
    action,
    eventLoopBuckets ?? EVENT_LOOP_BUCKETS,
    "eventLoopBuckets",
  );
  const src = checkSources(action, sources);
  if (active.has(registry)) {
    throw new TypeError(
      `Cannot ${action} as the registry already collects them: close the first DefaultMetrics`,
    );
  }
  const openFds = src.openFds();
  const maxFds = src.maxFds();
  const families = registerStandardAtomically(registry, () => {
    const p = prefix;
    const counter = (name: string, help: string) =>
      registry.counter({ name: p + name, help, unit: "seconds" }).labels();
    const gauge = (name: string, help: string, unit?: string) =>
      registry.gauge({ name: p + name, help, unit }).labels();
    return {
      cpuUser: counter("process_cpu_user_seconds_total", "User CPU time spent, in seconds"),
      cpuSystem: counter("process_cpu_system_seconds_total", "System CPU time spent, in seconds"),
      cpu: counter("process_cpu_seconds_total", "User and system CPU time spent, in seconds"),
      start: gauge(
        "process_start_time_seconds",
        "Start time of the process since the Unix epoch, in seconds",
        "seconds",
      ),
      rss: gauge("process_resident_memory_bytes", "Resident memory size, in bytes", "bytes"),
      openFds: openFds === undefined
        ? undefined
        : gauge("process_open_fds", "Open file descriptors"),
      maxFds: maxFds === undefined
        ? undefined
        : gauge("process_max_fds", "Maximum number of open file descriptors"),
      heapTotal: gauge("nodejs_heap_size_total_bytes", "V8 heap reserved, in bytes", "bytes"),
      heapUsed: gauge("nodejs_heap_size_used_bytes", "V8 heap in use, in bytes", "bytes"),
      external: gauge(
        "nodejs_external_memory_bytes",
        "Memory of objects outside the V8 heap (ArrayBuffers), in bytes",
        "bytes",
      ),
      lag: gauge(
        "nodejs_eventloop_lag_seconds",
        "Lag of the latest event-loop probe: how late its timer fired, in seconds",
        "seconds",
      ),
      delay: registry.histogram({
        name: p + "nodejs_eventloop_delay_seconds",
        help: "Event-loop delay: how late each probe timer fired, in seconds",
        unit: "seconds",
        buckets,
      }).labels(),
      resources: registry.gauge({
        name: p + "nodejs_active_resources",
        help: "Resources keeping the event loop alive, by type",
        labelNames: ["type"],
      }),
      version: registry.gauge({
        name: p + "deno_version_info",
        help: "Deno, V8 and TypeScript versions of the runtime",
        labelNames: ["version", "v8", "typescript"],
      }),
    };
  });
  active.add(registry);
  const names = registry.inventory().map((m) => m.name).filter((n) =>
    n.startsWith(prefix) && DEFAULT_METRIC_NAMES.includes(n.slice(prefix.length))
  );
  families.version.labels(Deno.version.deno, Deno.version.v8, Deno.version.typescript).set(1);
  families.start.set(src.startTimeSeconds());
  if (maxFds !== undefined) families.maxFds?.set(maxFds);

  // The event-loop probe: a timer that records how late it fired.
  const cells = new Float64Array(HIST_CELLS);
  resetCells(cells, 0);
  let lastLagMs = NaN;
  let closed = false;
  let due = src.now() + resolution;
  let timer: number | undefined;
  const delay: Histogram = families.delay;
  const probe = () => {
    if (closed) return;
    const now = src.now();
    const lagMs = now > due ? now - due : 0;
    lastLagMs = lagMs;
    recordCells(cells, 0, lagMs);
    delay.observe(lagMs / 1000);
    due = now + resolution;
    timer = src.setTimer(probe, resolution);
  };
  timer = src.setTimer(probe, resolution);

  const resourceGauges = new Map<string, Gauge>();
  const resourceCounts = new Map<string, number>();
  const advance = (c: Counter, total: number) => {
    if (total > c.value && total < Infinity) c.advanceTo(total);
  };
  let collections = 0;
  const collect = () => {
    collections++;
    const cpu = src.cpuUsage();
    advance(families.cpuUser, cpu.user / 1e6);
    advance(families.cpuSystem, cpu.system / 1e6);
    advance(families.cpu, (cpu.user + cpu.system) / 1e6);
    const memory = src.memoryUsage();
    families.rss.set(memory.rss);
    families.heapTotal.set(memory.heapTotal);
    families.heapUsed.set(memory.heapUsed);
    families.external.set(memory.external);
    if (families.openFds !== undefined) families.openFds.set(src.openFds() ?? NaN);
    families.lag.set(lastLagMs / 1000);
    const kinds = src.activeResources();
    if (kinds !== undefined) {
      for (const kind of resourceCounts.keys()) resourceCounts.set(kind, 0);
      for (const kind of kinds) {
        if (typeof kind === "string") resourceCounts.set(kind, (resourceCounts.get(kind) ?? 0) + 1);
      }
      for (const [kind, n] of resourceCounts) {
        let g = resourceGauges.get(kind);
        if (g === undefined) {
          g = families.resources.labels(kind);
          resourceGauges.set(kind, g);
        }
        g.set(n);
      }
    }
  };
  const registration = registry.addCollector(collect);
  const close = () => {
    if (closed) return;
    closed = true;
    if (timer !== undefined) src.clearTimer(timer);
    timer = undefined;
    try {
      collect();
    } finally {
      registration[Symbol.dispose]();
      active.delete(registry);
    }
  };
  return {
    names,
    stats: () => ({ eventLoopLag: snapshotOf(cells, 0), collections, closed }),
    close,
    [Symbol.dispose]: close,
  };
}

/** Every family name {@linkcode collectDefaultMetrics} may register, without a prefix. Not public. */
export const DEFAULT_METRIC_NAMES: readonly string[] = [
  "process_cpu_user_seconds_total",
  "process_cpu_system_seconds_total",
  "process_cpu_seconds_total",
  "process_start_time_seconds",
  "process_resident_memory_bytes",
  "process_open_fds",
  "process_max_fds",
  "nodejs_heap_size_total_bytes",
  "nodejs_heap_size_used_bytes",
  "nodejs_external_memory_bytes",
  "nodejs_eventloop_lag_seconds",
  "nodejs_eventloop_delay_seconds",
  "nodejs_active_resources",
  "deno_version_info",
];
