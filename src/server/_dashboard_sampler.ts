// The dashboard's figures: one point per interval (at most one a
// `minIntervalMs`), computed only when a client asks and none is fresh, so
// a kernel that nobody watches pays nothing. A point differences the
// kernel's metrics between two looks: per task the start lateness p50/p99
// of the interval (from the `*_scheduling_latency_seconds` bucket counts of
// the interval, interpolated within a bucket as Prometheus'
// histogram_quantile does), its runs and deadline misses; the driver's
// wake-ups by mode; and the current budget tiers, plugin states, DataPort
// and ring utilization with their would-block counts of the interval, plus
// the plugin telemetry events recorded since the last point. Points are kept
// in a bounded history every client reads from, so two clients share them.

import type { Kernel } from "../kernel.ts";
import type { OffloadPool } from "../exec/offload_pool.ts";
import { SampleBuffer } from "../metrics/sample.ts";
import type { TelemetryEvent } from "../plugin/telemetry_ring.ts";

/** One task's figures over one interval. */
export interface DashboardTask {
  /** `executor/<task>` or `island/<island>/<task>`: unique across the kernel. */
  id: string;
  /** The task's name. */
  name: string;
  /** The island that runs it; `null` for the kernel's executor. */
  island: string | null;
  /** Runs started in the interval. */
  runs: number;
  /** Start lateness (release to start) p50 of the interval, ms; `null` without runs. */
  p50Ms: number | null;
  /** Start lateness p99 of the interval, ms; `null` without runs. */
  p99Ms: number | null;
  /** Deadline misses in the interval. */
  misses: number;
  /** Deadline misses since the task was added. */
  missesTotal: number;
  /** Budget tier now: 0 monitor, 1 warn, 2 yield, 3 isolate. */
  tier: number;
}

/** A DataPort or a shared ring, now and over the interval. */
export interface DashboardPort {
  /** `dataport/<name>` or `ring/<name>`. */
  id: string;
  /** Its name (the `port` or `ring` label). */
  name: string;
  /** `dataport` or `ring`. */
  kind: "dataport" | "ring";
  /** Frames in flight (slots in use) as a fraction of the credit (slots), now. */
  utilization: number;
  /** The highest utilization seen. */
  peak: number;
  /** Sends refused with WOULD_BLOCK in the interval. */
  wouldBlock: number;
  /** Sends refused with WOULD_BLOCK since it was made. */
  wouldBlockTotal: number;
}

/** A plugin's state when the point was taken. */
export interface DashboardPlugin {
  /** Its name. */
  name: string;
  /** Its lifecycle state. */
  state: string;
  /** Restarts scheduled so far. */
  restarts: number;
  /** Give-ups so far. */
  giveUps: number;
}

/** A plugin telemetry event, timed on the wall clock. */
export interface DashboardEvent {
  /** Its number in the plugin manager's telemetry ring. */
  seq: number;
  /** When, ms since the Unix epoch. */
  t: number;
  /** Its kind (`transition`, `restart_scheduled`, `restart_give_up`, `reload`, ...). */
  kind: string;
  /** The plugin. */
  plugin: string;
  /** The state before a transition. */
  from: string | null;
  /** The state after a transition. */
  to: string | null;
  /** Why, or an error's message. */
  reason: string | null;
}

/** One point of the dashboard's history. */
export interface DashboardPoint {
  /** Its number: 1, 2, 3, ... */
  seq: number;
  /** When it was taken, ms since the Unix epoch. */
  t: number;
  /** The interval it covers, ms on the kernel clock. */
  intervalMs: number;
  /** Per task (executor and islands). */
  tasks: DashboardTask[];
  /** The driver's wake-ups armed in the interval, by mode. */
  wakeups: { far: number; near: number; block: number; imminent: number; early: number };
  /** Every plugin of the kernel's plugin manager. */
  plugins: DashboardPlugin[];
  /** Plugin telemetry events recorded since the previous point. */
  events: DashboardEvent[];
  /** DataPorts and rings whose metrics are in the kernel's registry. */
  ports: DashboardPort[];
}

/** Options of a {@linkcode DashboardSampler}. */
export interface DashboardSamplerOptions {
  /** A new point at most this often, ms on the kernel clock. */
  minIntervalMs: number;
  /** Points kept. */
  capacity: number;
  /** Wall time, ms since the Unix epoch. */
  wallClock: () => number;
}

interface Histogram {
  bounds: number[];
  cumulative: number[];
}

interface Look {
  atMs: number;
  histograms: Map<string, Histogram>;
  counters: Map<string, number>;
  gauges: Map<string, number>;
  names: Map<string, { name: string; island: string | null }>;
  ports: Map<string, { name: string; kind: "dataport" | "ring" }>;
}

