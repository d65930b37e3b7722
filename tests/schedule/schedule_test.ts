import { assert, assertEquals, assertThrows } from "@std/assert";
import { Executor } from "../../src/exec/executor.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { VirtualWallClock } from "../../src/time/virtual_wall_clock.ts";
import { SYSTEM_WALL_CLOCK } from "../../src/time/wall_clock.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { alignedInterval, at, cron } from "../../src/schedule/mod.ts";
import type { ScheduleRun } from "../../src/schedule/mod.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

function setup(start: string, executorOptions: ConstructorParameters<typeof Executor>[0] = {}) {
  const clock = new VirtualClock();
  const wall = new VirtualWallClock(clock, start);
  const executor = new Executor({ clock, ...executorOptions });
  const runs: ScheduleRun[] = [];
  const record = (ctx: { event: ScheduleRun }) => void runs.push(ctx.event);
  const fires = () => runs.map((r) => new Date(r.scheduledMs).toISOString());
  return { clock, wall, executor, runs, record, fires };
}

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

Deno.test("cron() fires on leap days only (Feb 29), years apart", () => {
  const { clock, executor, fires, record } = setup("2026-01-01T00:00:00Z");
  using _ = executor;
  const task = cron(executor, {
    name: "leap",
    cron: "0 12 29 2 *",
    timezone: "UTC",
    checkMs: DAY,
    run: record,
  });
  assertEquals(iso(task.nextDates(2)), ["2028-02-29T12:00:00.000Z", "2032-02-29T12:00:00.000Z"]);
  clock.advance(7 * 365 * DAY);
  assertEquals(fires(), ["2028-02-29T12:00:00.000Z", "2032-02-29T12:00:00.000Z"]);
});

Deno.test("cron() at month ends: day 31 skips short months, L is the last day", async (t) => {
  await t.step("day 31", () => {
    const { clock, executor, fires, record } = setup("2026-01-01T00:00:00Z");
    using _ = executor;
    cron(executor, { name: "d31", cron: "0 0 31 * *", timezone: "UTC", checkMs: DAY, run: record });
    clock.advance(365 * DAY);
    assertEquals(fires().map((f) => f.slice(0, 10)), [
      "2026-01-31",
      "2026-03-31",
      "2026-05-31",
      "2026-07-31",
      "2026-08-31",
      "2026-10-31",
      "2026-12-31",
    ]);
  });
  await t.step("L (last day), across a leap February", () => {
    const { clock, executor, fires, record } = setup("2027-12-15T00:00:00Z");
    using _ = executor;
    cron(executor, { name: "last", cron: "0 0 L * *", timezone: "UTC", checkMs: DAY, run: record });
    clock.advance(100 * DAY);
    assertEquals(fires().map((f) => f.slice(0, 10)), ["2027-12-31", "2028-01-31", "2028-02-29"]);
  });
  await t.step("day 30 in a zone: the local date, not the UTC one", () => {
    const { clock, executor, fires, record } = setup("2026-01-01T00:00:00Z");
    using _ = executor;
    cron(executor, {
      name: "d30",
      cron: "0 0 30 * *",
      timezone: "Australia/Lord_Howe",
      checkMs: DAY,
      run: record,
    });
    clock.advance(90 * DAY);
    // Local midnight on the 30th is the 29th in UTC (+11 in summer, +10:30 from April).
    assertEquals(fires(), ["2026-01-29T13:00:00.000Z", "2026-03-29T13:00:00.000Z"]);
  });
});

