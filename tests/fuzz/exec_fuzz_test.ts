// Seeded fuzz of the executor. First every public constructor and method of
// Executor, TaskHandle and TaskContext gets random and hostile values: each
// call works or throws a clean error naming one of its parameters, and a
// rejected call leaves no trace (no task, no taken name, no timer, no
// subscription, no driver attached to the clock). Then random sequences of
// adds (valid and invalid mixed), cancels, resumes, clock advances and
// stalls, bus publishes and closes run on a VirtualClock with bodies that
// succeed, throw (also `undefined`), reject, spend time or go async, and
// these invariants hold after every step: per task, releases + retries =
// runs + dropped + waiting; releases of one instant run earliest deadline
// first; a rejected add leaves taskNames as they were; nothing runs after a
// cancel; the executor's totals are the sum of its tasks'; close reports
// exactly what it cancelled and dropped.
import { assert, assertEquals, assertInstanceOf } from "@std/assert";
import { check, cleanCall, fc, hostile, maybe } from "./_hostile.ts";
import { Executor, type ExecutorOptions } from "../../src/exec/executor.ts";
import type { TaskContext, TaskHandle, TaskStats } from "../../src/exec/task.ts";
import { EventBus } from "../../src/bus/event_bus.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { Driver } from "../../src/time/driver.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { ClosedError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

const SILENT: Logger = { error() {}, warn() {}, info() {} };
const noop = () => {};

const EXECUTOR_NAMES = [
  "options",
  "name",
  "logger",
  "driver",
  "clock",
  "profile",
  "bus",
  "offload",
  "maxRunnable",
  "deferCap",
  "tick",
  "tick.fixedMs",
  "budget",
  "budget.escalateAfter",
  "budget.recoverAfter",
  "budget.cooldownMs",
  "metrics",
];

const TASK_NAMES = [
  "options",
  "name",
  "run",
  "deadlineMs",
  "priority",
  "budgetMs",
  "queueCap",
  "overflow",
  "onError",
  "maxRetries",
  "offload",
  "offload.job",
  "offload.input",
  "periodMs",
  "delayMs",
  "missedTicks",
  "topic",
];

/** A virtual clock that counts the drivers attached to it. */
class CountingClock extends VirtualClock {
  attached = 0;
  override attach(target: Parameters<VirtualClock["attach"]>[0]): Disposable {
    this.attached++;
    const detach = super.attach(target);
    return {
      [Symbol.dispose]: () => {
        this.attached--;
        detach[Symbol.dispose]();
      },
    };
  }
}

function subscribers(bus: EventBus): number {
  return bus.stats().topics.reduce((n, t) => n + t.subscribers, 0);
}

const fakeOffload = {
  submit: (job: string, input: unknown): Promise<unknown> =>
    job === "bad" ? Promise.reject(new Error("job failed")) : Promise.resolve(input),
};

// ---------------------------------------------------------------------------
// Hostile values, call by call

const executorOptions: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: hostile() },
  {
    weight: 6,
    arbitrary: fc.record({
      name: maybe(fc.oneof(hostile(), fc.constant("ex"))),
      logger: maybe(fc.oneof(hostile(), fc.constant(SILENT))),
      driver: maybe(fc.oneof(hostile(), fc.constant("driver"))),
      clock: maybe(
        fc.oneof(
          hostile(),
          fc.constant("clock"),
          maybe().map((v) => ({ now: () => v })),
          fc.constant({
            now: () => {
              throw new Error("broken clock");
            },
          }),
        ),
      ),
      profile: maybe(fc.oneof(hostile(), fc.constantFrom("efficient", "balanced", "precise"))),
      bus: maybe(fc.oneof(hostile(), fc.constant("bus"), maybe().map((v) => ({ topic: v })))),
      offload: maybe(
        fc.oneof(hostile(), fc.constant("offload"), maybe().map((v) => ({ submit: v }))),
      ),
      maxRunnable: maybe(fc.oneof(hostile(), fc.integer({ min: 0, max: 64 }))),
      deferCap: maybe(fc.oneof(hostile(), fc.integer({ min: -1, max: 64 }))),
      tick: maybe(
        fc.oneof(
          hostile(),
          fc.constant("adaptive"),
          fc.record({
            fixedMs: fc.oneof(hostile(), fc.double({ min: 0.0001, max: 20, noNaN: true })),
          }),
        ),
      ),
      budget: maybe(
        fc.oneof(
          hostile(),
          fc.record({
            escalateAfter: maybe(fc.oneof(hostile(), fc.integer({ min: 0, max: 5 }))),
            recoverAfter: maybe(fc.oneof(hostile(), fc.integer({ min: 0, max: 5 }))),
            cooldownMs: maybe(fc.oneof(hostile(), fc.double({ min: -1, max: 10, noNaN: true }))),
          }, { requiredKeys: [] }),
        ),
      ),
      metrics: maybe(fc.oneof(hostile(), fc.constant("metrics"))),
    }, { requiredKeys: [] }),
  },
);

