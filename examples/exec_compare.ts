/**
 * The same workload under the executor's adaptive tick and under a fixed
 * tick, one after the other: 20 periodic tasks (periods 1 to 50 ms,
 * deadline = period, each body 20-200 µs of work). For each mode it prints
 * runs, deadline misses, start lateness p50/p99, the driver's wake-ups
 * from sleep per second, and its short spins before deadlines per second.
 *
 * ```sh
 * deno run --allow-env --allow-read=. examples/exec_compare.ts
 * EXEC_SECONDS=5 EXEC_FIXED_MS=2 deno run --allow-env --allow-read=. examples/exec_compare.ts
 * ```
 *
 * Environment: `EXEC_SECONDS` per mode (default 3), `EXEC_FIXED_MS` the
 * fixed tick (default 1).
 *
 * @module
 */
import { Kernel } from "../mod.ts";
import { envNumber } from "./_env.ts";

const seconds = envNumber("EXEC_SECONDS", 3);
const fixedMs = envNumber("EXEC_FIXED_MS", 1);
const PERIODS = [1, 2, 2, 5, 5, 5, 10, 10, 10, 10, 20, 20, 20, 25, 25, 40, 50, 50, 50, 50];

function work(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) { /* compute */ }
}

async function run(tick: "adaptive" | { fixedMs: number }): Promise<string> {
  const kernel = await Kernel.start({ profile: "balanced", executor: { tick } });
  PERIODS.forEach((periodMs, i) => {
    kernel.periodic({ name: `t${i}`, periodMs, run: () => work(20 + (i * 47) % 180) });
  });
  const { promise, resolve } = Promise.withResolvers<void>();
  kernel.driver.after(seconds * 1000, () => resolve());
  await promise;
  const stats = kernel.stats();
  await kernel.shutdown({ graceMs: 1000 });
  let runs = 0;
  let misses = 0;
  for (const t of stats.executor.perTask) {
    runs += t.runs;
    misses += t.deadlineMisses;
  }
  const s = stats.executor.schedulingLatency;
  const w = stats.driver.wakes;
  // Wake-ups from sleep (a timer or the waker thread); spins before a
  // deadline are counted apart.
  const wakes = (w.far + w.near) / (stats.uptimeMs / 1000);
  const spins = w.imminent / (stats.uptimeMs / 1000);
  const name = tick === "adaptive" ? "adaptive" : `fixed ${tick.fixedMs} ms`;
  return `${name.padEnd(12)}${String(runs).padStart(8)}${String(misses).padStart(8)}${
    ((s.p50 * 1000).toFixed(0) + " µs").padStart(11)
  }${((s.p99 * 1000).toFixed(0) + " µs").padStart(11)}${wakes.toFixed(0).padStart(10)}${
    spins.toFixed(0).padStart(10)
  }`;
}

console.log(`${PERIODS.length} periodic tasks, ${seconds} s per mode (balanced profile)`);
console.log(
  `${"tick".padEnd(12)}${"runs".padStart(8)}${"misses".padStart(8)}${"late p50".padStart(11)}${
    "late p99".padStart(11)
  }${"wakes/s".padStart(10)}${"spins/s".padStart(10)}`,
);
console.log(await run("adaptive"));
console.log(await run({ fixedMs }));
