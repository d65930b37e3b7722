import { assertEquals, assertThrows } from "@std/assert";
import { TaskSink } from "../../src/sovd/task_sink.ts";
import { TaskPoller } from "../../src/sovd/task_poller.ts";
import { Executor } from "../../src/exec/executor.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { SILENT_LOGGER } from "../_util/logger.ts";
import { mulberry32 } from "../_util/prng.ts";

Deno.test("TaskSink folds runs into liveness and timing: executions, last, EWMA, min, max, period, rate", () => {
  const sink = new TaskSink({ capacity: 4 });
  const i = sink.attach("loop", 0);
  assertEquals(sink.read("loop")?.liveness, { state: "unknown", starts: 1, stops: 0, errors: 0 });
  const execs = [2, 4, 1, 3];
  for (let k = 0; k < execs.length; k++) {
    sink.onStart(i, 10 * (k + 1));
    sink.onEnd(i, 10 * (k + 1) + execs[k]!, true);
  }
  const { liveness, timing } = sink.read("loop")!;
  assertEquals(liveness.state, "running");
  assertEquals(timing.executions, 4);
  assertEquals([timing.lastMs, timing.minMs, timing.maxMs], [3, 1, 4]);
  // EWMA with weight 1/8, seeded by the first value.
  let ewma = 2;
  for (const e of [4, 1, 3]) ewma += (e - ewma) / 8;
  assertEquals(timing.ewmaMs, ewma);
  assertEquals([timing.periodMs, timing.rateHz], [10, 100]);
});

Deno.test("TaskSink latches an error: a clean stop keeps it, the next start clears it", () => {
  const sink = new TaskSink();
  const i = sink.attach("t", 0);
  sink.onStart(i, 1);
  sink.onEnd(i, 2, false);
  sink.onStart(i, 3); // a later run does not clear it
  sink.onEnd(i, 4, true);
  assertEquals(sink.read("t")?.liveness.state, "error");
  sink.onStop(i, 5, true);
  assertEquals(sink.read("t")?.liveness, { state: "error", starts: 1, stops: 1, errors: 1 });
  assertEquals(sink.attach("t", 6), i, "the same name gets its slot back");
  assertEquals(sink.read("t")?.liveness.state, "unknown");
  sink.onStart(i, 7);
  assertEquals(sink.read("t")?.liveness.state, "running");
  sink.onStop(i, 8, false); // quarantined: an error stop
  assertEquals(sink.read("t")?.liveness, { state: "error", starts: 2, stops: 2, errors: 2 });
  sink.attach("t", 9);
  sink.onStop(i, 10, true);
  assertEquals(sink.read("t")?.liveness.state, "stopped");
});

Deno.test("TaskSink counts an unregistered task and never allocates a slot for it", () => {
  const sink = new TaskSink({ capacity: 2 });
  assertEquals([sink.attach("a", 0), sink.attach("b", 0)], [0, 1]);
  assertEquals(sink.attach("c", 0), -1);
  assertEquals(sink.attach("d", 0), -1);
  for (const bad of [-1, 2, 1.5, NaN, 1e9]) {
    sink.onStart(bad, 1);
    sink.onEnd(bad, 2, false);
    sink.onStop(bad, 3, false);
  }
  assertEquals(sink.stats(), { capacity: 2, used: 2, refused: 2, unregistered: 15 });
  assertEquals(sink.snapshot().map((b) => b.name), ["a", "b"]);
  assertEquals(sink.read("c"), undefined);
  for (const b of sink.snapshot()) assertEquals(b.liveness.errors, 0, "no stray write");
});

Deno.test("TaskSink reads NaN timing before the first run, and rejects bad options", () => {
  const sink = new TaskSink({ capacity: 1 });
  sink.attach("idle", 0);
  const t = sink.read("idle")!.timing;
  assertEquals(t.executions, 0);
  for (const v of [t.lastMs, t.ewmaMs, t.minMs, t.maxMs, t.periodMs, t.rateHz]) {
    assertEquals(Number.isNaN(v), true);
  }
  assertThrows(() => new TaskSink({ capacity: 0 }), RangeError, "'capacity'");
  assertThrows(() => new TaskSink({ capacity: 1.5 }), RangeError, "'capacity'");
  assertThrows(() => new TaskSink(null as never), TypeError, "'options'");
  assertThrows(() => sink.attach("", 0), TypeError, "'name'");
});

