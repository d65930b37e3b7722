// Seeded fuzz of the schedules layer: cron(), at(), alignedInterval(), the
// schedule handle and the virtual wall clock get random expressions (built
// from cron's own tokens, so many parse) and hostile values. Every call works
// or throws a clean Deno-style error naming a parameter; a refused call
// leaves no task; a schedule that was added fires in order, never before its
// wall time, never twice, and (without steps) exactly at the fires croner
// enumerates for the expression, the reference calendar.

import { assert, assertEquals } from "@std/assert";
import { Cron } from "croner";
import { check, cleanCall, fc, hostile, maybe } from "./_hostile.ts";
import { Executor } from "../../src/exec/executor.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { VirtualWallClock } from "../../src/time/virtual_wall_clock.ts";
import { alignedInterval, at, cron } from "../../src/schedule/mod.ts";
import type { ScheduleHandle, ScheduleRun } from "../../src/schedule/mod.ts";
import type { Logger } from "../../src/logger.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

const SILENT: Logger = { error() {}, warn() {}, info() {} };
const START = Date.UTC(2026, 2, 29, 0, 17, 3); // the night Europe springs forward
const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"];
const OPTION_NAMES = [
  "options",
  "executor",
  "cron",
  "at",
  "timezone",
  "wallClock",
  "checkMs",
  "maxLateMs",
  "name",
  "run",
  "deadlineMs",
  "priority",
];

function field(max: number, names: string[] = []): fc.Arbitrary<string> {
  const n = fc.integer({ min: 0, max });
  return fc.oneof(
    fc.constant("*"),
    n.map(String),
    fc.tuple(n, n).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
    fc.integer({ min: 1, max: max + 2 }).map((s) => `*/${s}`),
    fc.tuple(n, n).map(([a, b]) => `${a},${b}`),
    fc.constantFrom("?", "L", "15W", "5#2", "MON-FRI", "JAN", "x", "-1", "*/0", ...names),
  );
}

/** Expressions that parse: wildcards, steps, values and ranges within each field's range. */
function good(min: number, max: number): fc.Arbitrary<string> {
  const n = fc.integer({ min, max });
  return fc.oneof(
    fc.constant("*"),
    n.map(String),
    fc.integer({ min: 1, max: max - min + 1 }).map((s) => `*/${s}`),
    fc.tuple(n, n).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
  );
}

const VALID_EXPRESSION: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(good(0, 59), good(0, 23), good(1, 28), fc.constant("*"), good(0, 6))
    .map((f) => f.join(" ")),
  fc.tuple(good(0, 59), good(0, 59), good(0, 23), fc.constant("* * *"))
    .map((f) => f.join(" ")),
);

const EXPRESSION: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: VALID_EXPRESSION, weight: 4 },
  fc.tuple(field(59), field(23), field(31), field(12), field(7, ["SUN", "FRI#L"]))
    .map((f) => f.join(" ")),
  fc.tuple(field(59), field(59), field(23), field(31), field(12), field(7))
    .map((f) => f.join(" ")),
  fc.constantFrom("@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@reboot", "@every"),
  fc.string({ maxLength: 40 }),
);

Deno.test("cron() under random and hostile input: a schedule or a clean error, never a crash", () => {
  let compared = 0;
  check(
    fc.property(
      fc.oneof({ arbitrary: EXPRESSION, weight: 4 }, hostile()),
      maybe(
        fc.oneof({ arbitrary: fc.constantFrom(...ZONES, "Mars/Base", ""), weight: 4 }, hostile()),
      ),
      fc.oneof(
        fc.constant(undefined),
        { arbitrary: fc.constant(3_600_000), weight: 3 },
        fc.integer({ min: 1_000, max: 120_000 }),
        hostile(),
      ),
      fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, hostile()),
      (expression, timezone, checkMs, maxLateMs) => {
        const clock = new VirtualClock();
        const wall = new VirtualWallClock(clock, START);
        using executor = new Executor({ clock, logger: SILENT });
        const runs: ScheduleRun[] = [];
        const handle = cleanCall(
          () =>
            cron(executor, {
              name: "fuzz",
              cron: expression as Loose,
              timezone: timezone as Loose,
              checkMs: checkMs as Loose,
              maxLateMs: maxLateMs as Loose,
              run: (ctx) => {
                assert(ctx.event.manual || wall.now() >= ctx.event.scheduledMs, "never early");
                runs.push(ctx.event);
              },
            }),
          OPTION_NAMES,
        );
        if (handle === undefined) {
          assertEquals(executor.taskNames, []);
          assertEquals(executor.driver.pending, 0);
          return;
        }
        // Up to three days, an hour at a time, until 20 runs were seen.
        const look = typeof checkMs === "number" ? checkMs : 30_000;
        const slice = Math.min(3_600_000, 100 * look);
        for (let i = 0; i < 72 && runs.length < 20; i++) clock.advance(slice);
        const times = runs.map((r) => r.scheduledMs);
        assertEquals(times, [...times].sort((a, b) => a - b), "in order");
        assertEquals(new Set(times).size, times.length, "never twice");
        if (maxLateMs === undefined && runs.length > 0) {
          // Reference: croner's own enumeration of the expression from the start.
          const reference = new Cron((expression as string).trim(), {
            timezone: (timezone as string | undefined) ?? undefined,
            mode: (expression as string).trim().startsWith("@") ? "auto" : "5-or-6-parts",
          }).nextRuns(times.length, new Date(START)).map((d) => d.getTime());
          assertEquals(times, reference);
          compared++;
        }
      },
    ),
    150,
  );
  assert(compared >= 10, `only ${compared} schedules were checked against the reference`);
});