Deno.test("exec fuzz: Executor constructor takes hostile options cleanly and leaves nothing behind", () => {
  check(
    fc.property(executorOptions, (raw) => {
      const clock = new CountingClock();
      let injected: Driver | undefined;
      let options = raw;
      if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
        const o: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
        if (o.driver === "driver") o.driver = injected = new Driver({ clock, logger: SILENT });
        if (o.clock === "clock" || (o.clock === undefined && o.driver === undefined)) {
          o.clock = clock; // never the real clock: it would arm real timers
        }
        if (o.bus === "bus") o.bus = new EventBus();
        if (o.offload === "offload") o.offload = fakeOffload;
        if (o.metrics === "metrics") o.metrics = new MetricsRegistry();
        if (o.logger === undefined) o.logger = SILENT;
        options = o;
      }
      const before = clock.attached;
      try {
        const executor = cleanCall(
          () => new Executor(options as ExecutorOptions),
          EXECUTOR_NAMES,
        );
        if (executor === undefined) {
          assertEquals(clock.attached, before, "a rejected executor left its driver attached");
          return;
        }
        let probes = 0;
        try {
          // It works: a one-shot task runs once the clock moves (only on the
          // virtual clock: any other would arm real timers).
          if (executor.driver.clock === clock) {
            const task = executor.once({ name: "probe", run: noop });
            probes++;
            const fixed = (options as ExecutorOptions).tick;
            clock.advance(typeof fixed === "object" ? fixed.fixedMs : 0);
            assertEquals(task.stats().runs, 1);
          }
        } finally {
          assertEquals(executor.close().cancelled, probes);
        }
      } finally {
        injected?.close();
      }
      assertEquals(clock.attached, 0, "close() left the driver attached");
    }),
  );
});

/** A task option: a valid value most of the time, else a hostile one. */
function option<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return maybe(fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: hostile() }));
}

const taskOptions: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: hostile() },
  {
    weight: 8,
    arbitrary: fc.record({
      name: fc.oneof({ weight: 5, arbitrary: fc.constantFrom("a", "b") }, {
        weight: 1,
        arbitrary: hostile(),
      }),
      run: fc.oneof({ weight: 5, arbitrary: fc.constant(noop) }, {
        weight: 1,
        arbitrary: hostile(),
      }),
      periodMs: option(fc.double({ min: 0.1, max: 50, noNaN: true })),
      delayMs: option(fc.double({ min: 0, max: 50, noNaN: true })),
      missedTicks: option(fc.constantFrom("skip", "delay", "burst")),
      topic: option(fc.constantFrom("t", "u")),
      deadlineMs: option(fc.oneof(fc.double({ min: 0.001, max: 50, noNaN: true }))),
      priority: option(fc.integer({ min: -5, max: 5 })),
      budgetMs: option(fc.double({ min: 0.01, max: 5, noNaN: true })),
      queueCap: option(fc.integer({ min: 1, max: 4 })),
      overflow: option(fc.constantFrom("drop-newest", "drop-oldest", "defer")),
      onError: option(fc.constantFrom("continue", "retry", "stop")),
      maxRetries: option(fc.integer({ min: 0, max: 3 })),
      offload: option(
        fc.record({ job: fc.oneof(fc.constantFrom("ok", "bad"), hostile()), input: maybe() }),
      ),
    }, { requiredKeys: [] }),
  },
);

