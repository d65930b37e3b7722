// Wall-clock steps, suspends and stalls: the schedule is timed on the
// monotonic clock and re-reads the wall clock at each wake-up (at least
// every `checkMs`). Catch-up policy under test:
// - forward (step, suspend, stall): one late run for the latest fire passed,
//   the others skipped and counted; beyond `maxLateMs` none runs;
// - back by up to 3 h: no fire runs twice, the schedule waits for the wall
//   clock to come back;
// - back by more than 3 h: a clock reset, the next fire is derived again.

import { assert, assertEquals } from "@std/assert";
import { Executor } from "../../src/exec/executor.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { VirtualWallClock } from "../../src/time/virtual_wall_clock.ts";
import { at, cron } from "../../src/schedule/mod.ts";
import type { ScheduleRun } from "../../src/schedule/mod.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;

function setup(start: string) {
  const clock = new VirtualClock();
  const wall = new VirtualWallClock(clock, start);
  const executor = new Executor({ clock });
  const runs: (ScheduleRun & { mono: number; wall: string })[] = [];
  const record = (ctx: { event: ScheduleRun }) =>
    void runs.push({ ...ctx.event, mono: clock.now(), wall: new Date(wall.now()).toISOString() });
  const fires = () => runs.map((r) => new Date(r.scheduledMs).toISOString().slice(11, 19));
  return { clock, wall, executor, runs, record, fires };
}

Deno.test("cron() after a forward step runs once, late, for the latest fire passed", () => {
  const { clock, wall, executor, runs, record, fires } = setup("2026-05-04T10:30:00Z");
  using _ = executor;
  const task = cron(executor, { name: "hourly", cron: "0 * * * *", timezone: "UTC", run: record });
  clock.advance(10 * MINUTE); // 10:40
  wall.step(3 * HOUR); // 13:40: 11:00, 12:00 and 13:00 passed
  clock.advance(30_000); // the next look at the wall clock (checkMs)
  assertEquals(fires(), ["13:00:00"]);
  assertEquals(runs[0]!.skipped, 2);
  assert(runs[0]!.mono <= 10 * MINUTE + 30_000, "noticed within checkMs of the step");
  assertEquals(task.stats().skippedTicks, 2);
  assertEquals(task.wallSteps, 1);
  clock.advance(HOUR);
  assertEquals(fires(), ["13:00:00", "14:00:00"]);
  assertEquals(runs[1]!.wall, "2026-05-04T14:00:00.000Z", "on time again after the step");
});

Deno.test("cron() after a suspend runs the missed daily fire once", () => {
  const { clock, wall, executor, runs, record, fires } = setup("2026-05-04T00:00:00Z");
  using _ = executor;
  cron(executor, { name: "backup", cron: "0 3 * * *", timezone: "UTC", run: record });
  clock.advance(HOUR); // 01:00
  // Suspended for 4 h: the monotonic clock stood still, the wall clock did not.
  wall.step(4 * HOUR);
  clock.advance(30_000);
  assertEquals(fires(), ["03:00:00"]);
  assertEquals(runs[0]!.wall, "2026-05-04T05:00:30.000Z");
  assertEquals(runs[0]!.skipped, 0);
  clock.advance(24 * HOUR);
  assertEquals(fires(), ["03:00:00", "03:00:00"]);
  assertEquals(runs[1]!.wall, "2026-05-05T03:00:00.000Z");
});

Deno.test("cron() after a stall (both clocks jump) runs once and counts the rest", () => {
  const { clock, executor, runs, record, fires } = setup("2026-05-04T10:00:00Z");
  using _ = executor;
  const task = cron(executor, {
    name: "quarter",
    cron: "*/15 * * * *",
    timezone: "UTC",
    run: record,
  });
  clock.stall(HOUR + 5 * MINUTE); // blocked until 11:05
  assertEquals(fires(), ["11:00:00"]);
  assertEquals(runs[0]!.skipped, 3);
  assertEquals(task.wallSteps, 0, "a stall is no wall-clock step");
  clock.advance(10 * MINUTE);
  assertEquals(fires(), ["11:00:00", "11:15:00"]);
});

