// Bad arguments to every public constructor and method of the executor: each
// is a TypeError or RangeError naming the parameter as the caller wrote it,
// and leaves nothing behind (no task, no taken name, no timer, no
// subscription, no driver attached to the clock, no metrics series).
import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { Executor, type ExecutorOptions } from "../../src/exec/executor.ts";
import type { TaskContext, TaskHandle } from "../../src/exec/task.ts";
import { EventBus } from "../../src/bus/event_bus.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { Driver } from "../../src/time/driver.ts";
import { MIN_PERIOD_MS } from "../../src/time/timer_wheel.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { SILENT_LOGGER } from "../_util/logger.ts";

/** A virtual clock that counts the targets attached to it (one per driver). */
function countingClock(startMs = 0): VirtualClock & { readonly attached: number } {
  const clock = new VirtualClock(startMs) as VirtualClock & { attached: number };
  clock.attached = 0;
  const attach = clock.attach.bind(clock);
  clock.attach = (target) => {
    clock.attached++;
    const detach = attach(target);
    return {
      [Symbol.dispose]() {
        clock.attached--;
        detach[Symbol.dispose]();
      },
    };
  };
  return clock;
}

const run = () => {};
const offload = { submit: () => Promise.resolve() };

function assertRejects(
  make: () => unknown,
  param: string,
  label: string,
): TypeError | RangeError {
  let error: unknown;
  try {
    make();
  } catch (e) {
    error = e;
  }
  assert(error !== undefined, `${label}: expected an error naming '${param}', none was thrown`);
  assert(
    error instanceof TypeError || error instanceof RangeError,
    `${label}: expected a TypeError or RangeError, got ${String(error)}`,
  );
  assert(error.message.startsWith("Cannot "), `${label}: ${error.message}`);
  assertStringIncludes(error.message, `'${param}'`, label);
  return error;
}

function subscribers(bus: EventBus): number {
  return bus.stats().topics.reduce((n, t) => n + t.subscribers, 0);
}

type Bad = [param: string, options: Record<string, unknown>];

// Options every kind of task takes; each entry replaces one valid option.
const COMMON: Bad[] = [
  ["name", { name: 5 }],
  ["name", { name: "" }],
  ["name", { name: null }],
  ["name", { name: Symbol("n") }],
  ["name", { name: "\uD800" }],
  ["run", { run: 5 }],
  ["run", { run: null }],
  ["run", { run: "() => {}" }],
  ["deadlineMs", { deadlineMs: 0 }],
  ["deadlineMs", { deadlineMs: -1 }],
  ["deadlineMs", { deadlineMs: NaN }],
  ["deadlineMs", { deadlineMs: -Infinity }],
  ["deadlineMs", { deadlineMs: "5" }],
  ["deadlineMs", { deadlineMs: 10n }],
  ["deadlineMs", { deadlineMs: null }],
  ["priority", { priority: NaN }],
  ["priority", { priority: Infinity }],
  ["priority", { priority: "1" }],
  ["priority", { priority: 1n }],
  ["priority", { priority: Symbol("p") }],
  ["budgetMs", { budgetMs: 0 }],
  ["budgetMs", { budgetMs: -1 }],
  ["budgetMs", { budgetMs: NaN }],
  ["budgetMs", { budgetMs: Infinity }],
  ["budgetMs", { budgetMs: "1" }],
  ["queueCap", { queueCap: 0 }],
  ["queueCap", { queueCap: 1.5 }],
  ["queueCap", { queueCap: 1e300 }],
  ["queueCap", { queueCap: NaN }],
  ["queueCap", { queueCap: "2" }],
  ["overflow", { overflow: "drop" }],
  ["overflow", { overflow: 5 }],
  ["overflow", { overflow: null }],
  ["onError", { onError: "ignore" }],
  ["onError", { onError: Symbol("e") }],
  ["maxRetries", { maxRetries: -1 }],
  ["maxRetries", { maxRetries: 1.5 }],
  ["maxRetries", { maxRetries: 1e300 }],
  ["maxRetries", { maxRetries: "3" }],
  ["offload", { offload: 5 }],
  ["offload", { offload: null }],
  ["offload", { offload: "job" }],
  ["offload.job", { offload: {} }],
  ["offload.job", { offload: { job: "" } }],
  ["offload.job", { offload: { job: 5 } }],
  ["offload.input", { offload: { job: "j", input: 5 } }],
];