Deno.test("exec fuzz: adding tasks and using their handles take hostile values cleanly", async () => {
  await check(
    fc.asyncProperty(
      fc.array(
        fc.record({
          kind: fc.constantFrom("periodic", "once", "onEvent"),
          options: taskOptions,
          arg: hostile(),
        }),
        { maxLength: 12 },
      ),
      async (adds) => {
        const clock = new VirtualClock();
        const bus = new EventBus();
        const executor = new Executor({
          clock,
          bus,
          offload: fakeOffload,
          logger: SILENT,
          metrics: new MetricsRegistry(),
        });
        const handles: TaskHandle[] = [];
        let ctx: TaskContext | undefined;
        try {
          for (const { kind, options, arg } of adds) {
            const names = executor.taskNames;
            const pending = executor.driver.pending;
            const subs = subscribers(bus);
            const o = options !== null && typeof options === "object" && !Array.isArray(options)
              ? { ...(options as Record<string, unknown>) }
              : options;
            if (o !== null && typeof o === "object" && (o as Loose).run === noop) {
              (o as Loose).run = (c: TaskContext) => void (ctx = c);
            }
            const taken = o !== null && typeof o === "object" &&
              names.includes((o as Loose).name);
            let handle: TaskHandle | undefined;
            try {
              handle = (executor as Loose)[kind](o);
            } catch (error) {
              if (taken && error instanceof TypeError && /already exists/.test(error.message)) {
                // The duplicate name is the error; fine.
              } else {
                cleanCall(() => {
                  throw error;
                }, TASK_NAMES);
              }
              assertEquals(executor.taskNames, names, "a rejected add left a task");
              assertEquals(executor.driver.pending, pending, "a rejected add left a timer");
              assertEquals(subscribers(bus), subs, "a rejected add left a subscription");
              continue;
            }
            assert(!taken, "a taken name was accepted");
            handles.push(handle!);
            assertEquals(executor.taskNames, [...names, handle!.name]);
            // The handle's and the executor's methods take anything cleanly.
            cleanCall(() => (handle as Loose).stats(arg));
            cleanCall(() => (handle as Loose).resume(arg));
            cleanCall(() => (executor as Loose).task(arg));
            cleanCall(() => (executor as Loose).stats(arg));
            clock.advance(10);
            bus.topic("t").publish(arg);
            clock.advance(0);
            await (executor as Loose).whenIdle(arg);
            if (ctx !== undefined) await ctx.checkpoint.call(arg as Loose);
            if (handles.length % 3 === 0) cleanCall(() => (handle as Loose).cancel(arg));
          }
        } finally {
          executor.close();
          bus.close();
        }
        for (const handle of handles) assertEquals(handle.state, "cancelled");
        if (ctx !== undefined) await ctx.checkpoint();
      },
    ),
  );
});

// ---------------------------------------------------------------------------
// Random operation sequences against invariants

type Body = "ok" | "throw" | "throwUndefined" | "asyncOk" | "asyncReject" | "spend";

const BODIES: readonly Body[] = [
  "ok",
  "throw",
  "throwUndefined",
  "asyncOk",
  "asyncReject",
  "spend",
];

/** One field of an add set to a hostile value, to see it rejected (or accepted) cleanly. */
const corruption = fc.option(
  fc.record({
    field: fc.constantFrom(
      "periodMs",
      "delayMs",
      "deadlineMs",
      "priority",
      "queueCap",
      "overflow",
      "onError",
      "maxRetries",
      "missedTicks",
      "topic",
      "budgetMs",
      "run",
      "name",
    ),
    value: hostile(),
  }),
  { nil: undefined, freq: 4 },
);