const WAKEUP_MODES = ["far", "near", "block", "imminent", "early"] as const;

/** Computes and keeps the dashboard's points of one kernel. */
export class DashboardSampler {
  readonly #kernel: Kernel<OffloadPool | undefined>;
  readonly #options: DashboardSamplerOptions;
  readonly #buffer = new SampleBuffer();
  readonly #points: DashboardPoint[] = [];
  #last: Look | undefined;
  #seq = 0;
  #eventSeq = -1;
  #eventsAccepted = -1;

  constructor(kernel: Kernel<OffloadPool | undefined>, options: DashboardSamplerOptions) {
    this.#kernel = kernel;
    this.#options = options;
  }

  /** The number of the newest point (0 before the first). */
  get seq(): number {
    return this.#seq;
  }

  /**
   * The points after `after`, oldest first, at most `limit` (the newest),
   * taking a new point first when the newest is older than the minimum
   * interval. The first call only takes the first look: nothing is read
   * before a client asks.
   */
  pointsAfter(after: number, limit: number): DashboardPoint[] {
    if (this.#last === undefined) this.#last = this.#look();
    else if (this.#kernel.clock.now() - this.#last.atMs >= this.#options.minIntervalMs) {
      this.#take(this.#last);
    }
    let i = this.#points.length;
    while (i > 0 && this.#points[i - 1]!.seq > after) i--;
    return this.#points.slice(Math.max(i, this.#points.length - limit));
  }

  #take(before: Look): void {
    const look = this.#look();
    const tasks: DashboardTask[] = [];
    for (const [key, who] of look.names) {
      const now = look.histograms.get(`sched|${key}`);
      const then = before.histograms.get(`sched|${key}`);
      const counts = now === undefined ? [] : intervalCounts(now, then);
      const sum = (look.counters.get(`schedsum|${key}`) ?? 0) -
        (before.counters.get(`schedsum|${key}`) ?? 0);
      const missesTotal = look.counters.get(`misses|${key}`) ?? 0;
      tasks.push({
        id: key,
        name: who.name,
        island: who.island,
        runs: Math.max(
          0,
          (look.counters.get(`runs|${key}`) ?? 0) -
            (before.counters.get(`runs|${key}`) ?? 0),
        ),
        p50Ms: now === undefined ? null : quantileMs(now.bounds, counts, 0.5, sum),
        p99Ms: now === undefined ? null : quantileMs(now.bounds, counts, 0.99, sum),
        misses: Math.max(0, missesTotal - (before.counters.get(`misses|${key}`) ?? 0)),
        missesTotal,
        tier: look.gauges.get(`tier|${key}`) ?? 0,
      });
    }
    const wakeups = { far: 0, near: 0, block: 0, imminent: 0, early: 0 };
    for (const mode of WAKEUP_MODES) {
      wakeups[mode] = Math.max(
        0,
        (look.counters.get(`wakeups|${mode}`) ?? 0) - (before.counters.get(`wakeups|${mode}`) ?? 0),
      );
    }
    const ports: DashboardPort[] = [];
    for (const [id, port] of look.ports) {
      const total = look.counters.get(`block|${id}`) ?? 0;
      ports.push({
        id,
        name: port.name,
        kind: port.kind,
        utilization: look.gauges.get(`util|${id}`) ?? 0,
        peak: look.gauges.get(`peak|${id}`) ?? 0,
        wouldBlock: Math.max(0, total - (before.counters.get(`block|${id}`) ?? 0)),
        wouldBlockTotal: total,
      });
    }
    const wallNow = this.#options.wallClock();
    this.#points.push({
      seq: ++this.#seq,
      t: wallNow,
      intervalMs: look.atMs - before.atMs,
      tasks,
      wakeups,
      plugins: this.#kernel.plugins.list().map((p) => ({
        name: p.name,
        state: p.state,
        restarts: p.restarts,
        giveUps: p.giveUps,
      })),
      events: this.#newEvents(wallNow, look.atMs),
      ports,
    });
    if (this.#points.length > this.#options.capacity) this.#points.shift();
    this.#last = look;
  }

  #newEvents(wallNow: number, clockNow: number): DashboardEvent[] {
    const ring = this.#kernel.plugins.telemetry;
    const accepted = ring.stats().accepted;
    if (accepted === this.#eventsAccepted) return [];
    this.#eventsAccepted = accepted;
    const out: DashboardEvent[] = [];
    for (const e of ring.snapshot()) {
      if (e.seq <= this.#eventSeq) continue;
      out.push(wireEvent(e, wallNow - (clockNow - e.atMs)));
      this.#eventSeq = e.seq;
    }
    return out;
  }

  /** One look at the kernel's registry: only the families the points need. */
  #look(): Look {
    const b = this.#buffer;
    const n = this.#kernel.metrics.flattenInto(b);
    const look: Look = {
      atMs: this.#kernel.clock.now(),
      histograms: new Map(),
      counters: new Map(),
      gauges: new Map(),
      names: new Map(),
      ports: new Map(),
    };
    for (let i = 0; i < n; i++) {
      const name = b.names[i]!;
      if (!name.startsWith("chronetix_")) continue;
      const labels = b.labels[i]!;
      const value = b.values[i]!;
      const family = name.slice(10);
      if (family.startsWith("exec_") || family.startsWith("island_")) {
        const task = labels.task;
        if (task === undefined) continue;
        const island = family.startsWith("island_") ? labels.island ?? "" : null;
        const key = island === null ? `executor/${task}` : `island/${island}/${task}`;
        const what = family.slice(island === null ? 5 : 7);
        if (what === "scheduling_latency_seconds_bucket") {
          look.names.set(key, { name: task, island });
          const h = look.histograms.get(`sched|${key}`) ?? { bounds: [], cumulative: [] };
          look.histograms.set(`sched|${key}`, h);
          h.bounds.push(labels.le === "+Inf" ? Infinity : Number(labels.le));
          h.cumulative.push(value);
        } else if (what === "scheduling_latency_seconds_sum") {
          look.counters.set(`schedsum|${key}`, value);
        } else if (what === "runs_total") look.counters.set(`runs|${key}`, value);
        else if (what === "deadline_misses_total") look.counters.set(`misses|${key}`, value);
        else if (what === "budget_tier") look.gauges.set(`tier|${key}`, value);
      } else if (family === "driver_wakeups_total") {
        const key = `wakeups|${labels.mode}`;
        look.counters.set(key, (look.counters.get(key) ?? 0) + value);
      } else if (family.startsWith("dataport_") || family.startsWith("ring_")) {
        const kind = family.startsWith("ring_") ? "ring" : "dataport";
        const portName = kind === "ring" ? labels.ring : labels.port;
        if (portName === undefined) continue;
        const id = `${kind}/${portName}`;
        const what = family.slice(kind === "ring" ? 5 : 9);
        if (what === "utilization_ratio") {
          look.ports.set(id, { name: portName, kind });
          look.gauges.set(`util|${id}`, value);
        } else if (what === "utilization_peak_ratio") look.gauges.set(`peak|${id}`, value);
        else if (what === "would_block_total") {
          look.counters.set(`block|${id}`, (look.counters.get(`block|${id}`) ?? 0) + value);
        }
      }
    }
    return look;
  }
}

