/**
 * `deno run -A examples/cron.ts [--seconds N]`: wall-clock schedules on the
 * kernel, for N seconds (default 4), then a graceful shutdown.
 *
 * - `tick`: a 6-field cron expression, every second at :00.000 of the second;
 * - `even`: an interval aligned to the wall clock, every 2 s on even seconds;
 * - `once`: a one-shot at a wall-clock time 1.5 s from now (an ISO string);
 * - `backup`: at 02:30 in Berlin, rescheduled to the last Sunday of March:
 *   its next dates show the spring-forward night moving it to 03:00 CEST
 *   (02:30 does not exist that night).
 *
 * Each run prints the fire it is for and how late it started (wall clock
 * minus fire time); `tick` is paused for a second half way and then resumes
 * without catching up, and `once` is also run by hand with `runNow()`.
 *
 * @module
 */
import { parseArgs } from "@std/cli/parse-args";
import { Kernel } from "../mod.ts";
import { alignedInterval, at, cron, type ScheduleRun } from "../src/schedule/mod.ts";

const args = parseArgs(Deno.args, { string: ["seconds"], default: { seconds: "4" } });
const seconds = Number(args.seconds);
if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
  console.error(
    `Cannot run the cron example as '--seconds' must be a number in (0, 3600]: current value is "${args.seconds}"`,
  );
  Deno.exit(2);
}

await using kernel = await Kernel.start({ name: "cron-example" });
const executor = kernel.executor;
const started = Date.now();
const clock = (t: number) => new Date(t).toISOString().slice(11, 23);
const report = (name: string) => (ctx: { event: ScheduleRun }) => {
  const { scheduledMs, skipped, manual } = ctx.event;
  const late = Date.now() - scheduledMs;
  console.log(
    `${clock(Date.now())}  ${name.padEnd(6)} fire ${clock(scheduledMs)}  late ${late} ms${
      manual ? "  (runNow)" : ""
    }${skipped > 0 ? `  (${skipped} skipped)` : ""}`,
  );
};

const tick = cron(executor, {
  name: "tick",
  cron: "* * * * * *",
  timezone: "UTC",
  run: report("tick"),
});
cron(executor, {
  name: "even",
  cron: alignedInterval(2_000),
  timezone: "UTC",
  run: report("even"),
});
const once = at(executor, {
  name: "once",
  at: new Date(started + 1_500).toISOString(),
  run: report("once"),
});
const backup = cron(executor, {
  name: "backup",
  cron: "30 2 * * *",
  timezone: "Europe/Berlin",
  run: report("backup"),
});
backup.reschedule("30 2 * 3 SUN#L"); // the last Sunday of March: the spring-forward night
console.log(`backup (${backup.schedule}, ${backup.timezone}) next fires:`);
for (const d of backup.nextDates(3)) console.log(`  ${d.toISOString()}`);
once.runNow();

const half = Math.max(1, Math.floor(seconds / 2)) * 1_000;
kernel.once({
  name: "pause-tick",
  delayMs: half,
  run: () => {
    tick.pause();
    console.log(`${clock(Date.now())}  tick   paused (${tick.state})`);
  },
});
kernel.once({
  name: "resume-tick",
  delayMs: half + 1_000,
  run: () => {
    tick.resume();
    console.log(
      `${clock(Date.now())}  tick   resumed, next ${clock(tick.nextDates(1)[0]!.getTime())}`,
    );
  },
});

await new Promise((resolve) => setTimeout(resolve, seconds * 1_000));
for (const name of ["tick", "even", "once"]) {
  const s = executor.task(name)?.stats();
  if (s === undefined) continue;
  console.log(
    `${name.padEnd(6)} runs ${s.runs}, scheduling latency p99 ${
      s.schedulingLatency.p99.toFixed(3)
    } ms, skipped ${s.skippedTicks}, state ${s.state}`,
  );
}
const shutdown = await kernel.shutdown({ graceMs: 500 });
console.log(`shutdown: ${JSON.stringify(shutdown)}`);