const addOp = fc.record({
  op: fc.constant("add" as const),
  kind: fc.constantFrom("periodic", "once", "onEvent"),
  name: fc.constantFrom("a", "b", "c", "d", "e"),
  body: fc.constantFrom(...BODIES),
  periodMs: fc.oneof(
    fc.double({ min: 0.5, max: 20, noNaN: true }),
    fc.constantFrom(1, 2, 5, 10),
  ),
  delayMs: fc.constantFrom(0, 1, 3, 10),
  deadlineMs: fc.option(fc.constantFrom(0.5, 1, 2, 5, 20), { nil: undefined }),
  priority: fc.integer({ min: -2, max: 2 }),
  queueCap: fc.integer({ min: 1, max: 3 }),
  overflow: fc.constantFrom("drop-newest", "drop-oldest", "defer"),
  onError: fc.constantFrom("continue", "retry", "stop"),
  maxRetries: fc.integer({ min: 0, max: 2 }),
  missedTicks: fc.constantFrom("skip", "delay", "burst"),
  topic: fc.constantFrom("t", "u"),
  budgetMs: fc.option(fc.constantFrom(0.5, 1, 3), { nil: undefined }),
  offload: fc.option(fc.constantFrom("ok", "bad"), { nil: undefined }),
  spendMs: fc.constantFrom(0, 0.5, 2, 4),
  bad: corruption,
});

const batchOp = fc.record({
  op: fc.constant("batch" as const),
  delayMs: fc.constantFrom(0, 2, 7),
  members: fc.array(
    fc.record({
      deadlineMs: fc.constantFrom(1, 2, 3, Infinity),
      priority: fc.integer({ min: 0, max: 2 }),
    }),
    { minLength: 2, maxLength: 5 },
  ),
});

const operation = fc.oneof(
  { weight: 6, arbitrary: addOp },
  { weight: 1, arbitrary: batchOp },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("cancel" as const),
      name: fc.constantFrom("a", "b", "c", "d", "e"),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("resume" as const),
      name: fc.constantFrom("a", "b", "c", "d", "e"),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant("advance" as const),
      ms: fc.oneof(fc.constantFrom(0, 1, 5), fc.double({ min: 0, max: 30, noNaN: true })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("stall" as const), ms: fc.constantFrom(15, 40, 200) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("publish" as const),
      topic: fc.constantFrom("t", "u"),
      count: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("stopReleasing" as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("close" as const) }) },
);

const executorSetup = fc.record({
  maxRunnable: fc.integer({ min: 1, max: 8 }),
  deferCap: fc.integer({ min: 0, max: 4 }),
  tick: fc.oneof(
    { weight: 3, arbitrary: fc.constant("adaptive" as const) },
    { weight: 1, arbitrary: fc.record({ fixedMs: fc.constantFrom(1, 2.5, 5) }) },
  ),
  escalateAfter: fc.integer({ min: 1, max: 3 }),
  metrics: fc.boolean(),
});

interface Tracked {
  handle: TaskHandle;
  calls: number;
  callsAtCancel: number | undefined;
}

function dropped(s: TaskStats): number {
  return Object.values(s.dropped).reduce((a, b) => a + b, 0);
}

