// The `chronetix:island` subject of `bench:drift`: a periodic task in an
// Island. This file is also the island's task module: `tick` measures its
// own lateness inside the island (entry time minus the release the island
// handed it, both on the island thread's clock) and sends each sample as an
// 8-byte frame on the island's out ring, which the main thread reads when
// the run's ticks are due: shared memory, no message per tick. Each run gets
// a fresh island, started, warmed up and closed outside the measurement; its
// first WARM_TICKS ticks are not recorded, so the loop is compiled before it
// is measured.

import { Island, type IslandScheduling, type IslandTaskContext } from "../mod.ts";
import type { DriftSubject } from "./_drift_subject.ts";

/** Ticks run before recording, so the JIT has compiled the loop. */
const WARM_TICKS = 200;

// Island side: the task module.
let skip = WARM_TICKS;
const sample = new Float64Array(1);
const bytes = new Uint8Array(sample.buffer);

/** Island side: one tick; after the warm-up, sends its lateness (ms) as a frame. */
export function tick(ctx: IslandTaskContext): void {
  const lateness = ctx.now() - ctx.release;
  if (skip > 0) {
    skip--;
    return;
  }
  sample[0] = lateness;
  ctx.rings.out?.send(bytes);
}

/**
 * The island as a drift subject.
 *
 * @param options The island's spin lead (least and most) and thread priority; its defaults when left out.
 * @returns The subject.
 */
export function islandSubject(
  options: {
    leadUs?: number;
    maxLeadUs?: number;
    priority?: number;
    scheduling?: IslandScheduling;
  } = {},
): DriftSubject {
  const module = new URL(import.meta.url);
  const start = (periodMs: number) =>
    Island.start({
      name: "drift",
      module,
      tasks: [{ name: "tick", periodMs }],
      rings: { out: { slots: 1 << 14, slotSize: 8 } },
      leadUs: options.leadUs,
      maxLeadUs: options.maxLeadUs,
      priority: options.priority,
      scheduling: options.scheduling,
    });
  let island: Island | undefined;
  /** Runs whose island thread got the real-time policy, of all runs. */
  let realtimeRuns = 0;
  let runs = 0;
  return {
    async prepare(periodMs: number): Promise<void> {
      // Compiles the island's module graph once, outside the measured runs.
      await (await start(periodMs)).close();
    },
    async begin(periodMs: number): Promise<void> {
      // A fresh island per run, started outside the measurement: between runs
      // no island spins beside the other subjects. Its warm-up (the fresh
      // isolate's compiling, the first WARM_TICKS ticks) also stays outside:
      // the run starts once the first recorded tick is on the ring, as a
      // long-running island would be measured.
      island = await start(periodMs);
      runs++;
      if (island.stats().scheduling === "realtime") realtimeRuns++;
      const reader = island.rings.out!;
      while (reader.poll(() => {}, 1) === 0) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async run(periodMs: number, ticks: number): Promise<Float64Array> {
      const lateness = new Float64Array(ticks);
      let n = 0;
      const reader = island!.rings.out!;
      const value = new Float64Array(1);
      const valueBytes = new Uint8Array(value.buffer);
      // Ticks before this run's start are not its own.
      reader.poll(() => {});
      const drain = () =>
        reader.poll((slot, length) => {
          valueBytes.set(slot.subarray(0, length));
          if (n < ticks) lateness[n++] = value[0]!;
        });
      // Read once the run's ticks are due (the ring holds them all), then
      // every 5 ms: like the floor, which reports once, the main thread
      // stays idle while the island runs.
      await new Promise((resolve) => setTimeout(resolve, ticks * periodMs));
      for (drain(); n < ticks; drain()) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return lateness;
    },
    async end(): Promise<void> {
      await island?.close({ graceMs: 1000 });
      island = undefined;
    },
    figures: () => ({ realtime_share: runs === 0 ? 0 : realtimeRuns / runs }),
  };
}
