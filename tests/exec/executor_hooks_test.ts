// ExecutorOptions.hooks: the calls and their order over a task's life
// (attach, start, end ok/failed, stop clean/for an error, resume), async runs,
// a hook that throws (caught, counted, logged, the run accounted as usual),
// the option checks, and a seeded fuzz of hostile hooks.

import { assertEquals, assertStrictEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { Executor, type ExecutorHooks } from "../../mod.ts";
import { VirtualClock } from "../../testing.ts";
import { recordingLogger, SILENT_LOGGER } from "../_util/logger.ts";
import { check, cleanCall, fc, hostile } from "../fuzz/_hostile.ts";

/** Hooks that record every call as a string; `attach` hands out 0, 1, 2... */
function recorder(): ExecutorHooks & { calls: string[] } {
  const calls: string[] = [];
  let next = 0;
  return {
    calls,
    attach: (name, atMs) => (calls.push(`attach ${name} @${atMs}`), next++),
    onStart: (i, atMs) => void calls.push(`start ${i} @${atMs}`),
    onEnd: (i, atMs, ok) => void calls.push(`end ${i} @${atMs} ${ok ? "ok" : "failed"}`),
    onStop: (i, atMs, ok) => void calls.push(`stop ${i} @${atMs} ${ok ? "clean" : "error"}`),
  };
}

Deno.test("Executor hooks: attach, then start and end per run (ok or failed), then a clean stop on cancel", () => {
  const clock = new VirtualClock();
  const hooks = recorder();
  using executor = new Executor({ clock, hooks, logger: SILENT_LOGGER });
  let fail = false;
  const task = executor.periodic({
    name: "tick",
    periodMs: 10,
    run: () => {
      clock.spend(2);
      if (fail) throw new Error("boom");
    },
  });
  assertStrictEquals(executor.hooks, hooks);
  clock.advance(10);
  fail = true;
  clock.advance(10);
  task.cancel();
  task.cancel(); // a second cancel is no second stop
  assertEquals(hooks.calls, [
    "attach tick @0",
    "start 0 @10",
    "end 0 @12 ok",
    "start 0 @20",
    "end 0 @22 failed",
    "stop 0 @22 clean",
  ]);
  assertEquals(executor.stats().hookErrors, 0);
});

Deno.test("Executor hooks: a task stopped by its error policy stops for an error, once", () => {
  const clock = new VirtualClock();
  const hooks = recorder();
  using executor = new Executor({ clock, hooks, logger: SILENT_LOGGER });
  const task = executor.periodic({
    name: "fragile",
    periodMs: 5,
    onError: "stop",
    run: () => {
      throw new Error("no sensor");
    },
  });
  clock.advance(20);
  assertEquals(task.state, "failed");
  executor.close(); // the failed task is cancelled, but it already stopped
  assertEquals(hooks.calls, [
    "attach fragile @0",
    "start 0 @5",
    "end 0 @5 failed",
    "stop 0 @5 error",
  ]);
});

Deno.test("Executor hooks: quarantine stops for an error after the run ends; resume attaches again", () => {
  const clock = new VirtualClock();
  const hooks = recorder();
  using executor = new Executor({
    clock,
    hooks,
    logger: SILENT_LOGGER,
    budget: { escalateAfter: 1, cooldownMs: 0 },
  });
  const task = executor.periodic({
    name: "hog",
    periodMs: 10,
    budgetMs: 1,
    run: () => clock.spend(3),
  });
  clock.advance(100);
  assertEquals(task.state, "quarantined");
  assertEquals(hooks.calls, [
    "attach hog @0",
    "start 0 @10",
    "end 0 @13 ok",
    "start 0 @20",
    "end 0 @23 ok",
    "start 0 @30",
    "end 0 @33 ok",
    "stop 0 @33 error",
  ]);
  task.resume();
  clock.advance(10);
  assertEquals(hooks.calls.slice(8), ["attach hog @100", "start 1 @110", "end 1 @113 ok"]);
});

Deno.test("Executor hooks: a one-shot task stops cleanly when done, after its retries, exactly once", () => {
  const clock = new VirtualClock();
  const hooks = recorder();
  using executor = new Executor({ clock, hooks, logger: SILENT_LOGGER });
  let attempts = 0;
  executor.once({
    name: "boot",
    delayMs: 5,
    onError: "retry",
    maxRetries: 2,
    run: () => {
      if (++attempts < 2) throw new Error("not yet");
    },
  });
  clock.advance(10);
  executor.close();
  assertEquals(hooks.calls, [
    "attach boot @0",
    "start 0 @5",
    "end 0 @5 failed",
    "start 0 @5",
    "end 0 @5 ok",
    "stop 0 @5 clean",
  ]);
});

Deno.test("Executor hooks: an async run ends when it settles; close() stops every live task cleanly", async () => {
  const clock = new VirtualClock();
  const hooks = recorder();
  using executor = new Executor({ clock, hooks, logger: SILENT_LOGGER });
  const gate = Promise.withResolvers<void>();
  executor.once({ name: "fetch", delayMs: 1, run: () => gate.promise });
  executor.periodic({ name: "idle", periodMs: 1000, run: () => {} });
  clock.advance(1);
  assertEquals(hooks.calls, ["attach fetch @0", "attach idle @0", "start 0 @1"]);
  clock.advance(4);
  gate.resolve();
  await executor.whenIdle();
  assertEquals(hooks.calls.slice(3), ["end 0 @5 ok", "stop 0 @5 clean"]);
  executor.close();
  assertEquals(hooks.calls.slice(5), ["stop 1 @5 clean"]);
});

Deno.test("Executor hooks: a hook that throws is caught, counted and logged; runs are accounted as usual", () => {
  const clock = new VirtualClock();
  const logger = recordingLogger();
  const throwing: ExecutorHooks = {
    attach: () => {
      throw new Error("attach broke");
    },
    onStart: () => {
      throw new Error("start broke");
    },
    onEnd: () => {
      throw new Error("end broke");
    },
    onStop: () => {
      throw new Error("stop broke");
    },
  };
  using executor = new Executor({ clock, hooks: throwing, logger });
  let runs = 0;
  const task = executor.periodic({
    name: "steady",
    periodMs: 10,
    run: () => {
      runs++;
      if (runs === 2) throw new Error("a real failure");
    },
  });
  clock.advance(30);
  task.cancel();
  const stats = executor.stats();
  assertEquals([runs, stats.runs, stats.failures, stats.running, stats.runnable], [3, 3, 1, 0, 0]);
  // attach + 3 starts + 3 ends + 1 stop
  assertEquals(stats.hookErrors, 8);
  const hookLines = logger.lines.filter((l) => l.includes("hook"));
  assertEquals(hookLines.length, 1); // rate-limited: one line per second of the clock
  assertStringIncludes(hookLines[0]!, 'Executor "executor" hook attach() threw: attach broke');
});

Deno.test("Executor hooks: an attach that returns no integer gives the task the index -1", () => {
  const clock = new VirtualClock();
  const hooks = recorder();
  const indexes: number[] = [];
  using executor = new Executor({
    clock,
    hooks: { ...hooks, attach: () => 1.5, onStart: (i) => void indexes.push(i) },
    logger: SILENT_LOGGER,
  });
  executor.periodic({ name: "odd", periodMs: 10, run: () => {} });
  clock.advance(10);
  assertEquals(indexes, [-1]);
  assertEquals(executor.stats().hookErrors, 0);
});

Deno.test("Executor hooks: no hooks, no calls; hooks is undefined", () => {
  const clock = new VirtualClock();
  using executor = new Executor({ clock });
  executor.periodic({ name: "plain", periodMs: 10, run: () => {} });
  clock.advance(10);
  assertEquals(executor.hooks, undefined);
  assertEquals(executor.stats().hookErrors, 0);
});

Deno.test("Executor checks 'hooks' with Deno-style errors and makes nothing on a bad one", () => {
  const ok = recorder();
  assertThrows(
    () => new Executor({ hooks: null as unknown as ExecutorHooks }),
    TypeError,
    "Cannot create an Executor as 'hooks' must be an object with attach(), onStart(), onEnd() and onStop(): current value is null",
  );
  assertThrows(
    () => new Executor({ hooks: "sink" as unknown as ExecutorHooks }),
    TypeError,
    "'hooks' must be an object",
  );
  assertThrows(
    () => new Executor({ hooks: { ...ok, onEnd: 5 } as unknown as ExecutorHooks }),
    TypeError,
    "Cannot create an Executor as 'hooks.onEnd' must be a function: current value is 5",
  );
  const { onStop: _, ...noStop } = ok;
  assertThrows(
    () => new Executor({ hooks: noStop as unknown as ExecutorHooks }),
    TypeError,
    "'hooks.onStop' must be a function",
  );
});

Deno.test("fuzz: hostile hooks are refused cleanly, or called without ever breaking the run accounting", () => {
  const method = fc.oneof(
    hostile(),
    fc.constant(() => {
      throw new Error("hostile hook");
    }),
    hostile().map((value) => () => value),
  );
  check(
    fc.property(
      fc.oneof(
        hostile(),
        fc.record({ attach: method, onStart: method, onEnd: method, onStop: method }),
      ),
      fc.integer({ min: 1, max: 5 }),
      (hooks, ticks) => {
        const clock = new VirtualClock();
        const executor = cleanCall(
          () => new Executor({ clock, hooks: hooks as ExecutorHooks, logger: SILENT_LOGGER }),
          ["hooks", "hooks.attach", "hooks.onStart", "hooks.onEnd", "hooks.onStop"],
        );
        if (executor === undefined) return;
        using _ = executor;
        let runs = 0;
        executor.periodic({
          name: "t",
          periodMs: 10,
          run: () => {
            if (++runs % 2 === 0) throw new Error("every other run");
          },
        });
        executor.once({ name: "o", delayMs: 5, run: () => {} });
        clock.advance(10 * ticks);
        const stats = executor.stats();
        assertEquals(runs, ticks);
        assertEquals([stats.runs, stats.failures, stats.running], [ticks + 1, ticks >> 1, 0]);
        executor.close();
      },
    ),
  );
});
