import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { EventBus } from "../../src/bus/event_bus.ts";
import { Executor, type ExecutorOptions } from "../../src/exec/executor.ts";
import { LOG_INTERVAL_MS as FAILURE_LOG_INTERVAL_MS } from "../../src/internal/log_limiter.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { recordingLogger, SILENT_LOGGER } from "../_util/logger.ts";

function setup(options: Omit<ExecutorOptions, "clock" | "driver" | "logger"> = {}) {
  const clock = new VirtualClock();
  const logger = recordingLogger();
  const executor = new Executor({ clock, logger, ...options });
  return { clock, executor, lines: logger.lines };
}

Deno.test("Executor keeps a failed run's error as the task's lastError", () => {
  const { clock, executor } = setup();
  using _ = executor;
  let n = 0;
  const task = executor.periodic({
    name: "sensor",
    periodMs: 10,
    run: () => {
      n++;
      if (n !== 2) throw new RangeError(`bad reading ${n}`);
    },
  });
  assertEquals(task.stats().lastError, undefined, "never failed yet");
  clock.advance(10);
  const first = task.stats().lastError!;
  assertEquals(first.message, "bad reading 1");
  assertEquals(first.atMs, 10);
  assertStringIncludes(first.stack!, "RangeError: bad reading 1");
  clock.advance(10); // run 2 succeeds: the last error is kept
  assertEquals(task.stats().lastError, first);
  clock.advance(10);
  assertEquals(task.stats().lastError?.message, "bad reading 3");
  assertEquals(task.stats().lastError?.atMs, 30);
  assertEquals(task.stats().failures, 2);
});

Deno.test("Executor logs failures at most once per task per second, counting the lines left out", () => {
  const { clock, executor, lines } = setup();
  using _ = executor;
  assertEquals(FAILURE_LOG_INTERVAL_MS, 1000);
  let n = 0;
  executor.periodic({
    name: "flaky",
    periodMs: 100,
    run: () => {
      throw new Error(`boom ${++n}`);
    },
  });
  executor.periodic({
    name: "other",
    periodMs: 250,
    run: () => {
      throw new Error("other failed");
    },
  });
  clock.advance(1000); // flaky fails at 100..1000, other at 250..1000
  assertEquals(lines, [
    'error: Task "flaky" failed: boom 1',
    'error: Task "other" failed: other failed',
  ]);
  clock.advance(100); // flaky fails at 1100: a second since its last line
  assertEquals(lines.slice(2), [
    'error: Task "flaky" failed: boom 11 (9 similar lines not logged)',
  ]);
  clock.advance(150); // other at 1250: a second since 250, three left out
  assertEquals(lines.slice(3), [
    'error: Task "other" failed: other failed (3 similar lines not logged)',
  ]);
  clock.advance(850); // flaky at 2100
  assertEquals(lines[4], 'error: Task "flaky" failed: boom 21 (9 similar lines not logged)');
  assertEquals(executor.stats().failures, 21 + 8);
});

Deno.test("Executor counts throw undefined and a rejection without a reason as failures", async (t) => {
  await t.step("sync throw undefined", () => {
    const { clock, executor, lines } = setup();
    using _ = executor;
    const task = executor.once({
      name: "silent",
      onError: "stop",
      run: () => {
        throw undefined;
      },
    });
    clock.advance(0);
    assertEquals(task.stats().failures, 1);
    assertEquals(task.state, "failed");
    const message =
      'Cannot finish the run of task "silent" as it threw or rejected without a reason';
    assertEquals(task.stats().lastError?.message, message);
    assertEquals(task.stats().reason, `stopped after a failed run: ${message}`);
    assertEquals(lines, [`error: Task "silent" failed: ${message}`]);
  });
  await t.step("async Promise.reject()", async () => {
    const { clock, executor } = setup();
    using _ = executor;
    const task = executor.once({ name: "quiet", run: () => Promise.reject() });
    clock.advance(0);
    await executor.whenIdle();
    assertEquals(task.stats().failures, 1);
    assertStringIncludes(task.stats().lastError!.message, 'task "quiet"');
    assertStringIncludes(task.stats().lastError!.stack!, "ChronetixError");
  });
  await t.step("a thrown string is its own message", () => {
    const { clock, executor } = setup();
    using _ = executor;
    const task = executor.once({
      name: "text",
      run: () => {
        throw "plain text";
      },
    });
    clock.advance(0);
    assertEquals(task.stats().lastError?.message, "plain text");
    assertEquals(task.stats().lastError?.stack, undefined);
  });
});

