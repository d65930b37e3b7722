import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { Executor, type ExecutorOptions } from "../../src/exec/executor.ts";
import { LOG_INTERVAL_MS as FAILURE_LOG_INTERVAL_MS } from "../../src/internal/log_limiter.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { recordingLogger } from "../_util/logger.ts";

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