const PERIODIC: Bad[] = [
  ["periodMs", { periodMs: 0 }],
  ["periodMs", { periodMs: -1 }],
  ["periodMs", { periodMs: NaN }],
  ["periodMs", { periodMs: Infinity }],
  ["periodMs", { periodMs: 1e-12 }],
  ["periodMs", { periodMs: 2.4e-66 }],
  ["periodMs", { periodMs: MIN_PERIOD_MS / 2 }],
  ["periodMs", { periodMs: "5" }],
  ["periodMs", { periodMs: 5n }],
  ["periodMs", { periodMs: undefined }],
  ["periodMs", { periodMs: 2 ** 53 }],
  ["delayMs", { delayMs: -1 }],
  ["delayMs", { delayMs: NaN }],
  ["delayMs", { delayMs: Infinity }],
  ["delayMs", { delayMs: "1" }],
  ["missedTicks", { missedTicks: "x" }],
  ["missedTicks", { missedTicks: 5 }],
  ["missedTicks", { missedTicks: null }],
];

const ONCE: Bad[] = [
  ["delayMs", { delayMs: -1 }],
  ["delayMs", { delayMs: NaN }],
  ["delayMs", { delayMs: Infinity }],
  ["delayMs", { delayMs: 1n }],
  ["delayMs", { delayMs: 1e300 }],
];

const EVENT: Bad[] = [
  ["topic", { topic: "" }],
  ["topic", { topic: 5 }],
  ["topic", { topic: null }],
  ["topic", { topic: undefined }],
  ["topic", { topic: "\uDFFF" }],
];

Deno.test("Executor.periodic(), once() and onEvent() reject every bad option and leave no trace", async (t) => {
  const kinds: [string, Bad[], Record<string, unknown>, (e: Executor, o: never) => TaskHandle][] = [
    ["periodic", [...COMMON, ...PERIODIC], { periodMs: 10 }, (e, o) => e.periodic(o)],
    ["once", [...COMMON, ...ONCE], { delayMs: 5 }, (e, o) => e.once(o)],
    ["onEvent", [...COMMON, ...EVENT], { topic: "t" }, (e, o) => e.onEvent(o)],
  ];
  for (const [kind, cases, base, add] of kinds) {
    await t.step(kind, () => {
      const clock = new VirtualClock();
      const bus = new EventBus();
      const metrics = new MetricsRegistry();
      using executor = new Executor({ clock, bus, offload, metrics, logger: SILENT_LOGGER });
      executor.periodic({ name: "keep", periodMs: 10, run });
      const pending = executor.driver.pending;
      metrics.exposeText(); // the first scrape creates the series of "keep"
      const exposition = metrics.exposeText();
      for (const [param, bad] of cases) {
        const options = { name: "x", run, ...base, ...bad };
        const label = `${kind}(${param}: ${String(Object.values(bad)[0])})`;
        assertRejects(() => add(executor, options as never), param, label);
        assertEquals(executor.taskNames, ["keep"], `${label} left a task`);
        assertEquals(executor.stats().tasks, 1, label);
        assertEquals(executor.driver.pending, pending, `${label} left a timer`);
        assertEquals(subscribers(bus), 0, `${label} left a subscription`);
        assertEquals(metrics.exposeText(), exposition, `${label} left a metrics series`);
      }
      // The name stays free: the same name with valid options is accepted.
      const task = add(executor, { name: "x", run, ...base } as never);
      assertEquals(executor.taskNames, ["keep", "x"]);
      task.cancel();
    });
  }
});

Deno.test("Executor.periodic() with a bad missedTicks leaves the name free (regression)", () => {
  const clock = new VirtualClock();
  using executor = new Executor({ clock, logger: SILENT_LOGGER });
  assertThrows(
    () => executor.periodic({ name: "a", periodMs: 1, missedTicks: "x" as "skip", run }),
    TypeError,
    'Cannot add a periodic task as \'missedTicks\' must be one of "burst", "delay", "skip"',
  );
  assertEquals(executor.taskNames, []);
  assertEquals(executor.task("a"), undefined);
  const task = executor.periodic({ name: "a", periodMs: 1, run });
  clock.advance(1);
  assertEquals(task.stats().runs, 1);
});

