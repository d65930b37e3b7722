// Every DST transition of 2026 and 2027 in Europe/Berlin, America/New_York
// and Australia/Lord_Howe (whose clocks move by 30 minutes), checked against
// a reference model that knows nothing of croner: a brute-force walk over
// every minute of the window, reading local time through Intl.
//
// - A fixed-time job (one value in minute and hour) at a local time inside
//   the gap runs once, at the end of the gap; inside the repeated range it
//   runs once, at the first pass; on the days around it runs at its time.
// - An interval job (`*/15 * * * *`, `0 * * * *`) runs at every instant
//   whose local time matches: times in a gap do not exist, repeated times
//   run on both passes. With these zones' offsets (multiples of 15 minutes)
//   `*/15` is every quarter hour of real time: never double, never missing.
// - Each run starts exactly at its fire time on the monotonic clock (never
//   early, never late on a virtual clock), and DST is not a wall-clock step.

import { assert, assertEquals } from "@std/assert";
import { Executor } from "../../src/exec/executor.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { VirtualWallClock } from "../../src/time/virtual_wall_clock.ts";
import { cron } from "../../src/schedule/mod.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"];

interface Local {
  date: string;
  hour: number;
  minute: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function local(zone: string, t: number): Local {
  let f = formats.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    });
    formats.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, hour: Number(p.hour), minute: Number(p.minute) };
}

/** Local minus UTC at `t`, minutes. */
function offsetMinutes(zone: string, t: number): number {
  const l = local(zone, t);
  const [y, mo, d] = l.date.split("-").map(Number) as [number, number, number];
  return Math.round(
    (Date.UTC(y, mo - 1, d, l.hour, l.minute) - Math.floor(t / MINUTE) * MINUTE) /
      MINUTE,
  );
}

interface Transition {
  at: number;
  /** Offset change in minutes: > 0 springs forward (a gap), < 0 falls back (a repeat). */
  shift: number;
}

/** The transitions of `zone` in `[from, to)`, to the minute. */
function transitions(zone: string, from: number, to: number): Transition[] {
  const out: Transition[] = [];
  let prev = offsetMinutes(zone, from);
  for (let t = from + HOUR; t < to; t += HOUR) {
    const off = offsetMinutes(zone, t);
    if (off !== prev) {
      let lo = t - HOUR;
      let hi = t;
      while (hi - lo > MINUTE) {
        const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
        if (offsetMinutes(zone, mid) === prev) lo = mid;
        else hi = mid;
      }
      out.push({ at: hi, shift: off - prev });
      prev = off;
    }
  }
  return out;
}

/** Reference: instants in [from, to] whose local time matches, every minute walked. */
function intervalFires(zone: string, from: number, to: number, match: (l: Local) => boolean) {
  const fires: number[] = [];
  for (let t = from; t <= to; t += MINUTE) if (match(local(zone, t))) fires.push(t);
  return fires;
}

/** Reference for a fixed-time job at `hour:minute`: one fire per local date. */
function fixedFires(zone: string, from: number, to: number, hour: number, minute: number) {
  const byDate = new Map<string, number>();
  const target = hour * 60 + minute;
  for (let t = from - DAY; t <= to + DAY; t += MINUTE) {
    const l = local(zone, t);
    // The first instant of the date whose local time is at or past the
    // target: the target itself (first pass), or the end of a gap.
    if (!byDate.has(l.date) && l.hour * 60 + l.minute >= target) {
      byDate.set(l.date, t);
    }
  }
  return [...byDate.values()].filter((t) => t > from && t <= to).sort((a, b) => a - b);
}

function run(zone: string, expression: string, start: number, spanMs: number) {
  const clock = new VirtualClock();
  const wall = new VirtualWallClock(clock, start);
  const executor = new Executor({ clock });
  const fires: number[] = [];
  let early = 0;
  let late = 0;
  const task = cron(executor, {
    name: "job",
    cron: expression,
    timezone: zone,
    run: (ctx) => {
      fires.push(ctx.event.scheduledMs);
      if (wall.now() < ctx.event.scheduledMs) early++;
      if (wall.now() > ctx.event.scheduledMs) late++;
    },
  });
  clock.advance(spanMs);
  const steps = task.wallSteps;
  executor.close();
  return { fires, early, late, steps };
}

function iso(ts: number[]): string[] {
  return ts.map((t) => new Date(t).toISOString());
}