Deno.test("Executor keeps the error of a failed offload job or a missing job as lastError", async () => {
  const clock = new VirtualClock();
  const logger = recordingLogger();
  const submitted: string[] = [];
  const offload = {
    submit(job: string): Promise<unknown> {
      submitted.push(job);
      return Promise.reject(
        new TypeError(`Cannot submit job "${job}" as it is not registered`),
      );
    },
  };
  using executor = new Executor({
    clock,
    logger,
    offload,
    budget: { escalateAfter: 1, cooldownMs: 0 },
  });
  const task = executor.periodic({
    name: "heavy",
    periodMs: 1000,
    budgetMs: 1,
    offload: { job: "missing" },
    run: () => clock.spend(2),
  });
  for (let i = 0; i < 4; i++) {
    clock.advance(1000);
    await executor.whenIdle();
  }
  assertEquals(task.tier, "isolate");
  assertEquals(submitted, ["missing"]);
  const stats = task.stats();
  assertEquals([stats.offloaded, stats.failures], [1, 1]);
  assertEquals(stats.lastError?.message, 'Cannot submit job "missing" as it is not registered');
  assertEquals(stats.lastError?.atMs, clock.now(), "when the rejection was seen");
  assert(
    logger.lines.includes(
      'error: Task "heavy" failed: Cannot submit job "missing" as it is not registered',
    ),
    logger.lines.join("\n"),
  );
});

/** Runs `body` and returns the reasons of the rejections nobody handled meanwhile. */
async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const reasons: unknown[] = [];
  const listener = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    reasons.push(event.reason);
  };
  globalThis.addEventListener("unhandledrejection", listener);
  try {
    await body();
    // Unhandled rejections are reported after a macrotask turn.
    await new Promise((resolve) => setTimeout(resolve, 0));
  } finally {
    globalThis.removeEventListener("unhandledrejection", listener);
  }
  return reasons;
}

Deno.test("Executor counts throw undefined, throw null and rejections without a reason under every error policy", async (t) => {
  const bodies: [string, () => unknown][] = [
    ["sync throw undefined", () => {
      throw undefined;
    }],
    ["sync throw null", () => {
      throw null;
    }],
    ["async reject(undefined)", () => Promise.reject(undefined)],
    ["async reject(null)", () => Promise.reject(null)],
    ["async throw undefined", async () => {
      await Promise.resolve();
      throw undefined;
    }],
  ];
  for (const [label, run] of bodies) {
    await t.step(label, async () => {
      const { clock, executor } = setup();
      using _ = executor;
      const stop = executor.periodic({ name: "stop", periodMs: 10, onError: "stop", run });
      const retry = executor.periodic({
        name: "retry",
        periodMs: 10,
        onError: "retry",
        maxRetries: 2,
        run,
      });
      const go = executor.periodic({ name: "continue", periodMs: 10, run });
      for (let i = 0; i < 3; i++) {
        clock.advance(10);
        await executor.whenIdle();
      }
      const message = (name: string) =>
        `Cannot finish the run of task "${name}" as it threw or rejected without a reason`;
      assertEquals(stop.state, "failed");
      assertEquals([stop.stats().runs, stop.stats().failures], [1, 1]);
      assertEquals(stop.stats().reason, `stopped after a failed run: ${message("stop")}`);
      assertEquals(stop.stats().lastError?.message, message("stop"));
      // Three releases, each run once and retried twice.
      assertEquals(
        [retry.stats().runs, retry.stats().failures, retry.stats().retries],
        [9, 9, 6],
      );
      assertEquals(retry.state, "done");
      assertEquals([go.stats().runs, go.stats().failures, go.state], [3, 3, "done"]);
      assertEquals(executor.stats().failures, 1 + 9 + 3);
    });
  }
});

Deno.test("Executor contains a body that never settles: other tasks run, close() returns, whenIdle() resolves on close", async () => {
  const { clock, executor } = setup();
  const stuck = executor.periodic({
    name: "stuck",
    periodMs: 10,
    run: () => new Promise(() => {}),
  });
  const other = executor.periodic({ name: "other", periodMs: 5, run: () => {} });
  clock.advance(50);
  assertEquals(stuck.stats().runs, 1, "runs of a task are serial: one in flight");
  assertEquals(stuck.stats().queued, 2, "its later releases wait (queueCap 2), the rest dropped");
  assertEquals(stuck.stats().dropped["task-cap"], 2);
  assertEquals(other.stats().runs, 10);
  assertEquals(executor.stats().running, 1);
  let idle = false;
  const whenIdle = executor.whenIdle().then(() => void (idle = true));
  await Promise.resolve();
  assertEquals(idle, false, "a run is still in flight");
  assertEquals(executor.close(), { cancelled: 2, dropped: 2 });
  await whenIdle;
  assertEquals(idle, true);
  await executor.whenIdle(); // and at once afterwards
});