Deno.test("Executor.periodic(), once() and onEvent() name 'options' when it is not an object", () => {
  using executor = new Executor({ clock: new VirtualClock(), bus: new EventBus() });
  for (const options of [null, 5, "task", true, Symbol("o"), 1n]) {
    for (
      const [action, add] of [
        ["add a periodic task", () => executor.periodic(options as never)],
        ["add a one-shot task", () => executor.once(options as never)],
        ["add an event task", () => executor.onEvent(options as never)],
      ] as const
    ) {
      const error = assertRejects(add, "options", `${action}(${String(options)})`);
      assertEquals(error.constructor, TypeError);
      assertStringIncludes(error.message, `Cannot ${action} as 'options' must be an object`);
    }
  }
  assertEquals(executor.taskNames, []);
});

Deno.test("Executor.periodic() and the fixed tick reject periods below MIN_PERIOD_MS", () => {
  assertEquals(MIN_PERIOD_MS, 0.001);
  using executor = new Executor({ clock: new VirtualClock() });
  for (const periodMs of [2.4e-66, 1e-12, 1e-300, 0.0009]) {
    assertThrows(
      () => executor.periodic({ name: "p", periodMs, run }),
      RangeError,
      `Cannot add a periodic task as 'periodMs' must be >= ${MIN_PERIOD_MS} (MIN_PERIOD_MS): current value is ${periodMs}`,
    );
    assertThrows(
      () => new Executor({ clock: new VirtualClock(), tick: { fixedMs: periodMs } }),
      RangeError,
      `Cannot create an Executor as 'tick.fixedMs' must be >= ${MIN_PERIOD_MS} (MIN_PERIOD_MS): current value is ${periodMs}`,
    );
  }
  // The minimum itself is accepted and makes progress.
  const clock = new VirtualClock();
  using fine = new Executor({ clock });
  const task = fine.periodic({ name: "fast", periodMs: MIN_PERIOD_MS, run });
  clock.advance(0.01);
  assert(task.stats().runs >= 9, String(task.stats().runs));
});

Deno.test("Executor.periodic() rejects a period the clock cannot represent as progress at its time", () => {
  // At 2^60 ms a step of 1 ms is lost in rounding: now + 1 === now.
  const clock = new VirtualClock(2 ** 60);
  using executor = new Executor({ clock });
  assertThrows(
    () => executor.periodic({ name: "p", periodMs: 1, run }),
    RangeError,
    "'periodMs' must be large enough to advance the time",
  );
  assertThrows(
    () => new Executor({ clock, tick: { fixedMs: 1 } }),
    RangeError,
    "'tick.fixedMs' must be large enough to advance the time",
  );
  assertEquals(executor.taskNames, []);
});

Deno.test("Executor constructor rejects every bad option and leaves no driver, timer or series behind", () => {
  const cases: [string, ExecutorOptions | unknown][] = [
    ["options", null],
    ["options", 5],
    ["options", "executor"],
    ["name", { name: 5 }],
    ["name", { name: "" }],
    ["name", { name: Symbol("n") }],
    ["name", { name: "lone \uDC00" }],
    ["logger", { logger: 5 }],
    ["logger", { logger: {} }],
    ["driver", { driver: {} }],
    ["driver", { driver: 5 }],
    ["driver", { driver: null }],
    ["driver", { driver: { clock: new VirtualClock(), every() {} } }],
    ["clock", { clock: {} }],
    ["clock", { clock: 5 }],
    ["clock", { clock: null }],
    ["clock", { clock: { now: () => NaN } }],
    ["clock", { clock: { now: () => "1" } }],
    ["profile", { profile: "fast" }],
    ["profile", { profile: 5 }],
    ["bus", { bus: {} }],
    ["bus", { bus: 5 }],
    ["bus", { bus: null }],
    ["bus", { bus: { topic: 5 } }],
    ["offload", { offload: {} }],
    ["offload", { offload: 5 }],
    ["offload", { offload: null }],
    ["offload", { offload: { submit: "x" } }],
    ["maxRunnable", { maxRunnable: 0 }],
    ["maxRunnable", { maxRunnable: 1.5 }],
    ["maxRunnable", { maxRunnable: 1e300 }],
    ["maxRunnable", { maxRunnable: NaN }],
    ["maxRunnable", { maxRunnable: "5" }],
    ["deferCap", { deferCap: -1 }],
    ["deferCap", { deferCap: 2n }],
    ["tick", { tick: "fixed" }],
    ["tick", { tick: null }],
    ["tick", { tick: 5 }],
    ["tick.fixedMs", { tick: {} }],
    ["tick.fixedMs", { tick: { fixedMs: 0 } }],
    ["tick.fixedMs", { tick: { fixedMs: 1e-300 } }],
    ["tick.fixedMs", { tick: { fixedMs: NaN } }],
    ["tick.fixedMs", { tick: { fixedMs: Infinity } }],
    ["tick.fixedMs", { tick: { fixedMs: "1" } }],
    ["tick.fixedMs", { tick: { fixedMs: 2 ** 53 } }],
    ["budget", { budget: null }],
    ["budget", { budget: 5 }],
    ["budget.escalateAfter", { budget: { escalateAfter: 0 } }],
    ["budget.escalateAfter", { budget: { escalateAfter: "3" } }],
    ["budget.recoverAfter", { budget: { recoverAfter: 1.5 } }],
    ["budget.cooldownMs", { budget: { cooldownMs: -1 } }],
    ["budget.cooldownMs", { budget: { cooldownMs: NaN } }],
    ["budget.cooldownMs", { budget: { cooldownMs: Infinity } }],
    ["metrics", { metrics: 5 }],
    ["metrics", { metrics: {} }],
    ["metrics", { metrics: null }],
  ];
  for (const [param, options] of cases) {
    const clock = countingClock();
    const label = `new Executor(${param}: ${JSON.stringify(options, (_, v) => String(v))})`;
    const given = options !== null && typeof options === "object"
      ? { clock, logger: SILENT_LOGGER, ...options }
      : options;
    assertRejects(() => new Executor(given as ExecutorOptions), param, label);
    assertEquals(clock.attached, 0, `${label} left a driver attached to the clock`);
  }
});