Deno.test("cron() takes 5 and 6 fields and the nicknames", async (t) => {
  const cases: [string, string[]][] = [
    ["*/20 * * * * *", ["2026-05-04T10:00:20.000Z", "2026-05-04T10:00:40.000Z"]],
    ["0 0 * * 1-5", ["2026-05-05T00:00:00.000Z", "2026-05-06T00:00:00.000Z"]],
    ["@hourly", ["2026-05-04T11:00:00.000Z", "2026-05-04T12:00:00.000Z"]],
    ["@daily", ["2026-05-05T00:00:00.000Z", "2026-05-06T00:00:00.000Z"]],
    ["@midnight", ["2026-05-05T00:00:00.000Z", "2026-05-06T00:00:00.000Z"]],
    ["@weekly", ["2026-05-10T00:00:00.000Z", "2026-05-17T00:00:00.000Z"]],
    ["@monthly", ["2026-06-01T00:00:00.000Z", "2026-07-01T00:00:00.000Z"]],
    ["@yearly", ["2027-01-01T00:00:00.000Z", "2028-01-01T00:00:00.000Z"]],
    ["@annually", ["2027-01-01T00:00:00.000Z", "2028-01-01T00:00:00.000Z"]],
    [" 0 9 * * MON ", ["2026-05-11T09:00:00.000Z", "2026-05-18T09:00:00.000Z"]],
  ];
  for (const [expression, want] of cases) {
    await t.step(expression, () => {
      const { executor, record } = setup("2026-05-04T10:00:00Z");
      using _ = executor;
      const task = cron(executor, { name: "x", cron: expression, timezone: "UTC", run: record });
      assertEquals(iso(task.nextDates(2)), want);
      assertEquals(task.schedule, expression.trim());
    });
  }
});

Deno.test("alignedInterval() fires at the marks of the wall clock, not from the start", () => {
  const { clock, executor, fires, record } = setup("2026-05-04T10:07:13Z");
  using _ = executor;
  const task = cron(executor, {
    name: "aligned",
    cron: alignedInterval(15 * MINUTE),
    timezone: "UTC",
    run: record,
  });
  clock.advance(HOUR);
  assertEquals(fires().map((f) => f.slice(11, 19)), [
    "10:15:00",
    "10:30:00",
    "10:45:00",
    "11:00:00",
  ]);
  task.reschedule(alignedInterval(20 * MINUTE, { offsetMs: 5 * MINUTE }));
  clock.advance(HOUR);
  assertEquals(fires().slice(4).map((f) => f.slice(11, 19)), ["11:25:00", "11:45:00", "12:05:00"]);
});

Deno.test("alignedInterval() writes expressions and refuses periods that do not divide", () => {
  assertEquals(alignedInterval(1_000), "* * * * * *");
  assertEquals(alignedInterval(30_000, { offsetMs: 10_000 }), "10-59/30 * * * * *");
  assertEquals(alignedInterval(MINUTE), "0 * * * * *");
  assertEquals(alignedInterval(HOUR), "0 0 * * * *");
  assertEquals(alignedInterval(2 * HOUR, { offsetMs: HOUR + 90_000 }), "30 1 1-23/2 * * *");
  assertEquals(alignedInterval(DAY), "0 0 0 * * *");
  assertThrows(() => alignedInterval(7 * MINUTE), RangeError, "'periodMs' must divide");
  assertThrows(() => alignedInterval(1_500), RangeError, "'periodMs' must divide");
  assertThrows(() => alignedInterval(2 * DAY), RangeError, "'periodMs' must divide");
  assertThrows(() => alignedInterval(MINUTE, { offsetMs: MINUTE }), RangeError, "'offsetMs'");
  assertThrows(() => alignedInterval(MINUTE, { offsetMs: 500 }), RangeError, "'offsetMs'");
  // deno-lint-ignore no-explicit-any
  assertThrows(() => alignedInterval("1m" as any), TypeError, "'periodMs'");
});

Deno.test("cron() is a task like the others: stats, deadline, metrics, ctx.release on time", () => {
  const registry = new MetricsRegistry();
  const { clock, executor } = setup("2026-05-04T10:00:00Z", { metrics: registry });
  using _ = executor;
  const releases: number[] = [];
  const task = cron(executor, {
    name: "slow",
    cron: "*/10 * * * * *",
    timezone: "UTC",
    deadlineMs: 1_000,
    run: (ctx) => {
      releases.push(ctx.release);
      clock.spend(2_000);
    },
  });
  clock.advance(30_000);
  assertEquals(releases, [10_000, 20_000, 30_000]);
  const stats = task.stats();
  assertEquals([stats.kind, stats.runs, stats.deadlineMisses], ["schedule", 3, 3]);
  assertEquals(executor.task("slow")?.stats().runs, 3);
  assert(registry.exposeText().includes('task="slow"'));
});

