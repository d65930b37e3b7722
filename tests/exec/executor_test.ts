import { assert, assertEquals, assertThrows } from "@std/assert";
import { Executor, type ExecutorOptions } from "../../src/exec/executor.ts";
import { BUDGET_TOPIC, type BudgetEvent } from "../../src/exec/budget.ts";
import { EventBus } from "../../src/bus/event_bus.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { OffloadPool } from "../../src/exec/offload_pool.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { ClosedError } from "../../src/errors.ts";
import { MAX_BURST_TICKS, MIN_PERIOD_MS } from "../../src/time/timer_wheel.ts";
import { recordingLogger, SILENT_LOGGER } from "../_util/logger.ts";

function setup(options: Omit<ExecutorOptions, "clock" | "driver"> = {}) {
  const clock = new VirtualClock();
  const bus = options.bus ?? new EventBus();
  const logger = recordingLogger();
  const executor = new Executor({ clock, bus, logger, ...options });
  return { clock, bus, executor, lines: logger.lines };
}

Deno.test("Executor runs released tasks earliest deadline first, then by priority, then release order", () => {
  const { clock, executor } = setup();
  using _ = executor;
  const order: string[] = [];
  const add = (name: string, deadlineMs: number, priority = 0) =>
    executor.periodic({
      name,
      periodMs: 10,
      deadlineMs,
      priority,
      run: () => void order.push(name),
    });
  add("d8", 8);
  add("d2", 2);
  add("d5-low", 5, 0);
  add("d5-high", 5, 9);
  add("d5-low-later", 5, 0);
  clock.advance(10);
  assertEquals(order, ["d2", "d5-high", "d5-low", "d5-low-later", "d8"]);
});