for (const zone of ZONES) {
  Deno.test(`cron() fires DST-correct in ${zone} at every transition of 2026 and 2027`, async (t) => {
    const list = transitions(zone, Date.UTC(2026, 0, 1), Date.UTC(2028, 0, 1));
    assertEquals(list.length, 4, "two transitions a year");
    if (zone === "Australia/Lord_Howe") {
      assertEquals(list.map((x) => Math.abs(x.shift)), [30, 30, 30, 30]);
    }
    for (const tr of list) {
      const kind = tr.shift > 0 ? "spring forward" : "fall back";
      const before = local(zone, tr.at - MINUTE);
      const edge = before.hour * 60 + before.minute + 1; // local minutes where the clock jumps
      // A local time inside the gap, or inside the repeated range.
      const inside = tr.shift > 0 ? edge + tr.shift / 2 : edge + tr.shift / 2;
      const hour = Math.floor(inside / 60);
      const minute = inside % 60;
      const from = tr.at - 2 * DAY + 7 * MINUTE;
      const span = 4 * DAY;
      const to = from + span;
      await t.step(`${new Date(tr.at).toISOString()} ${kind}: fixed-time ${hour}:${minute}`, () => {
        const got = run(zone, `${minute} ${hour} * * *`, from, span);
        const want = fixedFires(zone, from, to, hour, minute);
        assertEquals(iso(got.fires), iso(want));
        const dates = got.fires.map((f) => local(zone, f).date);
        assertEquals(new Set(dates).size, dates.length, "none twice on a local date");
        assert(got.fires.length >= 3, "none missed: one per local date");
        assert(
          got.fires.some((f) => Math.abs(f - tr.at) < DAY),
          "the transition's own date is among them",
        );
        assertEquals([got.early, got.late, got.steps], [0, 0, 0]);
      });
      await t.step(`${new Date(tr.at).toISOString()} ${kind}: every 15 minutes`, () => {
        const window = 12 * HOUR;
        const start = tr.at - window / 2 + 7 * MINUTE;
        const got = run(zone, "*/15 * * * *", start, window);
        const want = intervalFires(zone, start, start + window, (l) => l.minute % 15 === 0);
        assertEquals(iso(got.fires), iso(want));
        assertEquals(got.fires.length, 48, "every quarter hour of real time");
        for (let i = 1; i < got.fires.length; i++) {
          assertEquals(got.fires[i]! - got.fires[i - 1]!, 15 * MINUTE);
        }
        assertEquals([got.early, got.late, got.steps], [0, 0, 0]);
      });
      await t.step(`${new Date(tr.at).toISOString()} ${kind}: hourly`, () => {
        const window = 12 * HOUR;
        const start = tr.at - window / 2 + 7 * MINUTE;
        const got = run(zone, "0 * * * *", start, window);
        const want = intervalFires(zone, start, start + window, (l) => l.minute === 0);
        assertEquals(iso(got.fires), iso(want));
        assert(new Set(got.fires).size === got.fires.length, "no instant twice");
        assertEquals([got.early, got.late], [0, 0]);
      });
    }
  });
}

Deno.test("cron() in Lord_Howe: a half-hour gap and a half-hour repeat, hour by hour", () => {
  // 2026-10-04 02:00 LHST (+10:30) becomes 02:30 LHDT (+11); 2026-04-05 02:00 LHDT becomes 01:30 LHST.
  const spring = run("Australia/Lord_Howe", "0 * * * *", Date.UTC(2026, 9, 3, 13, 0), 4 * HOUR);
  assertEquals(iso(spring.fires), [
    "2026-10-03T13:30:00.000Z", // 00:00 +10:30
    "2026-10-03T14:30:00.000Z", // 01:00 +10:30
    "2026-10-03T16:00:00.000Z", // 03:00 +11: 02:00 does not exist (the clock went 01:59 -> 02:30)
    "2026-10-03T17:00:00.000Z", // 04:00 +11
  ]);
  const fall = run("Australia/Lord_Howe", "0 * * * *", Date.UTC(2026, 3, 4, 12, 0), 4 * HOUR);
  assertEquals(iso(fall.fires), [
    "2026-04-04T13:00:00.000Z", // 00:00 +11
    "2026-04-04T14:00:00.000Z", // 01:00 +11
    "2026-04-04T15:30:00.000Z", // 02:00 +10:30 (01:30-01:59 repeats; 02:00 comes once)
  ]);
});