function wireEvent(e: TelemetryEvent, t: number): DashboardEvent {
  return {
    seq: e.seq,
    t: Math.round(t),
    kind: e.kind,
    plugin: e.plugin,
    from: e.from ?? null,
    to: e.to ?? null,
    reason: (e.reason ?? e.error ?? null)?.slice(0, 200) ?? null,
  };
}

/** Per-bucket counts of the interval (not cumulative); the whole history when there is no earlier look. */
function intervalCounts(now: Histogram, then: Histogram | undefined): number[] {
  const out = new Array<number>(now.cumulative.length);
  let previous = 0;
  for (let i = 0; i < now.cumulative.length; i++) {
    const before = then !== undefined && then.cumulative.length === now.cumulative.length
      ? then.cumulative[i]!
      : 0;
    const c = Math.max(0, now.cumulative[i]! - before);
    out[i] = Math.max(0, c - previous);
    previous = Math.max(previous, c);
  }
  return out;
}

/**
 * The quantile `q` of bucket counts, ms: linear within the bucket holding
 * the rank; the `+Inf` bucket answers its lower bound. Given the sum of the
 * values (seconds, all >= 0), the answer is also capped at `mean / (1 - q)`
 * (Markov's inequality bounds every quantile so), which keeps a run of
 * zeros at 0 instead of half the first bucket. `null` when empty.
 */
export function quantileMs(
  bounds: readonly number[],
  counts: readonly number[],
  q: number,
  sumSeconds?: number,
): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const interpolated = interpolate(bounds, counts, q, total);
  if (sumSeconds === undefined || !(q < 1)) return interpolated;
  return Math.min(interpolated, Math.max(0, sumSeconds) / total / (1 - q) * 1000);
}

function interpolate(
  bounds: readonly number[],
  counts: readonly number[],
  q: number,
  total: number,
): number {
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c > 0 && seen + c >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i]!;
      if (!Number.isFinite(upper)) return lower * 1000;
      return (lower + (upper - lower) * Math.max(0, rank - seen) / c) * 1000;
    }
    seen += c;
  }
  return (bounds.at(-2) ?? 0) * 1000;
}
