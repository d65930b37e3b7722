import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import { Oversleep } from "../../src/time/_oversleep.ts";

Deno.test("Oversleep starts at 0 and follows a steady oversleep", () => {
  const oversleep = new Oversleep(0.5);
  assertEquals(oversleep.ms, 0);
  for (let i = 0; i < 200; i++) oversleep.learn(0.15);
  assertAlmostEquals(oversleep.ms, 0.15, 1e-6);
});

Deno.test("Oversleep adds the deviation of a wait that varies", () => {
  const oversleep = new Oversleep(0.5);
  for (let i = 0; i < 400; i++) oversleep.learn(i % 2 === 0 ? 0.1 : 0.3);
  // Mean 0.2, mean deviation 0.1.
  assert(oversleep.ms > 0.25 && oversleep.ms < 0.35, `${oversleep.ms}`);
});

Deno.test("Oversleep clamps samples: a stalled machine's outlier moves it by maxMs / 8 at most, never past maxMs", () => {
  const oversleep = new Oversleep(0.5);
  for (let i = 0; i < 200; i++) oversleep.learn(0.1);
  const before = oversleep.ms;
  oversleep.learn(50);
  assert(
    oversleep.ms - before <= 0.5 / 8 + 2 * (0.5 - 0.1) / 8 + 1e-9,
    `${before} -> ${oversleep.ms}`,
  );
  for (let i = 0; i < 200; i++) oversleep.learn(50);
  assertEquals(oversleep.ms, 0.5);
  // A wait that returned early (a notify, a clock step) counts as no oversleep.
  for (let i = 0; i < 400; i++) oversleep.learn(-3);
  assertAlmostEquals(oversleep.ms, 0, 1e-6);
});