Deno.test("cron() with maxLateMs skips a fire found too late", () => {
  const { clock, wall, executor, runs, record } = setup("2026-05-04T10:30:00Z");
  using _ = executor;
  const task = cron(executor, {
    name: "hourly",
    cron: "0 * * * *",
    timezone: "UTC",
    maxLateMs: MINUTE,
    run: record,
  });
  wall.step(HOUR); // 11:30: 11:00 is 30 min late
  clock.advance(30_000);
  assertEquals(runs.length, 0);
  assertEquals(task.stats().skippedTicks, 1);
  clock.advance(HOUR);
  assertEquals(runs.map((r) => new Date(r.scheduledMs).toISOString()), [
    "2026-05-04T12:00:00.000Z",
  ]);
});

Deno.test("cron() after a backward step of up to 3 h never runs a fire twice", () => {
  const { clock, wall, executor, record, fires, runs } = setup("2026-05-04T10:00:00Z");
  using _ = executor;
  const task = cron(executor, {
    name: "quarter",
    cron: "*/15 * * * *",
    timezone: "UTC",
    run: record,
  });
  clock.advance(20 * MINUTE); // 10:20, ran 10:15
  assertEquals(fires(), ["10:15:00"]);
  wall.step(-HOUR); // 09:20: 09:30 ... 10:15 already ran (on the clock as it was)
  clock.advance(69 * MINUTE); // wall 10:29
  assertEquals(fires(), ["10:15:00"], "no fire runs twice");
  clock.advance(MINUTE); // wall 10:30
  assertEquals(fires(), ["10:15:00", "10:30:00"]);
  assertEquals(runs[1]!.wall, "2026-05-04T10:30:00.000Z", "on time on the stepped clock");
  assertEquals(task.wallSteps, 1);
});

Deno.test("cron() after a backward step of more than 3 h treats it as a clock reset", () => {
  const { clock, wall, executor, fires, record } = setup("2026-05-04T10:00:00Z");
  using _ = executor;
  cron(executor, { name: "quarter", cron: "*/15 * * * *", timezone: "UTC", run: record });
  clock.advance(20 * MINUTE);
  wall.step(-5 * HOUR); // 05:20
  clock.advance(10 * MINUTE); // 05:30
  assertEquals(fires(), ["10:15:00", "05:30:00"]);
});

Deno.test("cron() notices a step forward of less than checkMs at its fire", () => {
  const { clock, wall, executor, fires, runs, record } = setup("2026-05-04T10:59:00Z");
  using _ = executor;
  cron(executor, { name: "hourly", cron: "0 * * * *", timezone: "UTC", run: record });
  clock.advance(10_000); // 10:59:10
  wall.step(20_000); // 10:59:30
  clock.advance(30_000); // armed for 11:00 by the old offset: wall says 11:00:20 at the wake
  assertEquals(fires(), ["11:00:00"]);
  assert(runs[0]!.wall <= "2026-05-04T11:00:30.000Z");
});

Deno.test("at() fires once at its wall time, moved by a step, never twice", () => {
  const { clock, wall, executor, fires, record } = setup("2026-05-04T10:00:00Z");
  using _ = executor;
  const task = at(executor, { name: "once", at: "2026-05-04T12:00:00Z", run: record });
  clock.advance(HOUR); // 11:00
  wall.step(-30 * MINUTE); // 10:30: 12:00 is 90 min away now
  clock.advance(HOUR); // 11:30
  assertEquals(fires(), []);
  clock.advance(30 * MINUTE);
  assertEquals(fires(), ["12:00:00"]);
  assertEquals(task.state, "done");
  wall.step(-HOUR);
  clock.advance(2 * HOUR);
  assertEquals(fires(), ["12:00:00"]);
  assertEquals(task.nextRuns(3), []);
});

Deno.test("at() with a time already past runs at once, or not with maxLateMs", () => {
  const { clock, executor, runs, record } = setup("2026-05-04T10:00:00Z");
  using _ = executor;
  at(executor, { name: "past", at: new Date("2026-05-04T09:00:00Z"), run: record });
  const skipped = at(executor, {
    name: "too-late",
    at: "2026-05-04T09:00:00Z",
    maxLateMs: MINUTE,
    run: record,
  });
  clock.advance(0);
  assertEquals(runs.length, 1);
  assertEquals(runs[0]!.wall, "2026-05-04T10:00:00.000Z");
  assertEquals(skipped.stats().skippedTicks, 1);
  assertEquals(skipped.stats().runs, 0);
});
