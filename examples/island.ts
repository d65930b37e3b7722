/**
 * A 1 kHz control loop in an island beside a busy main thread.
 *
 * Run: `deno run --allow-read=. --allow-ffi examples/island.ts`
 * (`--allow-read` lets the island's thread load this file as its task module;
 * `--allow-ffi` lets it ask Linux for the real-time policy, SCHED_FIFO, which
 * it gets where the process may have it: root, `CAP_SYS_NICE` or an
 * `RLIMIT_RTPRIO` allowance. Without either, it runs under the normal policy.)
 *
 * The main thread runs its own 1 kHz task (`kernel.periodic`) and is kept
 * busy: 3 ms of synchronous work every 20 ms, and allocation churn that
 * triggers garbage collection. Each second both loops' lateness (release to
 * start) is printed: the main-thread loop takes every stall; the island's
 * loop, on its own thread, does not. Ends by itself after 5 s.
 *
 * This file is also the island's task module: it exports `control`.
 *
 * @module
 */
import { Kernel, type LatencySnapshot } from "../mod.ts";
import type { IslandTaskContext } from "../mod.ts";

/** The island's task: a stand-in control step that publishes its output. */
export function control(ctx: IslandTaskContext): void {
  const setpoint = ctx.values.in?.get("setpoint") ?? 0;
  ctx.values.out?.write({ output: setpoint * 0.5, at: ctx.release });
}

function us(s: LatencySnapshot): string {
  return `p50 ${(s.p50 * 1000).toFixed(1).padStart(7)} µs  p99 ${
    (s.p99 * 1000).toFixed(1).padStart(8)
  } µs`;
}

if (import.meta.main) {
  await using kernel = await Kernel.start({ profile: "precise" });
  const island = await kernel.island({
    name: "control",
    module: new URL(import.meta.url),
    tasks: [{ name: "control", periodMs: 1 }],
    values: { in: ["setpoint"], out: ["output", "at"] },
  });
  const main = kernel.periodic({ name: "main-loop", periodMs: 1, run: () => {} });
  const stats = island.stats();
  console.log(
    `island thread: ${
      stats.scheduling === "realtime" ? "SCHED_FIFO" : "normal policy"
    }, least spin lead ${stats.leadUs} µs`,
  );

  // The busy main thread: 3 ms of sync work every 20 ms, plus allocation churn.
  let junk: unknown[] = [];
  const busy = setInterval(() => {
    const end = performance.now() + 3;
    while (performance.now() < end) junk.push({ at: performance.now(), payload: new Array(64) });
    if (junk.length > 200_000) junk = [];
  }, 20);

  for (let second = 1; second <= 5; second++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    island.values.in!.write({ setpoint: second });
    const islandTask = island.stats().perTask[0]!;
    console.log(
      `${second}s  island: ${us(islandTask.schedulingLatency)}   main thread: ${
        us(main.stats().schedulingLatency)
      }`,
    );
  }
  clearInterval(busy);
  const report = await kernel.shutdown();
  console.log(
    `island closed: ${report.islands[0]?.runs} runs, graceful ${report.islands[0]?.graceful}`,
  );
}
