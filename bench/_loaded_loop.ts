// The shape both loop cases of `bench:server` share (`loop-under-scrape`,
// `dashboard`): a 1 kHz loop in an island (`chronetix:island`) and on the
// kernel's main thread (`chronetix:precise`), each measured in rounds that
// interleave a run without and a run with a load process (switched on and
// off over stdin, bench/_switched_process.ts), the order flipped each round.

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

/** What {@linkcode interleavedRounds} measured. */
export interface InterleavedRounds<T> {
  idle: Tails;
  loaded: Tails;
  /** What the load process printed for each loaded run. */
  loads: T[];
}

/**
 * Runs `rounds` rounds of one run without and one with the load, each of
 * `ticks` ticks at 1 kHz; the loaded run starts `settleMs` after the load is
 * switched on. `onRound` sees each round's figures as they come.
 */
export async function interleavedRounds<T>(
  loop: DriftSubject,
  load: SwitchedProcess<T>,
  options: {
    ticks: number;
    rounds: number;
    settleMs: number;
    onRound(round: number, idle: Tails, loaded: Tails, out: T): void;
  },
): Promise<InterleavedRounds<T>> {
  const idle: Tails = { p99: [], p999: [] };
  const loaded: Tails = { p99: [], p999: [] };
  const loads: T[] = [];
  const measure = async (into: Tails) => {
    await loop.begin?.(1);
    const samples = await loop.run(1, options.ticks);
    await loop.end?.();
    const sorted = Float64Array.from(samples).sort();
    into.p99.push(quantile(sorted, 0.99) * 1000);
    into.p999.push(quantile(sorted, 0.999) * 1000);
  };
  const withLoad = async () => {
    await load.on();
    await new Promise((resolve) => setTimeout(resolve, options.settleMs));
    await measure(loaded);
    loads.push(await load.off());
  };
  for (let r = 0; r < options.rounds; r++) {
    if (r % 2 === 0) {
      await measure(idle);
      await withLoad();
    } else {
      await withLoad();
      await measure(idle);
    }
    options.onRound(r + 1, idle, loaded, loads.at(-1)!);
  }
  return { idle, loaded, loads };
}