Deno.test("Executor constructor closes the driver it made when the metrics registry refuses it", () => {
  const clock = countingClock();
  const metrics = new MetricsRegistry();
  metrics.gauge({ name: "chronetix_exec_runnable", help: "Taken", labelNames: ["other"] });
  assertThrows(
    () => new Executor({ clock, metrics, tick: { fixedMs: 1 }, logger: SILENT_LOGGER }),
    TypeError,
    "already registered",
  );
  assertEquals(clock.attached, 0, "the driver the executor made was closed");
  assertEquals(clock.advance(10), 0, "and its fixed tick cancelled");
});

Deno.test("Executor constructor fails cleanly on a closed injected driver", () => {
  const clock = countingClock();
  const driver = new Driver({ clock });
  driver.close();
  const metrics = new MetricsRegistry();
  metrics.exposeText();
  const before = metrics.exposeText();
  assertThrows(
    () => new Executor({ driver, metrics, tick: { fixedMs: 1 }, logger: SILENT_LOGGER }),
    Error,
    "closed",
  );
  assertEquals(metrics.exposeText(), before, "no executor series left");
  assertEquals(clock.attached, 0);
});

Deno.test("Executor accepts injected collaborators of the right shape", () => {
  const clock = new VirtualClock();
  const driver = new Driver({ clock });
  const topics: string[] = [];
  const bus = {
    topic(name: string) {
      topics.push(name);
      return new EventBus().topic(name);
    },
  };
  using executor = new Executor({ driver, bus: bus as never, offload, logger: SILENT_LOGGER });
  assertEquals(executor.driver, driver);
  executor.onEvent({ name: "e", topic: "t", run });
  assertEquals(topics, ["t"]);
  executor.close();
  driver.close();
});

Deno.test("TaskHandle.cancel(), resume() and stats() never throw engine errors", () => {
  const clock = new VirtualClock();
  using executor = new Executor({ clock, logger: SILENT_LOGGER });
  const task = executor.periodic({ name: "p", periodMs: 10, run });
  const { cancel, resume, stats } = task;
  assertEquals(stats.call(undefined).name, "p", "a detached stats() still works");
  const error = assertThrows(() => resume.call(undefined), TypeError);
  assertEquals(error.message, 'Cannot resume task "p" as it is created, not paused or quarantined');
  assertEquals(cancel.call(undefined), true, "a detached cancel() still works");
  assertEquals(task.cancel(), false);
  assertEquals(task.state, "cancelled");
});

Deno.test("TaskContext.checkpoint() works detached, outside a run, and after the task is cancelled", async () => {
  const clock = new VirtualClock();
  using executor = new Executor({ clock, logger: SILENT_LOGGER });
  let ctx: TaskContext | undefined;
  const task = executor.once({ name: "c", run: (c) => void (ctx = c) });
  clock.advance(0);
  const { checkpoint } = ctx!;
  await checkpoint(); // outside the run: resolves at once
  task.cancel();
  await checkpoint();
  executor.close();
  await ctx!.checkpoint();
});