Deno.test("Executor counts non-Error failures, sync and async, and errors whose message throws", async () => {
  const weird: [string, unknown, string][] = [
    ["symbol", Symbol("odd"), "Symbol(odd)"],
    ["bigint", 10n, "10n"],
    ["number", 42, "42"],
    ["plain object", { code: 7 }, '{"code":7}'],
    ["null-prototype object", Object.create(null), "{}"],
    ["lone surrogate", "\uD800", "\uD800"],
  ];
  const hostileError = new Error("hidden");
  Object.defineProperty(hostileError, "message", {
    get() {
      throw new Error("message getter");
    },
  });
  const proxy = new Proxy({}, {
    getPrototypeOf() {
      throw new Error("getPrototypeOf trap");
    },
    get() {
      throw new Error("get trap");
    },
    ownKeys() {
      throw new Error("ownKeys trap");
    },
  });
  const { clock, executor } = setup();
  using _ = executor;
  const tasks = new Map<string, ReturnType<Executor["once"]>>();
  for (
    const [label, value] of [...weird, ["hostile error", hostileError, ""], ["proxy", proxy, ""]]
  ) {
    tasks.set(
      `sync ${label}`,
      executor.once({
        name: `sync ${label}`,
        run: () => {
          throw value;
        },
      }),
    );
    tasks.set(
      `async ${label}`,
      executor.once({ name: `async ${label}`, run: () => Promise.reject(value) }),
    );
  }
  const unhandled = await unhandledDuring(async () => {
    clock.advance(0);
    await executor.whenIdle();
  });
  assertEquals(unhandled, []);
  for (const [name, task] of tasks) {
    assertEquals(task.stats().failures, 1, name);
    assertEquals(task.state, "done", name);
  }
  for (const [label, , message] of weird) {
    assertEquals(tasks.get(`sync ${label}`)!.stats().lastError?.message, message, label);
    assertEquals(tasks.get(`async ${label}`)!.stats().lastError?.message, message, label);
  }
  assertEquals(executor.stats().failures, tasks.size);
});

Deno.test("Executor keeps a task cancelled when its body closes the executor and then fails", async () => {
  for (const onError of ["stop", "retry", "continue"] as const) {
    const { clock, executor } = setup();
    const sync = executor.once({
      name: "sync",
      onError,
      run: () => {
        executor.close();
        throw new Error("after close");
      },
    });
    clock.advance(0);
    assertEquals(sync.state, "cancelled", onError);
    assertEquals([sync.stats().runs, sync.stats().failures, sync.stats().retries], [1, 1, 0]);
    const second = setup();
    const gate = Promise.withResolvers<void>();
    const async = second.executor.once({
      name: "async",
      onError,
      budgetMs: 1,
      run: async () => {
        await gate.promise;
        throw new Error("after close");
      },
    });
    second.clock.advance(0);
    second.executor.close();
    const unhandled = await unhandledDuring(async () => {
      gate.resolve();
      await Promise.resolve();
    });
    assertEquals(unhandled, []);
    assertEquals(async.state, "cancelled", onError);
    assertEquals([async.stats().runs, async.stats().failures], [1, 1]);
    assertEquals(second.executor.stats().running, 0);
  }
});

Deno.test("Executor contains a run that ends after close, whose budget event meets a closed bus", async () => {
  const clock = new VirtualClock();
  const bus = new EventBus();
  const logger = recordingLogger();
  const executor = new Executor({
    clock,
    bus,
    logger,
    budget: { escalateAfter: 1, cooldownMs: 0 },
  });
  const gate = Promise.withResolvers<void>();
  const task = executor.once({
    name: "late",
    budgetMs: 1,
    run: async () => {
      await gate.promise;
      clock.spend(5);
    },
  });
  clock.advance(0);
  executor.close();
  bus.close();
  const unhandled = await unhandledDuring(async () => {
    gate.resolve();
    await Promise.resolve();
  });
  assertEquals(unhandled, []);
  assertEquals([task.stats().runs, task.stats().overruns, task.tier], [1, 1, "warn"]);
  assert(
    logger.lines.some((l) => l.includes('Cannot publish the budget event of task "late"')),
    logger.lines.join("\n"),
  );
});