Deno.test("ScheduleHandle: pause, resume, runNow, nextRuns, nextDates, reschedule", () => {
  const { clock, executor, runs, fires, record } = setup("2026-05-04T10:00:00Z");
  using _ = executor;
  const task = cron(executor, { name: "q", cron: "*/15 * * * *", timezone: "UTC", run: record });
  assertEquals(task.nextRuns(2), [15 * MINUTE, 30 * MINUTE]);
  assertEquals(task.timezone, "UTC");
  assertEquals(task.pause(), true);
  assertEquals(task.pause(), false);
  assertEquals(task.state, "paused");
  assertEquals(task.nextRuns(2), []);
  assertEquals(task.nextDates(2), []);
  clock.advance(40 * MINUTE); // 10:40: 10:15 and 10:30 pass while paused
  task.runNow();
  clock.advance(0);
  assertEquals(runs.length, 1);
  assertEquals(runs[0]!.manual, true);
  assertEquals(task.state, "paused");
  task.resume();
  assertEquals(iso(task.nextDates(1)), ["2026-05-04T10:45:00.000Z"], "paused fires are not run");
  clock.advance(5 * MINUTE);
  assertEquals(fires().slice(1), ["2026-05-04T10:45:00.000Z"]);
  assertEquals(task.stats().skippedTicks, 0);
  task.reschedule("0 12 * * *");
  assertEquals(task.schedule, "0 12 * * *");
  assertEquals(iso(task.nextDates(1)), ["2026-05-04T12:00:00.000Z"]);
  assertThrows(() => task.reschedule("not cron"), TypeError, "'schedule'");
  assertThrows(() => task.reschedule("0 0 30 2 *"), RangeError, "must fire at least once");
  assertEquals(task.schedule, "0 12 * * *", "a bad reschedule changes nothing");
  assertThrows(() => task.setPeriod(1_000), TypeError, "use reschedule()");
  assertThrows(() => task.nextDates(0), RangeError, "'count'");
  clock.advance(75 * MINUTE);
  assertEquals(fires().slice(2), ["2026-05-04T12:00:00.000Z"]);
  task.cancel();
  assertEquals(task.nextDates(1), []);
  assertThrows(() => task.reschedule("* * * * *"), TypeError, "is cancelled");
  assertThrows(() => task.runNow(), TypeError, "is cancelled");
});

Deno.test("at(): reschedule moves it; a local time reads in its zone, DST gaps shift forward", () => {
  const { clock, executor, fires, record } = setup("2026-03-28T00:00:00Z");
  using _ = executor;
  const task = at(executor, {
    name: "gap",
    at: "2026-03-29T02:30",
    timezone: "Europe/Berlin",
    run: record,
  });
  // 02:30 does not exist that night in Berlin: shifted by the gap to 03:30 CEST.
  assertEquals(task.schedule, "2026-03-29T01:30:00.000Z");
  task.reschedule("2026-10-25T02:30"); // occurs twice: the first pass (CEST)
  assertEquals(task.schedule, "2026-10-25T00:30:00.000Z");
  task.reschedule(new Date("2026-03-28T06:00:00Z"));
  assertThrows(() => task.reschedule("2026-02-30T10:00"), TypeError, "'schedule'");
  assertThrows(() => task.reschedule("tomorrow"), TypeError, "'schedule'");
  clock.advance(7 * HOUR);
  assertEquals(fires(), ["2026-03-28T06:00:00.000Z"]);
  assertEquals(task.state, "done");
  assertThrows(() => task.reschedule("2026-04-01T00:00Z"), TypeError, "is done");
  assertThrows(() => task.pause(), TypeError, "is done");
});