function assertBooks(tracked: Tracked[], executor: Executor, closed: boolean): void {
  let runs = 0;
  let failures = 0;
  for (const t of tracked) {
    const s = t.handle.stats();
    // Every release (and every retry) ran, was dropped, or waits.
    assertEquals(
      s.releases + s.retries,
      s.runs + dropped(s) + s.queued,
      `${s.name}: releases ${s.releases} + retries ${s.retries} vs runs ${s.runs} + dropped ${
        dropped(s)
      } + queued ${s.queued}`,
    );
    assert(s.failures <= s.runs, `${s.name}: ${s.failures} failures in ${s.runs} runs`);
    if (t.callsAtCancel !== undefined) {
      assertEquals(t.calls, t.callsAtCancel, `${s.name} ran after its cancel`);
      assertEquals(s.queued, 0);
    }
    runs += s.runs;
    failures += s.failures;
  }
  const e = executor.stats();
  assertEquals(e.runs, runs, "executor runs = the sum of its tasks'");
  assertEquals(e.failures, failures, "executor failures = the sum of its tasks'");
  assertEquals(
    e.queued + e.deferred,
    e.perTask.reduce((n, s) => n + s.queued, 0),
    "waiting releases",
  );
  if (closed) assertEquals([e.tasks, e.queued, e.deferred], [0, 0, 0]);
}

async function settle(executor: Executor): Promise<void> {
  for (let i = 0; i < 2000 && executor.stats().running > 0; i++) await Promise.resolve();
  assertEquals(executor.stats().running, 0, "every async body settled");
}

