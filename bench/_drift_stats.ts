// Figures of `bench:drift`: lateness percentiles, drift and CPU of one
// subject from the segments it ran, and the floor's p99 at a given CPU.

import { round } from "./_report.ts";

/** What one subject accumulated over the rounds of a case. */
export interface Accumulated {
  /** Each run's lateness in ms, in the order of the rounds. */
  segments: Float64Array[];
  /** CPU time over all runs, in ms (process-wide, Worker threads included). */
  cpuMs: number;
  /** Wall time over all runs, in ms. */
  wallMs: number;
}

/** The `q` quantile of a sorted array (nearest rank). */
export function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function medianOf(values: Float64Array, from: number, to: number): number {
  return quantile(values.slice(from, to).sort(), 0.5);
}

/**
 * The figures of one subject: lateness percentiles over all its ticks, the
 * share of early ticks, the drift (median lateness of the last tenth of each
 * run minus that of its first tenth, averaged over the runs; medians, so
 * that one stall of the machine is not mistaken for drift) and the CPU
 * (sum of CPU over sum of wall time).
 */
export function figures(acc: Accumulated): Record<string, number> {
  const total = acc.segments.reduce((n, s) => n + s.length, 0);
  const all = new Float64Array(total);
  let at = 0;
  let driftSum = 0;
  for (const s of acc.segments) {
    all.set(s, at);
    at += s.length;
    const tenth = Math.max(1, Math.floor(s.length / 10));
    driftSum += medianOf(s, s.length - tenth, s.length) - medianOf(s, 0, tenth);
  }
  const abs = all.map(Math.abs).sort();
  const sorted = all.slice().sort();
  let early = 0;
  for (const v of all) if (v < 0) early++;
  return {
    ticks: total,
    p50_us: round(quantile(sorted, 0.5) * 1000),
    p99_us: round(quantile(sorted, 0.99) * 1000),
    p999_us: round(quantile(sorted, 0.999) * 1000),
    max_us: round(sorted[total - 1]! * 1000),
    abs_p99_us: round(quantile(abs, 0.99) * 1000),
    early_pct: round((early / total) * 100, 2),
    drift_us: round((driftSum / acc.segments.length) * 1000),
    cpu_core: round(acc.cpuMs / acc.wallMs, 3),
    wall_ms: round(acc.wallMs, 0),
  };
}

/** One measured point of the floor: its CPU and p99 lateness. */
export interface FloorPoint {
  cpu: number;
  p99: number;
}

/**
 * The floor's p99 at `cpu`, linearly interpolated between the two points
 * whose CPU brackets it (points sorted by CPU). Outside the measured range
 * the nearest end's p99 is taken and `clamped` is set.
 */
export function floorAt(points: readonly FloorPoint[], cpu: number): {
  p99: number;
  clamped: boolean;
} {
  const s = [...points].sort((a, b) => a.cpu - b.cpu);
  if (s.length === 0) return { p99: NaN, clamped: true };
  if (cpu <= s[0]!.cpu) return { p99: s[0]!.p99, clamped: cpu < s[0]!.cpu };
  const last = s[s.length - 1]!;
  if (cpu >= last.cpu) return { p99: last.p99, clamped: cpu > last.cpu };
  for (let i = 1; i < s.length; i++) {
    const a = s[i - 1]!;
    const b = s[i]!;
    if (cpu <= b.cpu) {
      const t = b.cpu === a.cpu ? 0 : (cpu - a.cpu) / (b.cpu - a.cpu);
      return { p99: a.p99 + t * (b.p99 - a.p99), clamped: false };
    }
  }
  return { p99: last.p99, clamped: true };
}

/** A small seeded generator, so the subject order of every round is reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A shuffled copy of `items`. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