Deno.test("TaskPoller and TaskSink (as the executor's hooks) agree on liveness and execution timing of real runs", () => {
  const seed = 0x5eed;
  const random = mulberry32(seed);
  const clock = new VirtualClock();
  const sink = new TaskSink();
  using executor = new Executor({ clock, logger: SILENT_LOGGER, hooks: sink });
  const body = (fail: () => boolean) => () => {
    clock.spend(Math.floor(random() * 4) + 1);
    if (fail()) throw new Error("boom");
  };
  for (const [name, fail] of [["ok", () => false], ["flaky", () => random() < 0.3]] as const) {
    executor.periodic({ name, periodMs: 20, deadlineMs: 20, run: body(fail) });
  }
  const poller = new TaskPoller(executor, clock);
  clock.advance(400);
  const polled = poller.poll();
  const hooked = sink.snapshot();
  for (const name of ["ok", "flaky"]) {
    const p = polled.find((b) => b.name === name)!;
    const h = hooked.find((b) => b.name === name)!;
    assertEquals(p.liveness.state, h.liveness.state, `seed ${seed}: ${name}`);
    assertEquals(p.liveness.errors, h.liveness.errors, `seed ${seed}: ${name}`);
    assertEquals(p.timing.executions, h.timing.executions, `seed ${seed}: ${name}`);
    assertEquals([p.timing.minMs, p.timing.maxMs, p.timing.lastMs], [
      h.timing.minMs,
      h.timing.maxMs,
      h.timing.lastMs,
    ]);
  }
  assertEquals(hooked.find((b) => b.name === "ok")?.liveness.state, "running");
  assertEquals(hooked.find((b) => b.name === "flaky")?.liveness.state, "error");
  assertEquals(hooked[0]?.timing.periodMs, 20);
});

Deno.test("TaskPoller measures the period between polls and keeps it through polls without runs", () => {
  const clock = new VirtualClock();
  using executor = new Executor({ clock });
  executor.periodic({ name: "slow", periodMs: 50, run: () => {} });
  const poller = new TaskPoller(executor, clock);
  assertEquals(poller.poll()[0]?.liveness.state, "unknown");
  clock.advance(10);
  assertEquals(Number.isNaN(poller.poll()[0]!.timing.periodMs), true, "no run yet");
  clock.advance(190); // runs at 50, 100, 150, 200
  assertEquals(poller.poll()[0]?.timing.periodMs, 50);
  clock.advance(20); // no run: period kept, and the next one spans from the last run seen
  assertEquals(poller.poll()[0]?.timing.periodMs, 50);
  clock.advance(80); // runs at 250, 300
  assertEquals(poller.poll()[0]?.timing.rateHz, 20);
  assertThrows(() => new TaskPoller({} as never, clock), TypeError, "'executor'");
  assertThrows(() => new TaskPoller(executor, {} as never), TypeError, "'clock'");
});

Deno.test("TaskPoller reads a task stopped by its error policy and a done one-shot task as the sink would", () => {
  const clock = new VirtualClock();
  using executor = new Executor({ clock, logger: SILENT_LOGGER });
  executor.periodic({
    name: "stops",
    periodMs: 10,
    onError: "stop",
    run: () => {
      throw new Error("x");
    },
  });
  executor.once({ name: "once", delayMs: 5, run: () => {} });
  const poller = new TaskPoller(executor, clock);
  clock.advance(20);
  const [stops, once] = poller.poll();
  assertEquals(stops?.liveness, { state: "error", starts: 1, stops: 1, errors: 2 });
  assertEquals(once?.liveness, { state: "stopped", starts: 1, stops: 1, errors: 0 });
});

Deno.test("TaskPoller reads a one-shot run early with runNow() as running until its own release, then stopped", () => {
  const clock = new VirtualClock();
  using executor = new Executor({ clock });
  const once = executor.once({ name: "later", delayMs: 100, run: () => {} });
  const poller = new TaskPoller(executor, clock);
  once.runNow();
  clock.advance(1);
  const early = poller.poll()[0]!;
  assertEquals([early.liveness.state, early.liveness.stops], ["running", 0]);
  assertEquals(once.stats().finished, false);
  clock.advance(100);
  const done = poller.poll()[0]!;
  assertEquals([done.liveness.state, done.liveness.stops], ["stopped", 1]);
});
