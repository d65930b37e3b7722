import { assert, assertEquals, assertThrows } from "@std/assert";
import { Executor } from "../../src/exec/executor.ts";
import type { ReleasePlan } from "../../src/exec/task.ts";
import { EventBus } from "../../src/bus/event_bus.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import type { Logger } from "../../src/logger.ts";

const SILENT: Logger = { error() {}, warn() {}, info() {} };

function setup(tick?: { fixedMs: number }) {
  const clock = new VirtualClock();
  const bus = new EventBus();
  const executor = new Executor({ clock, bus, logger: SILENT, tick });
  return { clock, bus, executor };
}

for (const tick of [undefined, { fixedMs: 1 }]) {
  const mode = tick === undefined ? "adaptive" : "fixed tick";

  Deno.test(`TaskHandle.pause()/resume() keep a periodic task's phase (${mode})`, () => {
    const { clock, executor } = setup(tick);
    using _ = executor;
    const seen: number[] = [];
    const task = executor.periodic({
      name: "p",
      periodMs: 10,
      run: (c) => void seen.push(c.release),
    });
    clock.advance(25);
    assertEquals(task.pause(), true);
    assertEquals(task.state, "paused");
    clock.advance(50);
    assertEquals(seen, [10, 20]);
    assertEquals(task.nextRuns(3), []);
    task.resume();
    assertEquals(task.nextRuns(3), [80, 90, 100]);
    clock.advance(15); // 90
    assertEquals(seen, [10, 20, 80, 90]);
    assertEquals(task.stats().skippedTicks, 0, "paused releases are not skipped ticks");
    assertThrows(() => task.resume(), TypeError, "not paused or quarantined");
  });

  Deno.test(`TaskHandle.setPeriod() restarts the period from the last release (${mode})`, () => {
    const { clock, executor } = setup(tick);
    using _ = executor;
    const seen: number[] = [];
    const task = executor.periodic({
      name: "p",
      periodMs: 10,
      run: (c) => void seen.push(c.release),
    });
    clock.advance(23);
    task.setPeriod(5);
    assertEquals(task.nextRuns(3), [25, 30, 35]);
    clock.advance(12); // 35
    assertEquals(seen, [10, 20, 25, 30, 35]);
    task.setPeriod(100);
    assertEquals(task.nextRuns(1), [135]);
    const lateness = task.stats().lateness;
    assertEquals(lateness.count, 5);
  });

  Deno.test(`TaskHandle.runNow() releases once without moving the timing (${mode})`, () => {
    const { clock, executor } = setup(tick);
    using _ = executor;
    const seen: number[] = [];
    const task = executor.periodic({
      name: "p",
      periodMs: 10,
      run: (c) => void seen.push(c.release),
    });
    clock.advance(3);
    task.runNow();
    clock.advance(tick === undefined ? 0 : 1); // a fixed tick releases at its next tick
    assertEquals(seen, [3]);
    clock.advance(17);
    assertEquals(seen, [3, 10, 20]);
    assertEquals(task.stats().releases, 3);
    assertEquals(task.stats().skippedTicks, 0);
  });
}

Deno.test("TaskHandle.setPeriod(): the deadline follows a defaulted one, not a given one", () => {
  const { clock, executor } = setup();
  using _ = executor;
  const deadlines: number[] = [];
  const a = executor.periodic({
    name: "a",
    periodMs: 10,
    run: (c) => void deadlines.push(c.deadline - c.release),
  });
  const b = executor.periodic({
    name: "b",
    periodMs: 10,
    deadlineMs: 3,
    run: (c) => void deadlines.push(c.deadline - c.release),
  });
  a.setPeriod(20);
  b.setPeriod(20);
  clock.advance(20);
  assertEquals(deadlines.sort((x, y) => x - y), [3, 20]);
});

Deno.test("TaskHandle.setPeriod() refuses bad periods and other kinds, changing nothing", () => {
  const { clock, executor } = setup();
  using _ = executor;
  const task = executor.periodic({ name: "p", periodMs: 10, run: () => {} });
  assertThrows(() => task.setPeriod(0), RangeError, "'periodMs'");
  assertThrows(() => task.setPeriod(NaN), RangeError, "'periodMs'");
  // deno-lint-ignore no-explicit-any
  assertThrows(() => task.setPeriod("5" as any), TypeError, "'periodMs'");
  assertThrows(() => task.setPeriod(1e300), RangeError, "horizon");
  assertEquals(task.nextRuns(2), [10, 20]);
  const once = executor.once({ name: "o", delayMs: 5, run: () => {} });
  assertThrows(() => once.setPeriod(5), TypeError, "is a one-shot task, not a periodic one");
  assertThrows(() => once.reschedule("* * * * *"), TypeError, "not a schedule");
  assertThrows(() => task.reschedule("* * * * *"), TypeError, "use setPeriod()");
  task.cancel();
  assertThrows(() => task.setPeriod(5), TypeError, "is cancelled");
  clock.advance(10);
});

