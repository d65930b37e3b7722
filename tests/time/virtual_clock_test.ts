import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { ChronetixError } from "../../src/errors.ts";
import { Driver } from "../../src/time/driver.ts";
import { TimerWheel } from "../../src/time/timer_wheel.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";

Deno.test("VirtualClock.advance() fires due work in deadline order with now() at each deadline", () => {
  const clock = new VirtualClock(100);
  const a = new TimerWheel();
  const b = new TimerWheel();
  using _a = clock.attach(a);
  using _b = clock.attach(b);
  const seen: string[] = [];
  a.schedule(130, () => void seen.push(`a@${clock.now()}`));
  b.schedule(110, () => void seen.push(`b@${clock.now()}`));
  a.schedule(120.5, () => void seen.push(`a@${clock.now()}`));
  assertEquals(clock.advance(25), 2);
  assertEquals(seen, ["b@110", "a@120.5"]);
  assertEquals(clock.now(), 125);
  clock.advanceTo(130);
  assertEquals(seen, ["b@110", "a@120.5", "a@130"]);
});

Deno.test("VirtualClock.attach() returns a disposable that detaches", () => {
  const clock = new VirtualClock();
  const wheel = new TimerWheel();
  let fired = 0;
  wheel.schedule(1, () => fired++);
  {
    using _ = clock.attach(wheel);
  }
  clock.advance(5);
  assertEquals(fired, 0);
});

Deno.test("VirtualClock.runUntilIdle() drains one-shots and refuses to spin forever", () => {
  const clock = new VirtualClock();
  using driver = new Driver({ clock });
  const seen: number[] = [];
  driver.after(50, () => {
    seen.push(clock.now());
    driver.after(25, () => void seen.push(clock.now()));
  });
  assertEquals(clock.runUntilIdle(), 2);
  assertEquals(seen, [50, 75]);
  driver.every(10, () => {});
  assertThrows(
    () => clock.runUntilIdle({ maxSteps: 5 }),
    RangeError,
    "work is still pending after 5 steps ('maxSteps')",
  );
  assertEquals(clock.now(), 125);
});

Deno.test("VirtualClock.stall() fires late, the way a blocked event loop would", () => {
  const clock = new VirtualClock();
  using driver = new Driver({ clock });
  const seen: number[] = [];
  driver.every(10, (deadline) => void seen.push(deadline), { missedTicks: "skip" });
  clock.advance(10);
  clock.stall(35); // blocked from 10 to 45
  assertEquals(seen, [10, 20]);
  assertEquals(driver.stats().wheel.skippedTicks, 2);
  const lateness = driver.lateness("periodic");
  assertEquals(lateness.count, 2);
  assertEquals(lateness.max, 25);
  clock.advance(5);
  assertEquals(seen, [10, 20, 50]);
});

Deno.test("VirtualClock rejects bad input and re-entrant advances", () => {
  const clock = new VirtualClock(10);
  assertThrows(() => clock.advance(-1), RangeError, "'ms' must be >= 0: current value is -1");
  assertThrows(() => clock.advance(NaN), RangeError, "'ms'");
  assertThrows(() => clock.advanceTo(5), RangeError, "Cannot advance the VirtualClock backwards");
  assertThrows(() => clock.stall(Infinity), RangeError, "'ms'");
  assertThrows(() => new VirtualClock(-5), RangeError, "'startMs'");
  assertThrows(() => clock.runUntilIdle({ maxSteps: 0 }), RangeError, "'maxSteps'");
  const wheel = new TimerWheel({ onError: () => {} });
  using _ = clock.attach(wheel);
  let inner: unknown;
  wheel.schedule(11, () => {
    try {
      clock.advance(1);
    } catch (error) {
      inner = error;
    }
  });
  clock.advance(5);
  assert(inner instanceof Error);
  assertEquals(inner.message, "Cannot advance the VirtualClock from inside a callback it fired");
});

// --- issue 10: reliability ---------------------------------------------------

Deno.test("VirtualClock rejects hostile arguments with errors naming them, changing nothing", () => {
  const clock = new VirtualClock(1e308);
  assertThrows(
    () => clock.advance(1e308),
    RangeError,
    "Cannot advance the VirtualClock as 'ms' must keep the time finite: current value is 1e+308",
  );
  assertThrows(() => clock.stall(1e308), RangeError, "'ms' must keep the time finite");
  assertThrows(() => clock.spend(1e308), RangeError, "'ms' must keep the time finite");
  assertEquals(clock.now(), 1e308);
  const small = new VirtualClock();
  assertThrows(
    () => small.runUntilIdle(null as unknown as undefined),
    TypeError,
    "Cannot run the VirtualClock until idle as 'options' must be an object: current value is null",
  );
  assertThrows(
    () => small.attach(5 as unknown as TimerWheel),
    TypeError,
    "Cannot attach to the VirtualClock as 'target' must be a ClockTarget with nextDeadline and advance methods: current value is 5",
  );
  assertThrows(() => small.attach(null as unknown as TimerWheel), TypeError, "'target'");
  assertThrows(() => small.advance(Symbol() as unknown as number), TypeError, "'ms'");
  assertThrows(() => small.advance(5n as unknown as number), TypeError, "'ms'");
  assertThrows(() => new VirtualClock(Symbol() as unknown as number), TypeError, "'startMs'");
  assertEquals(small.advance(5), 0);
  assertEquals(small.now(), 5);
});

Deno.test("VirtualClock.advance() stops with an error on a target that never clears its due work", () => {
  const clock = new VirtualClock();
  let calls = 0;
  using _ = clock.attach({ nextDeadline: () => 1, advance: () => void calls++ });
  const error = assertThrows(() => clock.advance(5), ChronetixError);
  assertEquals((error as ChronetixError).code, "E_TARGET_STUCK");
  assertStringIncludes(
    (error as Error).message,
    "Cannot advance the VirtualClock as a target still reports work due at 1 after",
  );
  assert(calls > 0);
  // The clock is usable again afterwards.
  _[Symbol.dispose]();
  assertEquals(clock.advance(1), 0);
});

Deno.test("VirtualClock with a 1e-12 ms periodic driver timer: rejected instead of looping forever", () => {
  const clock = new VirtualClock(1e6);
  using driver = new Driver({ clock });
  assertThrows(() => driver.every(1e-12, () => {}), RangeError, "'periodMs'");
  assertEquals(clock.advance(1), 0);
});
