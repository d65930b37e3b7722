import { assert, assertEquals, assertThrows } from "@std/assert";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { VirtualWallClock } from "../../src/time/virtual_wall_clock.ts";
import {
  linkedWallClock,
  requireInstant,
  requireWallClock,
  SYSTEM_WALL_CLOCK,
  SystemWallClock,
} from "../../src/time/wall_clock.ts";

Deno.test("VirtualWallClock moves with its clock and steps alone", () => {
  const clock = new VirtualClock(500);
  const wall = new VirtualWallClock(clock, "2026-01-01T00:00:00Z");
  assertEquals(wall.now(), Date.UTC(2026, 0, 1));
  assertEquals(wall.clock, clock);
  clock.advance(1_500);
  assertEquals(wall.now(), Date.UTC(2026, 0, 1, 0, 0, 1, 500));
  wall.step(-10_000);
  assertEquals(wall.now(), Date.UTC(2025, 11, 31, 23, 59, 51, 500));
  assertEquals(clock.now(), 2_000);
  wall.set(new Date("2030-06-01T12:00:00Z"));
  clock.advance(1);
  assertEquals(new Date(wall.now()).toISOString(), "2030-06-01T12:00:00.001Z");
  assertEquals(linkedWallClock(clock), wall, "linked to its clock");
  const other = new VirtualWallClock(clock, 0);
  assertEquals(linkedWallClock(clock), other, "the latest link wins");
  assertEquals(new VirtualWallClock(new VirtualClock()).now(), 0);
});

Deno.test("VirtualWallClock refuses bad clocks, starts and steps", () => {
  const clock = new VirtualClock();
  // deno-lint-ignore no-explicit-any
  const loose = (v: unknown) => v as any;
  assertThrows(() => new VirtualWallClock(loose({})), TypeError, "'clock'");
  assertThrows(() => new VirtualWallClock(clock, "yesterday"), TypeError, "'start'");
  assertThrows(() => new VirtualWallClock(clock, new Date(NaN)), TypeError, "'start'");
  assertThrows(() => new VirtualWallClock(clock, loose(null)), TypeError, "'start'");
  const wall = new VirtualWallClock(clock, 1_000);
  assertThrows(() => wall.step(Infinity), RangeError, "'ms'");
  assertThrows(() => wall.step(loose("1")), TypeError, "'ms'");
  assertThrows(() => wall.set(loose({})), TypeError, "'time'");
  assertEquals(wall.now(), 1_000, "a refused call changes nothing");
});

Deno.test("SystemWallClock reads Date.now(); requireWallClock and requireInstant check", () => {
  const before = Date.now();
  const t = new SystemWallClock().now();
  assert(t >= before && t <= Date.now());
  assertEquals(requireWallClock("x", "w", SYSTEM_WALL_CLOCK), SYSTEM_WALL_CLOCK);
  assertThrows(() => requireWallClock("x", "w", { now: () => NaN }), TypeError, "'w'");
  assertThrows(
    () =>
      requireWallClock("x", "w", {
        now: () => {
          throw new Error("no");
        },
      }),
    TypeError,
    "'w'",
  );
  assertEquals(requireInstant("x", "t", "2026-01-01T00:00:00+01:00"), Date.UTC(2025, 11, 31, 23));
  assertEquals(requireInstant("x", "t", 5), 5);
  assertThrows(() => requireInstant("x", "t", Symbol("s")), TypeError, "'t'");
});