Deno.test("TaskHandle on a one-shot: pause keeps its time, runNow does not finish it", () => {
  const { clock, executor } = setup();
  using _ = executor;
  const seen: number[] = [];
  const task = executor.once({ name: "o", delayMs: 50, run: () => void seen.push(clock.now()) });
  assertEquals(task.nextRuns(3), [50]);
  task.runNow();
  clock.advance(0);
  assertEquals(seen, [0]);
  assertEquals(task.state, "done");
  assertEquals(task.nextRuns(1), [50], "its own release is still to come");
  task.pause();
  clock.advance(20);
  task.resume();
  clock.advance(40);
  assertEquals(seen, [0, 50]);
  assertEquals(task.nextRuns(1), []);
  assertThrows(() => task.runNow(), TypeError, "is done");
  assertThrows(() => task.pause(), TypeError, "is done");

  const late = executor.once({ name: "late", delayMs: 10, run: () => void seen.push(clock.now()) });
  late.pause();
  clock.advance(30);
  late.resume(); // its time passed while paused: released at once
  clock.advance(0);
  assertEquals(seen, [0, 50, 90]);
});

Deno.test("TaskHandle on an event task: paused means unsubscribed; runNow is refused", () => {
  const { clock, bus, executor } = setup();
  using _ = executor;
  const seen: number[] = [];
  const task = executor.onEvent<number>({
    name: "e",
    topic: "n",
    run: (c) => void seen.push(c.event),
  });
  const topic = bus.topic<number>("n");
  topic.publish(1);
  clock.advance(0);
  task.pause();
  topic.publish(2);
  clock.advance(0);
  task.resume();
  topic.publish(3);
  clock.advance(0);
  assertEquals(seen, [1, 3]);
  assertEquals(task.nextRuns(5), []);
  assertThrows(() => task.runNow(), TypeError, "event task");
  assertThrows(() => task.nextRuns(0), RangeError, "'count'");
  assertThrows(() => task.nextRuns(1.5), RangeError, "'count'");
});

Deno.test("TaskHandle.pause() lets a waiting release run, and the run ends paused", () => {
  const { clock, executor } = setup();
  using _ = executor;
  const states: string[] = [];
  const task = executor.periodic({
    name: "p",
    periodMs: 10,
    run: () => {
      task.pause();
      states.push(task.state);
    },
  });
  clock.advance(30);
  assertEquals(states, ["running"]);
  assertEquals(task.state, "paused");
  assertEquals(task.stats().state, "paused");
});

Deno.test("Executor.schedule(): a plan that throws stops the task as failed", () => {
  const { clock, executor } = setup();
  using _ = executor;
  let wakes = 0;
  const plan: ReleasePlan<number> = {
    start: (now) => now + 5,
    wake: (now) => {
      if (++wakes === 2) throw new Error("plan broke");
      return { next: now + 5, skipped: 2, release: { event: wakes } };
    },
    upcoming: () => [],
    manual: () => -1,
    reschedule: () => {},
  };
  const seen: number[] = [];
  const task = executor.schedule({ name: "s", plan, run: (c) => void seen.push(c.event) });
  task.runNow();
  clock.advance(20);
  assertEquals(seen, [-1, 1]);
  assertEquals(task.state, "failed");
  assertEquals(task.stats().reason, "stopped as its plan failed: plan broke");
  assertEquals(task.stats().skippedTicks, 2);
  assertEquals(executor.driver.pending, 0);
  assertThrows(
    // deno-lint-ignore no-explicit-any
    () => executor.schedule({ name: "t", plan: {} as any, run: () => {} }),
    TypeError,
    "'plan' must be a ReleasePlan",
  );
  assert(!executor.taskNames.includes("t"));
});

Deno.test("Executor.schedule(): a plan whose wake() returns garbage stops the task, cleanly", () => {
  const { clock, executor } = setup();
  using _ = executor;
  const plan = {
    start: () => 5,
    wake: () => null,
    upcoming: () => [],
    manual: () => undefined,
    reschedule: () => {},
  } as unknown as ReleasePlan<undefined>;
  const task = executor.schedule({ name: "g", plan, run: () => {} });
  clock.advance(10);
  assertEquals(task.state, "failed");
  assertEquals(
    task.stats().reason,
    "stopped as its plan failed: its wake() returned null, not a PlanStep",
  );
  const never = executor.schedule({
    name: "n",
    plan: { ...plan, start: () => "soon" } as unknown as ReleasePlan<undefined>,
    run: () => {},
  });
  assertEquals([never.state, never.nextRuns(1).length], ["done", 0]);
  assertEquals(executor.driver.pending, 0);
});