Deno.test("Executor contains a logger that throws", async () => {
  const clock = new VirtualClock();
  let calls = 0;
  const logger = {
    error() {
      calls++;
      throw new Error("logger down");
    },
    warn() {
      calls++;
      throw new Error("logger down");
    },
    info() {},
  };
  using executor = new Executor({ clock, logger, budget: { escalateAfter: 1, cooldownMs: 0 } });
  const sync = executor.periodic({
    name: "sync",
    periodMs: 1000,
    budgetMs: 1,
    run: () => {
      clock.spend(2); // over budget: a warn line
      throw new Error("sync failure");
    },
  });
  const async = executor.periodic({
    name: "async",
    periodMs: 1000,
    run: () => Promise.reject(new Error("async failure")),
  });
  const unhandled = await unhandledDuring(async () => {
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await executor.whenIdle();
    }
  });
  assertEquals(unhandled, []);
  assertEquals([sync.stats().runs, sync.stats().failures], [3, 3]);
  assertEquals([async.stats().runs, async.stats().failures], [3, 3]);
  assert(calls >= 4, `the logger was called ${calls} times`);
});

Deno.test("Executor counts an offload pool whose submit throws or returns no promise", async () => {
  for (
    const [label, submit, failures] of [
      ["throws", () => {
        throw new Error("submit down");
      }, 2],
      ["returns undefined", () => undefined, 0],
      ["returns a rejected promise", () => Promise.reject(new Error("job failed")), 2],
    ] as const
  ) {
    const clock = new VirtualClock();
    using executor = new Executor({
      clock,
      logger: SILENT_LOGGER,
      offload: { submit } as never,
      budget: { escalateAfter: 1, cooldownMs: 0 },
    });
    const task = executor.periodic({
      name: "heavy",
      periodMs: 10,
      budgetMs: 1,
      offload: { job: "j" },
      run: () => clock.spend(2),
    });
    for (let i = 0; i < 5; i++) {
      clock.advance(10);
      await executor.whenIdle();
    }
    assertEquals(task.tier, "isolate", label);
    assertEquals([task.stats().offloaded, task.stats().failures], [2, failures], label);
    assertEquals(executor.stats().running, 0, label);
  }
});

Deno.test("Executor settles a run by its promise, whatever its then() or constructor do", async () => {
  const { clock, executor } = setup();
  using _ = executor;
  const replacedThen = executor.once({
    name: "replaced-then",
    run: () => {
      const promise = Promise.resolve();
      promise.then = () => {
        throw new Error("then trap");
      };
      return promise;
    },
  });
  const hostileSpecies = executor.once({
    name: "hostile-species",
    run: () => {
      const promise = Promise.resolve();
      Object.defineProperty(promise, "constructor", {
        get() {
          throw new Error("species trap");
        },
      });
      return promise;
    },
  });
  const other = executor.once({ name: "other", run: () => {} });
  clock.advance(0);
  await executor.whenIdle();
  assertEquals(
    [replacedThen.stats().runs, replacedThen.stats().failures],
    [1, 0],
    "the built-in then settles it: the promise resolved",
  );
  assertEquals([hostileSpecies.stats().runs, hostileSpecies.stats().failures], [1, 1]);
  assertEquals(hostileSpecies.stats().lastError?.message, "species trap");
  assertEquals(other.stats().runs, 1, "the dispatch loop went on");
  assertEquals(executor.stats().running, 0);
});

Deno.test("Executor resolves a checkpoint yield pending when the task is cancelled or the executor closes", async () => {
  for (const end of ["cancel", "close"] as const) {
    const { clock, executor } = setup({ budget: { escalateAfter: 1, cooldownMs: 0 } });
    let checkpoints = 0;
    let finished = false;
    const task = executor.periodic({
      name: "cooperative",
      periodMs: 100,
      budgetMs: 1,
      run: async (ctx) => {
        clock.spend(2);
        if (task.tier !== "yield") return;
        while (!ctx.signal.aborted) {
          checkpoints++;
          clock.spend(2); // each slice spends the budget, so each checkpoint yields
          await ctx.checkpoint();
        }
        finished = true;
      },
    });
    // Two overruns: monitor -> warn -> yield.
    clock.advance(200);
    await executor.whenIdle();
    assertEquals(task.tier, "yield", end);
    clock.advance(100); // this run spends its budget, then yields at its first checkpoint
    await Promise.resolve();
    assertEquals([checkpoints, task.stats().yields], [1, 1], end);
    if (end === "cancel") task.cancel();
    else executor.close();
    for (let i = 0; i < 10 && !finished; i++) await Promise.resolve();
    assertEquals(finished, true, `${end}: the pending checkpoint resolved`);
    assertEquals(checkpoints, 1, `${end}: no further checkpoint after the abort`);
    executor.close();
  }
});