Deno.test("exec fuzz: random operation sequences keep the executor's books exact", async () => {
  await check(
    fc.asyncProperty(executorSetup, fc.array(operation, { maxLength: 40 }), async (setup, ops) => {
      const clock = new VirtualClock();
      const bus = new EventBus({ logger: SILENT });
      const metrics = setup.metrics ? new MetricsRegistry() : undefined;
      const executor = new Executor({
        clock,
        bus,
        metrics,
        offload: fakeOffload,
        logger: SILENT,
        maxRunnable: setup.maxRunnable,
        deferCap: setup.deferCap,
        tick: setup.tick,
        budget: { escalateAfter: setup.escalateAfter, recoverAfter: 2, cooldownMs: 0 },
      });
      const tracked: Tracked[] = [];
      const live = new Map<string, Tracked>();
      let closed = false;
      let batchId = 0;
      try {
        for (const op of ops) {
          switch (op.op) {
            case "add": {
              const entry: Tracked = {
                handle: undefined as unknown as TaskHandle,
                calls: 0,
                callsAtCancel: undefined,
              };
              const body = op.body;
              const run = () => {
                entry.calls++;
                switch (body) {
                  case "ok":
                    return;
                  case "throw":
                    throw new Error("body failed");
                  case "throwUndefined":
                    throw undefined;
                  case "asyncOk":
                    return Promise.resolve().then(() => clock.spend(op.spendMs));
                  case "asyncReject":
                    return Promise.resolve().then(() => Promise.reject());
                  case "spend":
                    clock.spend(op.spendMs);
                }
              };
              const options: Record<string, unknown> = {
                name: op.name,
                run,
                deadlineMs: op.deadlineMs,
                priority: op.priority,
                queueCap: op.queueCap,
                overflow: op.overflow,
                onError: op.onError,
                maxRetries: op.maxRetries,
                budgetMs: op.budgetMs,
                offload: op.offload === undefined ? undefined : { job: op.offload },
              };
              if (op.kind === "periodic") {
                Object.assign(options, {
                  periodMs: op.periodMs,
                  delayMs: op.delayMs,
                  missedTicks: op.missedTicks,
                });
              } else if (op.kind === "once") {
                options.delayMs = op.delayMs;
              } else {
                options.topic = op.topic;
              }
              const applies = op.bad !== undefined &&
                (op.bad.field !== "periodMs" && op.bad.field !== "missedTicks" ||
                  op.kind === "periodic") &&
                (op.bad.field !== "delayMs" || op.kind !== "onEvent") &&
                (op.bad.field !== "topic" || op.kind === "onEvent");
              if (op.bad !== undefined) options[op.bad.field] = op.bad.value;
              const names = executor.taskNames;
              const pending = executor.driver.pending;
              let handle: TaskHandle | undefined;
              let error: unknown;
              try {
                handle = (executor as Loose)[op.kind](options);
              } catch (e) {
                error = e;
              }
              if (handle === undefined) {
                if (closed) {
                  assertInstanceOf(error, ClosedError);
                } else if (
                  live.has(options.name as string) &&
                  /already exists/.test(String((error as Error).message))
                ) {
                  // A taken name (checked after the options).
                } else {
                  assert(applies, `a valid add was rejected: ${String(error)}`);
                  cleanCall(() => {
                    throw error;
                  }, [op.bad!.field]);
                }
                assertEquals(executor.taskNames, names, "a rejected add left a task");
                assertEquals(executor.driver.pending, pending, "a rejected add left a timer");
              } else {
                assert(!closed && !live.has(handle.name));
                entry.handle = handle;
                tracked.push(entry);
                live.set(handle.name, entry);
              }
              break;
            }
            case "batch": {
              if (closed) break;
              const order: number[] = [];
              const members = op.members.map((m, i) => {
                const name = `batch${batchId++}`;
                const handle = executor.once({
                  name,
                  delayMs: op.delayMs,
                  deadlineMs: m.deadlineMs,
                  priority: m.priority,
                  run: () => void order.push(i),
                });
                const entry: Tracked = { handle, calls: 0, callsAtCancel: undefined };
                tracked.push(entry);
                return { ...m, i };
              });
              clock.advance(op.delayMs + (typeof setup.tick === "object" ? setup.tick.fixedMs : 0));
              await settle(executor);
              // Released at one instant, they ran earliest deadline first,
              // then higher priority, then in the order added.
              const expected = members
                .filter((m) => order.includes(m.i))
                .sort((x, y) =>
                  x.deadlineMs !== y.deadlineMs
                    ? x.deadlineMs - y.deadlineMs
                    : x.priority !== y.priority
                    ? y.priority - x.priority
                    : x.i - y.i
                )
                .map((m) => m.i);
              assertEquals(order, expected, "EDF order among releases of one instant");
              break;
            }
            case "cancel": {
              const entry = live.get(op.name);
              if (entry === undefined) break;
              assertEquals(entry.handle.cancel(), true);
              assertEquals(entry.handle.cancel(), false);
              entry.callsAtCancel = entry.calls;
              live.delete(op.name);
              assertEquals(executor.task(op.name), undefined);
              break;
            }
            case "resume": {
              const entry = live.get(op.name);
              if (entry === undefined) break;
              const quarantined = entry.handle.state === "quarantined";
              const threw = cleanCall(() => {
                entry.handle.resume();
                return false;
              }) ?? true;
              assertEquals(threw, !quarantined, `resume() of a ${entry.handle.state} task`);
              break;
            }
            case "advance":
              if (!closed) clock.advance(op.ms);
              break;
            case "stall":
              if (!closed) clock.stall(op.ms);
              break;
            case "publish":
              if (!closed) {
                for (let i = 0; i < op.count; i++) bus.topic(op.topic).publish(i);
              }
              break;
            case "stopReleasing":
              executor.stopReleasing();
              break;
            case "close": {
              await settle(executor);
              const liveTasks = executor.taskNames.length;
              const waiting = executor.stats().perTask.reduce((n, s) => n + s.queued, 0);
              const first = executor.close();
              if (!closed) assertEquals(first, { cancelled: liveTasks, dropped: waiting });
              assertEquals(executor.close(), first, "close() is idempotent");
              for (const entry of live.values()) entry.callsAtCancel = entry.calls;
              live.clear();
              closed = true;
              break;
            }
          }
          await settle(executor);
          assertBooks(tracked, executor, closed);
          // The live tasks are the ones named, besides the finished batch tasks.
          assertEquals(
            executor.taskNames.filter((n) => !n.startsWith("batch")).sort(),
            [...live.keys()].sort(),
          );
        }
      } finally {
        executor.close();
        bus.close();
      }
      await settle(executor);
      for (const entry of tracked) entry.callsAtCancel ??= entry.calls;
      assertBooks(tracked, executor, true);
      if (metrics !== undefined) {
        const text = metrics.exposeText();
        assert(text.includes("chronetix_exec_runs_total"), "the executor's metrics were exported");
      }
    }),
  );
});