Deno.test("cron() on an executor with a fixed tick fires at the first tick at or after the fire", () => {
  const { clock, executor, fires, record } = setup("2026-05-04T10:00:00Z", {
    tick: { fixedMs: 7_000 },
  });
  using _ = executor;
  cron(executor, { name: "q", cron: "*/15 * * * *", timezone: "UTC", run: record });
  clock.advance(31 * MINUTE);
  assertEquals(fires(), ["2026-05-04T10:15:00.000Z", "2026-05-04T10:30:00.000Z"]);
});

Deno.test("cron() picks the wall clock: given, linked to the clock, or the system's", () => {
  const clock = new VirtualClock();
  using executor = new Executor({ clock });
  assertThrows(
    () => cron(executor, { name: "x", cron: "* * * * *", run: () => {} }),
    TypeError,
    "'wallClock' must be given when the executor runs on a virtual clock",
  );
  const wall = { now: () => Date.UTC(2026, 4, 4, 10, 0, 30) };
  const task = cron(executor, {
    name: "x",
    cron: "* * * * *",
    timezone: "UTC",
    wallClock: wall,
    run: () => {},
  });
  assertEquals(iso(task.nextDates(1)), ["2026-05-04T10:01:00.000Z"]);
  assertEquals(task.nextRuns(1), [30_000]);
  using real = new Executor();
  const system = cron(real, { name: "y", cron: "@yearly", run: () => {} });
  assert(system.nextDates(1)[0]!.getTime() > SYSTEM_WALL_CLOCK.now());
  system.cancel();
});

Deno.test("cron() and at() refuse bad options with Deno-style errors and leave nothing", () => {
  const { executor } = setup("2026-05-04T10:00:00Z");
  using _ = executor;
  const run = () => {};
  const bad: [() => unknown, ErrorConstructor | RangeErrorConstructor, string][] = [
    [() => cron(executor, { name: "a", cron: "61 * * * *", run }), TypeError, "'cron'"],
    [() => cron(executor, { name: "a", cron: "* * *", run }), TypeError, "'cron'"],
    [() => cron(executor, { name: "a", cron: "* * * * * * 2030", run }), TypeError, "'cron'"],
    [() => cron(executor, { name: "a", cron: "", run }), TypeError, "'cron'"],
    [() => cron(executor, { name: "a", cron: "0 0 31 2 *", run }), RangeError, "'cron'"],
    [() => cron(executor, { name: "a", cron: "@reboot", run }), TypeError, "'cron'"],
    [
      () => cron(executor, { name: "a", cron: "* * * * *", timezone: "Mars/Base", run }),
      RangeError,
      "'timezone'",
    ],
    [
      () => cron(executor, { name: "a", cron: "* * * * *", checkMs: 0, run }),
      RangeError,
      "checkMs",
    ],
    [
      () => cron(executor, { name: "a", cron: "* * * * *", maxLateMs: -1, run }),
      RangeError,
      "'maxLateMs'",
    ],
    [() => cron(executor, { name: "", cron: "* * * * *", run }), TypeError, "'name'"],
    // deno-lint-ignore no-explicit-any
    [() => cron({} as any, { name: "a", cron: "* * * * *", run }), TypeError, "'executor'"],
    // deno-lint-ignore no-explicit-any
    [() => cron(executor, null as any), TypeError, "'options'"],
    [() => at(executor, { name: "a", at: "2026-13-01", run }), TypeError, "'at'"],
    [() => at(executor, { name: "a", at: new Date(NaN), run }), TypeError, "'at'"],
  ];
  for (const [call, Err, text] of bad) {
    const error = assertThrows(call, Err);
    assert(error.message.startsWith("Cannot "), error.message);
    assert(error.message.includes(text), `${error.message} should name ${text}`);
  }
  assertEquals(executor.taskNames, []);
  assertEquals(executor.driver.pending, 0);
});