Deno.test("Executor releases periodic tasks without drift and times each run", () => {
  const { clock, executor } = setup();
  using _ = executor;
  const releases: number[] = [];
  const task = executor.periodic({
    name: "loop",
    periodMs: 2,
    run: (ctx) => {
      releases.push(ctx.release);
      assertEquals(ctx.deadline, ctx.release + 2);
      clock.spend(0.5);
    },
  });
  clock.advance(20);
  assertEquals(releases, [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
  const stats = task.stats();
  assertEquals(stats.runs, 10);
  assertEquals(stats.execution.last, 0.5);
  assertEquals(stats.execution.max, 0.5);
  assertEquals(stats.schedulingLatency.max, 0);
  assertEquals(stats.lateness.last, -1.5);
  assertEquals(stats.deadlineMisses, 0);
  assertEquals(stats.state, "done");
});

Deno.test("Executor counts deadline misses and scheduling latency when a run hogs the thread", () => {
  const { clock, executor } = setup();
  using _ = executor;
  const hog = executor.periodic({
    name: "hog",
    periodMs: 10,
    deadlineMs: 10,
    run: () => clock.spend(4),
  });
  const quick = executor.periodic({
    name: "quick",
    periodMs: 10,
    deadlineMs: 3,
    delayMs: 11,
    run: () => {},
  });
  clock.advanceTo(15); // hog runs 10..14; quick, released at 11, can start only at 14
  assertEquals(quick.stats().schedulingLatency.last, 3);
  assertEquals(quick.stats().deadlineMisses, 0, "ended at 14, its deadline");
  assertEquals(hog.stats().lateness.last, -6);
  hog.cancel();
  // hog2 is released at 29 and runs 29..37; quick, released at 31 (deadline 34), ends at 37.
  executor.periodic({
    name: "hog2",
    periodMs: 10,
    delayMs: 14,
    deadlineMs: 10,
    run: () => clock.spend(8),
  });
  clock.advanceTo(40);
  const q = quick.stats();
  assertEquals(q.runs, 3);
  assertEquals(q.deadlineMisses, 1);
  assertEquals(q.lateness.last, 3);
  assertEquals(q.schedulingLatency.max, 6);
  assertEquals(executor.stats().deadlineMisses, 1);
});

Deno.test("Executor per-task queue caps apply drop-newest, drop-oldest and defer, counted by reason", async (t) => {
  for (const overflow of ["drop-newest", "drop-oldest", "defer"] as const) {
    await t.step(overflow, async () => {
      const { clock, executor, bus } = setup();
      using _ = executor;
      const seen: number[] = [];
      let release!: () => void;
      const gate = new Promise<void>((resolve) => release = resolve);
      const task = executor.onEvent<number>({
        name: "worker",
        topic: "jobs",
        queueCap: 2,
        overflow,
        run: async (ctx) => {
          seen.push(ctx.event);
          if (ctx.event === 0) await gate;
        },
      });
      const topic = bus.topic<number>("jobs");
      topic.publish(0);
      clock.advance(0); // event 0 starts and blocks on the gate
      for (let i = 1; i <= 4; i++) topic.publish(i); // 2 fit the queue, 2 overflow
      const s = task.stats();
      assertEquals(s.releases, 5);
      release();
      await gate;
      await executor.whenIdle();
      if (overflow === "drop-newest") {
        assertEquals(seen, [0, 1, 2]);
        assertEquals(task.stats().dropped["task-cap"], 2);
      } else if (overflow === "drop-oldest") {
        assertEquals(seen, [0, 3, 4]);
        assertEquals(task.stats().dropped["task-cap"], 2);
      } else {
        // Over its own cap, defer drops like drop-newest: deferral is for the global cap.
        assertEquals(seen, [0, 1, 2]);
        assertEquals(task.stats().deferred, 0);
        assertEquals(task.stats().dropped["task-cap"], 2);
      }
    });
  }
});

Deno.test("Executor global cap bounds runnable releases across tasks and exports queue depth", async () => {
  const metrics = new MetricsRegistry();
  const { clock, executor, bus } = setup({ maxRunnable: 2, metrics });
  using _ = executor;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  for (const name of ["a", "b", "c"]) {
    executor.onEvent({ name, topic: "go", overflow: "drop-newest", run: () => gate });
  }
  bus.topic("go").publish(1);
  assertEquals(executor.stats().runnable, 2);
  assertEquals(executor.stats().dropped["global-cap"], 1);
  assertEquals(executor.task("c")!.stats().dropped["global-cap"], 1);
  const text = metrics.exposeText();
  assert(
    text.includes(
      'chronetix_exec_dropped_total{executor="executor",task="c",reason="global-cap"} 1',
    ),
    text,
  );
  assert(text.includes('chronetix_exec_runnable{executor="executor"} 2'), text);
  clock.advance(0);
  release();
  await executor.whenIdle();
  assertEquals(executor.stats().runnable, 0);
});

Deno.test("Executor defers releases over the global cap and runs them, oldest first, when room frees", async () => {
  const { clock, executor, bus } = setup({ maxRunnable: 1 });
  using _ = executor;
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  executor.onEvent<string>({
    name: "first",
    topic: "go",
    run: () => gate,
  });
  const deferring = executor.onEvent<string>({
    name: "later",
    topic: "go",
    queueCap: 2,
    overflow: "defer",
    run: (ctx) => void order.push(ctx.event),
  });
  // "a": "first" takes the only runnable slot; "later" is over the global cap and defers.
  bus.topic<string>("go").publish("a");
  // "b": "first" is dropped (global cap, nothing of its own to drop); "later" defers again.
  bus.topic<string>("go").publish("b");
  // "c": "later" already holds 2 deferred releases, its own cap: this one is dropped.
  bus.topic<string>("go").publish("c");
  clock.advance(0);
  const s = deferring.stats();
  assertEquals([s.deferred, s.queued, s.dropped["task-cap"]], [2, 2, 1]);
  assertEquals(executor.stats().deferred, 2);
  release();
  await gate;
  await executor.whenIdle();
  assertEquals(order, ["a", "b"]);
  assertEquals(executor.stats().deferred, 0);
});

Deno.test("Executor budget tiers climb monitor, warn, yield, isolate and quarantine a task that is not offloadable", () => {
  const { clock, executor, bus, lines } = setup({ budget: { escalateAfter: 2, cooldownMs: 0 } });
  using _ = executor;
  const events: BudgetEvent[] = [];
  bus.topic<BudgetEvent>(BUDGET_TOPIC).subscribe((e) => void events.push(e));
  const tiers: string[] = [];
  const task = executor.periodic({
    name: "greedy",
    periodMs: 10,
    budgetMs: 1,
    run: () => clock.spend(2),
  });
  for (let i = 0; i < 8; i++) {
    clock.advance(10);
    tiers.push(task.tier);
  }
  assertEquals(tiers.slice(0, 6), ["monitor", "warn", "warn", "yield", "yield", "isolate"]);
  assertEquals(task.state, "quarantined");
  assertEquals(task.stats().runs, 6, "a quarantined task is not released again");
  assert(task.stats().reason!.includes("quarantined: 6 runs over its 1 ms budget"));
  assertEquals(events.map((e) => e.action), ["warn", "yield", "quarantine"]);
  assertEquals(lines.length, 3);
  assert(lines[0]!.startsWith('warn: Task "greedy" exceeded its 1 ms budget'), lines[0]);
  task.resume();
  assertEquals(task.tier, "monitor");
  clock.advance(10);
  assertEquals(task.stats().runs, 7);
});

Deno.test("Executor budget tiers step down after good runs, respecting the cooldown", () => {
  const { clock, executor } = setup({
    budget: { escalateAfter: 1, recoverAfter: 3, cooldownMs: 25 },
  });
  using _ = executor;
  let cost = 2;
  const task = executor.periodic({
    name: "t",
    periodMs: 10,
    budgetMs: 1,
    run: () => clock.spend(cost),
  });
  clock.advance(10);
  assertEquals(task.tier, "warn");
  clock.advance(10); // overrun, but within the 25 ms cooldown
  assertEquals(task.tier, "warn");
  cost = 0.5;
  clock.advance(30); // three good runs, cooldown passed
  assertEquals(task.tier, "monitor");
});

Deno.test("Executor ctx.checkpoint() yields through a timer only at the yield tier once the slice is spent", async () => {
  const { clock, executor } = setup({ budget: { escalateAfter: 1, cooldownMs: 0 } });
  using _ = executor;
  const yielded: boolean[] = [];
  const task = executor.periodic({
    name: "chunky",
    periodMs: 10,
    budgetMs: 1,
    run: async (ctx) => {
      clock.spend(2);
      let resolvedAtOnce = false;
      const p = ctx.checkpoint().then(() => resolvedAtOnce = true);
      await Promise.resolve();
      yielded.push(!resolvedAtOnce);
      clock.advance(0); // lets a yield timer fire
      await p;
    },
  });
  for (let i = 0; i < 3; i++) {
    clock.advance(10);
    await executor.whenIdle();
  }
  assertEquals(yielded, [false, false, true]); // monitor, warn, then yield
  assertEquals(task.stats().yields, 1);
});

Deno.test("Executor error policies: continue, retry, stop", async (t) => {
  await t.step("continue keeps a periodic task going", () => {
    const { clock, executor } = setup();
    using _ = executor;
    const task = executor.periodic({
      name: "flaky",
      periodMs: 1,
      run: () => {
        throw new Error("boom");
      },
    });
    const other = executor.periodic({ name: "other", periodMs: 1, run: () => {} });
    clock.advance(3);
    assertEquals(task.stats().failures, 3);
    assertEquals(other.stats().runs, 3);
    assertEquals(task.state, "done");
  });
  await t.step("retry runs again up to maxRetries", () => {
    const { clock, executor } = setup();
    using _ = executor;
    let attempts = 0;
    const task = executor.once({
      name: "once",
      onError: "retry",
      maxRetries: 2,
      run: (ctx) => {
        attempts++;
        if (ctx.attempt < 2) throw new Error("not yet");
      },
    });
    clock.advance(0);
    assertEquals(attempts, 3);
    assertEquals(task.stats().retries, 2);
    assertEquals(task.stats().failures, 2);
    assertEquals(task.state, "done");
  });
  await t.step("stop moves the task to failed", async () => {
    const { clock, executor } = setup();
    using _ = executor;
    const task = executor.periodic({
      name: "fragile",
      periodMs: 1,
      onError: "stop",
      run: () => Promise.reject(new Error("bad sensor")),
    });
    clock.advance(1);
    await executor.whenIdle();
    clock.advance(5);
    assertEquals(task.state, "failed");
    assertEquals(task.stats().runs, 1);
    assertEquals(task.stats().reason, "stopped after a failed run: bad sensor");
  });
});

Deno.test("Executor rejects bad input with clear errors", () => {
  const { executor } = setup();
  using _ = executor;
  const run = () => {};
  executor.periodic({ name: "a", periodMs: 1, run });
  const cases: [() => unknown, ErrorConstructor, string][] = [
    [
      () => executor.periodic({ name: "b", periodMs: 0, run }),
      RangeError,
      "'periodMs' must be >= 0.001 (MIN_PERIOD_MS): current value is 0",
    ],
    [
      () => executor.periodic({ name: "b", periodMs: -1, run }),
      RangeError,
      "'periodMs' must be >= 0.001",
    ],
    [() => executor.periodic({ name: "b", periodMs: NaN, run }), RangeError, "finite number"],
    [
      () => executor.periodic({ name: "a", periodMs: 1, run }),
      TypeError,
      'a task named "a" already exists',
    ],
    [
      () => executor.periodic({ name: "", periodMs: 1, run }),
      TypeError,
      "'name' must be a non-empty string",
    ],
    [
      () => executor.periodic({ name: "b", periodMs: 1, deadlineMs: 0, run }),
      RangeError,
      "'deadlineMs' must be > 0",
    ],
    [
      () => executor.periodic({ name: "b", periodMs: 1, budgetMs: -1, run }),
      RangeError,
      "'budgetMs' must be > 0",
    ],
    [
      () => executor.periodic({ name: "b", periodMs: 1, queueCap: 0, run }),
      RangeError,
      "'queueCap' must be an integer in [1, 1048576]",
    ],
    [
      () => executor.periodic({ name: "b", periodMs: 1, overflow: "drop" as "defer", run }),
      TypeError,
      "'overflow' must be one of",
    ],
    [
      () => executor.periodic({ name: "b", periodMs: 1, run: 3 as unknown as () => void }),
      TypeError,
      "'run' must be a function",
    ],
    [
      () => executor.periodic({ name: "b", periodMs: 1, offload: { job: "x" }, run }),
      TypeError,
      "needs an Executor with an 'offload' pool",
    ],
    [() => new Executor({ maxRunnable: 0 }), RangeError, "'maxRunnable' must be an integer"],
    [() => new Executor({ name: "" }), TypeError, "'name' must be a non-empty string"],
    [() => new Executor({ tick: { fixedMs: 0 } }), RangeError, "'tick.fixedMs' must be >= 0.001"],
    [() => new Executor({ tick: "fixed" as "adaptive" }), TypeError, "'tick' must be"],
    [
      () => new Executor({ budget: { escalateAfter: 0 } }),
      RangeError,
      "'budget.escalateAfter' must be an integer",
    ],
    [
      () => new Executor({ clock: new VirtualClock() }).onEvent({ name: "e", topic: "t", run }),
      TypeError,
      "has no 'bus'",
    ],
  ];
  for (const [make, type, text] of cases) assertThrows(make, type, text);
});

Deno.test("Executor with a fixed tick releases on tick boundaries only", () => {
  const { clock, executor } = setup({ tick: { fixedMs: 4 } });
  using _ = executor;
  const starts: number[] = [];
  executor.periodic({ name: "p", periodMs: 3, run: () => void starts.push(clock.now()) });
  clock.advance(12);
  // Releases at 3, 6, 9, 12 are noticed at ticks 4, 8, 12, 12.
  assertEquals(starts, [4, 8, 12, 12]);
});

Deno.test("Executor with a fixed tick applies missedTicks to releases a late tick missed", async (t) => {
  const stalled = (missedTicks: "skip" | "delay" | "burst") => {
    const { clock, executor } = setup({ tick: { fixedMs: 10 } });
    const releases: number[] = [];
    const task = executor.periodic({
      name: "p",
      periodMs: 5,
      missedTicks,
      queueCap: 64,
      run: (ctx) => void releases.push(ctx.release),
    });
    executor.once({ name: "hog", delayMs: 10, run: () => clock.spend(33) }); // tick 10 ends at 43
    clock.advance(60);
    executor.close();
    return { releases, stats: task.stats() };
  };
  await t.step("skip: releases older than one tick are skipped and counted", () => {
    const { releases, stats } = stalled("skip");
    // The tick due at 20 fires at 43: 15..30 are more than a tick old.
    assertEquals(releases, [5, 10, 35, 40, 45, 50, 55, 60]);
    assertEquals(stats.skippedTicks, 4);
  });
  await t.step("delay: one late release, then the period restarts from the tick", () => {
    const { releases, stats } = stalled("delay");
    assertEquals(releases, [5, 10, 15, 48, 53, 58]);
    assertEquals(stats.skippedTicks, 0);
  });
  await t.step("burst: every missed release runs", () => {
    const { releases, stats } = stalled("burst");
    assertEquals(releases, [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60]);
    assertEquals(stats.skippedTicks, 0);
  });
});

Deno.test("Executor bounds the catch-up after a huge stall, on a fixed tick and on the adaptive one", async (t) => {
  for (const tick of [{ fixedMs: 1 }, "adaptive"] as const) {
    await t.step(typeof tick === "string" ? tick : "fixed", () => {
      const { clock, executor } = setup({ tick });
      using _ = executor;
      const burst = executor.periodic({
        name: "burst",
        periodMs: MIN_PERIOD_MS,
        missedTicks: "burst",
        run: () => {},
      });
      const skip = executor.periodic({ name: "skip", periodMs: MIN_PERIOD_MS, run: () => {} });
      clock.stall(1e9); // 10^12 periods: a loop over them would never end
      clock.advance(1); // then 1,000 more periods, on time
      const periods = (1e9 + 1) / MIN_PERIOD_MS;
      for (const task of [burst, skip]) {
        const s = task.stats();
        // Every period released or skipped (0.001 is not exact in binary: allow rounding).
        assert(Math.abs(s.releases + s.skippedTicks - periods) <= 2, `${s.name}: ${s.releases}`);
        assertEquals(s.runs + s.dropped["task-cap"] + s.queued, s.releases, s.name);
      }
      assert(burst.stats().releases <= MAX_BURST_TICKS + 2001, String(burst.stats().releases));
      assert(skip.stats().releases <= 2002, String(skip.stats().releases));
    });
  }
});

Deno.test("Executor.close() cancels tasks, aborts their signals and reports once", () => {
  const { clock, executor } = setup();
  let signal: AbortSignal | undefined;
  const task = executor.periodic({
    name: "p",
    periodMs: 1,
    run: (ctx) => void (signal = ctx.signal),
  });
  clock.advance(1);
  executor.once({ name: "later", delayMs: 5, run: () => {} });
  const report = executor.close();
  assertEquals(report, { cancelled: 2, dropped: 0 });
  assertEquals(executor.close(), report, "a second close returns the same report");
  assertThrows(() => executor.once({ name: "x", run: () => {} }), ClosedError);
  assertEquals(task.state, "cancelled");
  assertEquals(signal?.aborted, true);
  clock.advance(5);
  assertEquals(task.stats().runs, 1);
});

Deno.test("Executor moves an offloadable task's runs to the offload pool at the isolate tier (real Worker)", async () => {
  const clock = new VirtualClock();
  const pool = new OffloadPool({
    jobs: { square: new URL("./_fixtures/jobs/square.ts", import.meta.url) },
    workers: 1,
    logger: SILENT_LOGGER,
  });
  const executor = new Executor({
    clock,
    offload: pool,
    logger: SILENT_LOGGER,
    budget: { escalateAfter: 1, cooldownMs: 0 },
  });
  let mainThreadRuns = 0;
  const task = executor.periodic({
    name: "heavy",
    periodMs: 10,
    budgetMs: 1,
    offload: { job: "square", input: () => 7 },
    run: () => {
      mainThreadRuns++;
      clock.spend(2);
    },
  });
  for (let i = 0; i < 5; i++) {
    clock.advance(10);
    await executor.whenIdle();
  }
  const stats = task.stats();
  assertEquals(mainThreadRuns, 3, "monitor -> warn -> yield -> isolate took three overruns");
  assertEquals(task.tier, "isolate");
  assertEquals(task.state, "done", "offloaded, not quarantined");
  assertEquals(stats.offloaded, 2);
  assertEquals(stats.runs, 5);
  assertEquals(pool.stats().completed, 2);
  executor.close();
  await pool.close();
});

Deno.test("Executor.periodic() counts the ticks skipped after a stall in skippedTicks", async (t) => {
  await t.step("skip: the stalled ticks are skipped and counted per task", () => {
    const { clock, executor } = setup();
    using _ = executor;
    const releases: number[] = [];
    const loop = executor.periodic({
      name: "loop",
      periodMs: 10,
      run: (ctx) => void releases.push(ctx.release),
    });
    const steady = executor.periodic({ name: "steady", periodMs: 100, run: () => {} });
    executor.once({ name: "hog", delayMs: 15, run: () => clock.spend(37) }); // blocks 15..52
    clock.advance(100);
    // The tick due at 20 runs late; 30, 40 and 50 passed during the stall.
    assertEquals(releases, [10, 20, 60, 70, 80, 90, 100]);
    assertEquals(loop.stats().skippedTicks, 3);
    assertEquals(steady.stats().skippedTicks, 0);
    assertEquals(executor.stats().skippedTicks, 3);
    assertEquals(executor.driver.stats().wheel.skippedTicks, 3, "agrees with the driver");
  });
  await t.step("burst: every tick runs, none is skipped", () => {
    const { clock, executor } = setup();
    using _ = executor;
    const releases: number[] = [];
    const loop = executor.periodic({
      name: "loop",
      periodMs: 10,
      missedTicks: "burst",
      queueCap: 8,
      run: (ctx) => void releases.push(ctx.release),
    });
    executor.once({ name: "hog", delayMs: 15, run: () => clock.spend(37) });
    clock.advance(60);
    assertEquals(releases, [10, 20, 30, 40, 50, 60]);
    assertEquals(loop.stats().skippedTicks, 0);
  });
  await t.step("a quarantined task resumed later does not count its pause as skipped", () => {
    const { clock, executor } = setup({ budget: { escalateAfter: 1, cooldownMs: 0 } });
    using _ = executor;
    let cost = 2;
    const task = executor.periodic({
      name: "greedy",
      periodMs: 10,
      budgetMs: 1,
      run: () => clock.spend(cost),
    });
    clock.advance(30); // three overruns: warn, yield, isolate (quarantined)
    assertEquals(task.state, "quarantined");
    clock.advance(100);
    cost = 0;
    task.resume();
    clock.advance(30);
    assertEquals(task.stats().runs, 6);
    assertEquals(task.stats().skippedTicks, 0);
  });
});

Deno.test("Executor task contexts type ctx.event by the kind of task", () => {
  const { clock, executor, bus } = setup();
  using _ = executor;
  const seen: number[] = [];
  executor.onEvent<number>({
    name: "event",
    topic: "n",
    run: (ctx) => {
      const event: number = ctx.event; // no non-null assertion needed
      seen.push(event + 1);
    },
  });
  executor.periodic({
    name: "periodic",
    periodMs: 5,
    run: (ctx) => {
      const event: undefined = ctx.event;
      seen.push(event === undefined ? -1 : 0);
    },
  });
  bus.topic<number>("n").publish(41);
  clock.advance(5);
  assertEquals(seen, [42, -1]);
});

Deno.test("Executor.whenIdle() resolves at once when idle and when the executor closes", async () => {
  const { clock, executor, bus } = setup();
  await executor.whenIdle();
  executor.onEvent({ name: "stuck", topic: "go", run: () => new Promise<void>(() => {}) });
  bus.topic("go").publish(1);
  clock.advance(0);
  let idle = false;
  const waiting = executor.whenIdle().then(() => idle = true);
  await Promise.resolve();
  assertEquals(idle, false, "a run is still in flight");
  executor.close();
  await waiting;
  assertEquals(idle, true);
  await executor.whenIdle();
});
