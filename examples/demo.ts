/**
 * `deno task demo`: the kernel at work, live, for 10 seconds or until Ctrl-C.
 *
 * - `control` 1 kHz control loop (deadline 1 ms), `sampler` 100 Hz, which
 *   publishes each sample on the bus, `reporter` 10 Hz;
 * - `filter`, an event-triggered task run once per sample;
 * - `hog`, a 20 Hz task that busy-waits 3 ms against a 1 ms budget: it
 *   climbs the budget tiers (warn, yield, isolate) and, being offloadable,
 *   ends up running in the offload pool, which frees the main thread;
 * - `crc`, a 50 Hz stream of CRC-32 jobs over 256 KiB, offloaded to a Worker.
 *
 * Once a second it prints one row per task: runs in that second, then start
 * lateness p99 and execution p99 since the start, and the running totals of
 * deadline misses and skipped ticks, and the budget tier; then a summary and
 * the graceful shutdown report.
 *
 * Environment: `DEMO_SECONDS` (default 10), `DEMO_PROFILE` (`efficient` |
 * `balanced` | `precise`, default `balanced`).
 *
 * @module
 */
import { BUDGET_TOPIC, type BudgetEvent, Kernel, type PrecisionProfile } from "../mod.ts";
import { envNumber } from "./_env.ts";

const seconds = envNumber("DEMO_SECONDS", 10);
const profile = (Deno.env.get("DEMO_PROFILE") ?? "balanced") as PrecisionProfile;
if (!["efficient", "balanced", "precise"].includes(profile)) {
  console.error(
    `Cannot run the demo as 'DEMO_PROFILE' must be one of "efficient", "balanced", "precise": current value is "${profile}"`,
  );
  Deno.exit(2);
}

const say = (message: string) => console.log(`  ! ${message}`);
const kernel = await Kernel.start({
  profile,
  logger: { error: say, warn: say, info: say },
  offload: {
    jobs: { checksum: new URL("./jobs/checksum.ts", import.meta.url) },
    minWorkers: 1,
    maxWorkers: 1,
  },
});

/** Busy-waits `ms` on the main thread: a task that computes too long. */
function burn(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* spin */ }
}

let setpoint = 0;
let output = 0;
kernel.periodic({
  name: "control",
  periodMs: 1,
  priority: 10,
  run: () => void (output += 0.1 * (setpoint - output)),
});
const samples = kernel.bus.topic<number>("samples");
let phase = 0;
kernel.periodic({
  name: "sampler",
  periodMs: 10,
  run: () => void samples.publish(Math.sin(phase += 0.1)),
});
let highSamples = 0;
kernel.onEvent<number>({
  name: "filter",
  topic: "samples",
  deadlineMs: 5,
  run: (ctx) => {
    setpoint = ctx.event;
    if (ctx.event > 0.99) highSamples++;
  },
});
kernel.periodic({ name: "reporter", periodMs: 100, run: () => void (setpoint *= 1) });
const payload = new Uint8Array(256 * 1024).map((_, i) => i * 7);
kernel.periodic({
  name: "hog",
  periodMs: 50,
  budgetMs: 1,
  run: () => burn(3),
  offload: { job: "checksum", input: () => payload },
});
let crcs = 0;
kernel.periodic({
  name: "crc",
  periodMs: 20,
  deadlineMs: 20,
  run: async () => {
    await kernel.offload.submit("checksum", payload);
    crcs++;
  },
});
const tierChanges: string[] = [];
kernel.bus.topic<BudgetEvent>(BUDGET_TOPIC).subscribe((e) => {
  tierChanges.push(`${e.task}: ${e.from} -> ${e.to} (${e.action})`);
});

const fmt = (
  ms: number,
) => (Number.isNaN(ms) ? "-" : ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);
const names = ["control", "sampler", "filter", "reporter", "hog", "crc"];
const lastRuns = new Map<string, number>();
console.log(
  `Chronetix kernel demo: ${names.length} tasks, profile ${profile}, ${seconds} s (Ctrl-C stops early)`,
);
console.log(
  "  runs/s: runs in the last second; start p99 (release to start) and exec p99: since the start;\n" +
    "  misses and skipped: totals since the start (skipped: periodic ticks dropped after a stall)",
);
console.log(
  "  s  " +
    ["task", "runs/s", "start p99", "exec p99", "misses", "skipped", "tier"].map((h, i) =>
      i === 0 ? h.padEnd(9) : h.padStart(10)
    ).join(""),
);

let second = 0;
const { promise: finished, resolve: finish } = Promise.withResolvers<void>();
const onSigint = () => finish();
Deno.addSignalListener("SIGINT", onSigint);
const ticker = kernel.driver.every(1000, () => {
  second++;
  const stats = kernel.executor.stats();
  for (const t of stats.perTask) {
    const rate = t.runs - (lastRuns.get(t.name) ?? 0);
    lastRuns.set(t.name, t.runs);
    console.log(
      `${String(second).padStart(3)}  ${t.name.padEnd(9)}${String(rate).padStart(10)}${
        fmt(t.schedulingLatency.p99).padStart(10)
      }${fmt(t.execution.p99).padStart(10)}${String(t.deadlineMisses).padStart(10)}${
        String(t.skippedTicks).padStart(10)
      }${t.tier.padStart(10)}`,
    );
  }
  if (second >= seconds) finish();
}, { latenessClass: "demo-report" });

await finished;
ticker.cancel();
Deno.removeSignalListener("SIGINT", onSigint);
const stats = kernel.stats();
const report = await kernel.shutdown({ graceMs: 2000 });

console.log("\nSummary");
for (const t of stats.executor.perTask) {
  console.log(
    `  ${t.name.padEnd(9)} ${String(t.runs).padStart(6)} runs  start lateness p50 ${
      fmt(t.schedulingLatency.p50)
    } p99 ${fmt(t.schedulingLatency.p99)}  exec p99 ${
      fmt(t.execution.p99)
    }  misses ${t.deadlineMisses}  skipped ${t.skippedTicks}  tier ${t.tier}${
      t.offloaded > 0 ? `  offloaded ${t.offloaded}` : ""
    }`,
  );
}
console.log(`  budget tier changes: ${tierChanges.length === 0 ? "none" : tierChanges.join("; ")}`);
console.log(
  `  CRC jobs done in the worker: ${crcs}; filter saw ${highSamples} samples above 0.99`,
);
const w = stats.driver.wakes;
console.log(
  `  driver wake-ups: ${w.far} by setTimeout (far from a deadline), ${w.near} by the waker ` +
    `Worker (near), ${w.imminent} by spinning on the clock (imminent); spinning took ${
      (w.spinMs / stats.uptimeMs * 100).toFixed(0)
    } % of the run`,
);
console.log(
  `  bus events published: ${stats.bus.topics.reduce((n, t) => n + t.published, 0)}`,
);
console.log(
  `  shutdown: ${report.graceful ? "graceful" : "cut off"} in ${
    report.durationMs.toFixed(1)
  } ms, ${report.runsCutOff} runs cut off, ${report.releasesDropped} releases dropped, offload drained ${report.offloadDrained}`,
);