Deno.test("ScheduleHandle and VirtualWallClock under random operations stay consistent", () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant("advance"), ms: fc.integer({ min: 0, max: 3_600_000 }) }),
    fc.record({
      kind: fc.constant("step"),
      ms: fc.oneof(fc.integer({ min: -20e6, max: 20e6 }), hostile()),
    }),
    fc.record({ kind: fc.constant("stall"), ms: fc.integer({ min: 0, max: 3_600_000 }) }),
    fc.record({ kind: fc.constant("reschedule"), spec: fc.oneof(EXPRESSION, hostile()) }),
    fc.record({ kind: fc.constantFrom("pause", "resume", "runNow", "cancel") }),
    fc.record({
      kind: fc.constant("nextRuns"),
      count: fc.oneof(fc.integer({ min: 1, max: 50 }), hostile()),
    }),
    fc.record({
      kind: fc.constant("nextDates"),
      count: fc.oneof(fc.integer({ min: 1, max: 50 }), hostile()),
    }),
    fc.record({ kind: fc.constant("setPeriod"), ms: hostile() }),
  );
  check(
    fc.property(
      fc.constantFrom(...ZONES),
      fc.boolean(),
      fc.array(op, { maxLength: 12 }),
      (zone, oneShot, ops) => {
        const clock = new VirtualClock();
        const wall = new VirtualWallClock(clock, START);
        using executor = new Executor({ clock, logger: SILENT });
        let runs = 0;
        const options = { name: "h", timezone: zone, run: () => void runs++ };
        const handle: ScheduleHandle = oneShot
          ? at(executor, { ...options, at: START + 3_600_000 })
          : cron(executor, { ...options, cron: "*/10 * * * *" });
        for (const o of ops as Loose[]) {
          cleanCall(() => {
            switch (o.kind) {
              case "advance":
                clock.advance(o.ms);
                break;
              case "stall":
                clock.stall(o.ms);
                break;
              case "step":
                wall.step(o.ms);
                break;
              case "reschedule":
                handle.reschedule(o.spec);
                break;
              case "nextRuns": {
                const list = handle.nextRuns(o.count);
                assert(list.length <= o.count);
                for (const t of list) assert(t >= clock.now());
                break;
              }
              case "nextDates": {
                const list = handle.nextDates(o.count);
                for (let i = 1; i < list.length; i++) assert(list[i]! > list[i - 1]!);
                break;
              }
              case "setPeriod":
                handle.setPeriod(o.ms);
                break;
              default:
                (handle as Loose)[o.kind]();
            }
          });
        }
        assert(runs >= 0);
        assert(handle.stats().runs === runs);
      },
    ),
  );
});

Deno.test("alignedInterval() and at() under hostile input: a value or a clean error", () => {
  check(
    fc.property(
      fc.oneof(fc.integer({ min: -1, max: 2 * 86_400_000 }), hostile()),
      maybe(fc.oneof(fc.record({ offsetMs: maybe(hostile()) }), hostile())),
      fc.oneof(fc.date({ noInvalidDate: false }), fc.string({ maxLength: 30 }), hostile()),
      (period, options, when) => {
        const expression = cleanCall(
          () => alignedInterval(period as Loose, options as Loose),
          ["periodMs", "offsetMs", "options"],
        );
        const clock = new VirtualClock();
        new VirtualWallClock(clock, START);
        using executor = new Executor({ clock, logger: SILENT });
        if (expression !== undefined) {
          const task = cron(executor, {
            name: "a",
            cron: expression,
            timezone: "UTC",
            run: () => {},
          });
          assertEquals(task.nextDates(1).length, 1);
        }
        const one = cleanCall(
          () =>
            at(executor, {
              name: "b",
              at: when as Loose,
              timezone: "Europe/Berlin",
              run: () => {},
            }),
          ["at"],
        );
        if (one !== undefined) {
          clock.advance(0);
          assert(one.nextDates(1).length <= 1);
        }
      },
    ),
  );
});
