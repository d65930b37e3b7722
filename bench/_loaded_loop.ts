// The shape both loop cases of `bench:server` share (`loop-under-scrape`,
// `dashboard`): a 1 kHz loop in an island (`chronetix:island`) and on the
// kernel's main thread (`chronetix:precise`), each measured in rounds that
// interleave a run without a load and a run with each load process (switched
// on and off over stdin, bench/_switched_process.ts), the order rotated each
// round.

import type { Kernel } from "../mod.ts";
import type { DriftSubject } from "./_drift_subject.ts";
import { quantile } from "./_drift_stats.ts";
import type { SwitchedProcess } from "./_switched_process.ts";

/** A subject's name and its loop, or why it is skipped. */
export type LoopSubject = [subject: string, loop: DriftSubject | undefined, note: string];

/** The main-thread loop: a 1 kHz task of a precise-profile kernel, its lateness measured at entry. */
function preciseSubject(kernel: Kernel): DriftSubject {
  return {
    run(periodMs, ticks) {
      const lateness = new Float64Array(ticks);
      const { promise, resolve } = Promise.withResolvers<Float64Array>();
      let k = 0;
      const handle = kernel.periodic({
        name: `loop-${performance.now()}`,
        periodMs,
        run: (ctx) => {
          if (k < ticks) lateness[k++] = performance.now() - ctx.release;
          if (k === ticks) {
            queueMicrotask(() => {
              handle.cancel();
              resolve(lateness);
            });
            k++;
          }
        },
      });
      return promise;
    },
  };
}

/** `chronetix:island` (skipped with a note where it cannot run) and `chronetix:precise` on `kernel`. */
export async function loopSubjects(kernel: Kernel): Promise<LoopSubject[]> {
  const subjects: LoopSubject[] = [];
  try {
    const mod = await import("./_island_subject.ts");
    subjects.push(["chronetix:island", mod.islandSubject(), ""]);
  } catch (error) {
    subjects.push(["chronetix:island", undefined, `skipped: ${(error as Error).message}`]);
  }
  subjects.push(["chronetix:precise", preciseSubject(kernel), ""]);
  return subjects;
}

/** Tails of the runs of one condition, µs, one entry per round. */
export interface Tails {
  p99: number[];
  p999: number[];
}

/** What {@linkcode interleavedLoads} measured: the idle runs, and per load its runs and lines. */
export interface InterleavedLoads<T> {
  idle: Tails;
  loaded: Tails[];
  loads: T[][];
}

/** Options of {@linkcode interleavedLoads}. */
export interface InterleaveOptions {
  /** Ticks per run, at 1 kHz. */
  ticks: number;
  /** Rounds: one run of each condition per round. */
  rounds: number;
  /** How long a load runs before its run starts, ms. */
  settleMs: number;
}

/**
 * Runs `rounds` rounds; each runs the loop for `ticks` ticks at 1 kHz once
 * idle and once under each load (the loaded run starts `settleMs` after the
 * load is switched on), the order rotated round by round (round r starts at
 * condition r mod (loads + 1)), so that no condition always comes first.
 * `onRound` sees each round's figures as they come.
 */
export async function interleavedLoads<T>(
  loop: DriftSubject,
  loads: readonly SwitchedProcess<T>[],
  options: InterleaveOptions & {
    onRound(round: number, idle: Tails, loaded: Tails[], outs: T[]): void;
  },
): Promise<InterleavedLoads<T>> {
  const idle: Tails = { p99: [], p999: [] };
  const loaded: Tails[] = loads.map(() => ({ p99: [], p999: [] }));
  const lines: T[][] = loads.map(() => []);
  const measure = async (into: Tails) => {
    await loop.begin?.(1);
    const samples = await loop.run(1, options.ticks);
    await loop.end?.();
    const sorted = Float64Array.from(samples).sort();
    into.p99.push(quantile(sorted, 0.99) * 1000);
    into.p999.push(quantile(sorted, 0.999) * 1000);
  };
  const conditions = loads.length + 1;
  for (let r = 0; r < options.rounds; r++) {
    for (let k = 0; k < conditions; k++) {
      const c = (r + k) % conditions;
      if (c === 0) {
        await measure(idle);
        continue;
      }
      const load = loads[c - 1]!;
      await load.on();
      await new Promise((resolve) => setTimeout(resolve, options.settleMs));
      await measure(loaded[c - 1]!);
      lines[c - 1]!.push(await load.off());
    }
    options.onRound(r + 1, idle, loaded, lines.map((l) => l.at(-1)!));
  }
  return { idle, loaded, loads: lines };
}
