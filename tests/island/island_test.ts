// The main-thread side of an Island on a virtual clock and a fake thread
// host: start, figures from shared memory, crash causes, the restart policy,
// the hang watchdog, close reports and metrics. No real thread starts here.

import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { Driver, IslandError, MetricsRegistry } from "../../mod.ts";
import { VirtualClock } from "../../testing.ts";
import {
  DEFAULT_LEAD_US,
  DEFAULT_REALTIME_LEAD_US,
  DEFAULT_REALTIME_PRIORITY,
  type Island,
  startIsland,
} from "../../src/island/island.ts";
import type { IslandHost, ThreadEvents } from "../../src/island/_island_host.ts";
import type { IslandBoot } from "../../src/island/_island_protocol.ts";
import {
  C_COMMAND,
  C_RUN_SEQ,
  C_RUNNING,
  CMD_STOP,
  slotViews,
} from "../../src/island/_island_layout.ts";
import { IslandLoop, type LoopHost } from "../../src/island/_island_loop.ts";
import type { IslandOptions } from "../../src/island/island_types.ts";
import { recordingLogger } from "../_util/logger.ts";

/** A thread the test drives by hand. */
class FakeThread {
  terminated = false;
  constructor(readonly boot: IslandBoot, readonly events: ThreadEvents) {}
  get control(): Int32Array {
    return new Int32Array(this.boot.control);
  }
  ready(
    scheduling: { state: "realtime" | "normal"; error?: string } = { state: "normal" },
  ): void {
    this.events.message({
      t: "attached",
      inEpoch: undefined,
      outEpoch: undefined,
      priorityError: undefined,
      scheduling: scheduling.state,
      schedulingError: scheduling.error,
      threadId: undefined,
    });
    this.events.message({ t: "ready" });
  }
  fail(phase: "load" | "init" | "loop" | "uncaught", message: string): void {
    this.events.message({ t: "failed", phase, error: { name: "Error", message, atMs: 0 } });
  }
  /** Runs the real scheduling loop in this thread on a fake clock for `ticks` runs. */
  runLoop(ticks: number, run: () => void = () => {}): void {
    const control = this.control;
    let t = 0;
    let runs = 0;
    const host: LoopHost = {
      now: () => (t += 0.001),
      sleep: (ms) => {
        if (ms === Infinity) Atomics.store(control, C_COMMAND, CMD_STOP); // nothing left to run
        else t += ms;
      },
    };
    const scope = {
      island: this.boot.name,
      restarts: this.boot.restarts,
      values: { in: undefined, out: undefined },
      rings: { in: undefined, out: undefined },
      now: () => t,
    };
    const loop = new IslandLoop({
      control,
      host,
      leadMs: this.boot.leadMs ?? DEFAULT_LEAD_US / 1000, // the thread's default under the normal policy
      budget: this.boot.budget,
      scope,
    });
    this.boot.tasks.forEach((task, i) =>
      loop.add({
        ...task,
        run: () => {
          try {
            run();
          } finally {
            if (++runs === ticks) Atomics.store(control, C_COMMAND, CMD_STOP);
          }
        },
      }, slotViews(this.boot.slots, i))
    );
    loop.run();
    Atomics.store(control, C_COMMAND, 0);
  }
  exit(code: number, oom = false): void {
    this.events.exit({ code, oom, message: oom ? "out of memory" : undefined });
  }
}

class FakeHost implements IslandHost {
  threads: FakeThread[] = [];
  /** What a new thread does at once. */
  onSpawn: (thread: FakeThread) => void = (thread) => thread.ready();
  spawn(boot: IslandBoot, _maxHeapMb: number, events: ThreadEvents) {
    const thread = new FakeThread(boot, events);
    this.threads.push(thread);
    queueMicrotask(() => this.onSpawn(thread));
    return {
      terminate: () => {
        thread.terminated = true;
      },
    };
  }
  get last(): FakeThread {
    return this.threads.at(-1)!;
  }
}

function setup(options: Partial<IslandOptions> = {}) {
  const clock = new VirtualClock();
  const driver = new Driver({ clock });
  const host = new FakeHost();
  const logger = recordingLogger();
  const start = (more: Partial<IslandOptions> = {}) =>
    startIsland({
      name: "isle",
      module: "file:///fake.ts",
      tasks: [{ name: "tick", periodMs: 1 }],
      driver,
      logger,
      ...options,
      ...more,
    }, { host });
  return { clock, driver, host, logger, start };
}

/** Lets queued microtasks (the fake thread's replies) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** Closes an island whose fake thread answers the stop with a clean close. */
async function closeCleanly(island: Island, host: FakeHost) {
  const closing = island.close({ graceMs: 100 });
  assertEquals(Atomics.load(host.last.control, C_COMMAND), CMD_STOP);
  host.last.events.message({ t: "closed", disposeError: undefined });
  return await closing;
}

Deno.test("Island.start() resolves once the thread is ready, and stats() reads the slots it wrote", async () => {
  const { host, start, driver } = setup();
  const island = await start({ tasks: [{ name: "tick", periodMs: 1, budgetMs: 5 }] });
  assertEquals(island.state, "running");
  assertEquals(host.threads.length, 1);
  assertEquals(host.last.boot.tasks[0]?.name, "tick");
  // No leadUs: the thread picks the default of the policy it gets.
  assertEquals([host.last.boot.leadMs, host.last.boot.maxLeadMs], [undefined, 1]);
  host.last.runLoop(25);
  const stats = island.stats();
  assertEquals(stats.currentLeadUs, DEFAULT_LEAD_US, "the lead the loop uses, from shared memory");
  assertEquals(stats.leadUs, DEFAULT_LEAD_US, "the least lead of a thread under the normal policy");
  assertEquals([stats.runs, stats.failures, stats.crashes, stats.restarts], [25, 0, 0, 0]);
  assertEquals(stats.perTask[0]?.runs, 25);
  assertEquals(stats.perTask[0]?.schedulingLatency.count, 25);
  assertEquals(stats.perTask[0]?.state, "done");
  const report = await closeCleanly(island, host);
  assertEquals(report.graceful, true);
  assertEquals(report.terminated, false);
  assertEquals(report.runs, 25);
  assertEquals(island.state, "closed");
  assertEquals(await island.close(), report); // the same report again
  driver.close();
});

Deno.test("Island hands its thread the scheduling asked for and reports the policy the thread got", async () => {
  const { host, start, clock, logger, driver } = setup();
  host.onSpawn = (thread) => thread.ready({ state: "realtime" });
  const island = await start({
    scheduling: "auto",
    realtimePriority: 20,
    restart: { backoffMs: 0 },
  });
  assertEquals([host.last.boot.scheduling, host.last.boot.realtimePriority], ["auto", 20]);
  assertEquals(island.stats().scheduling, "realtime");
  assertEquals(
    island.stats().leadUs,
    DEFAULT_REALTIME_LEAD_US,
    "the least lead of a SCHED_FIFO thread",
  );
  // A restarted thread that could not have it: "normal", and the cause logged.
  host.onSpawn = () => {};
  host.last.exit(1);
  clock.advance(0);
  assertEquals(host.threads.length, 2);
  assertEquals(island.stats().scheduling, "normal", "not the old thread's policy");
  host.last.ready({ state: "normal", error: "sched_setscheduler was refused (EPERM)" });
  await settle();
  assertEquals(island.state, "running");
  assertEquals(island.stats().scheduling, "normal");
  assertEquals(island.stats().leadUs, DEFAULT_LEAD_US);
  assertEquals(
    logger.lines.filter((l) => l.includes("normal scheduling policy: sched_setscheduler")).length,
    1,
  );
  await closeCleanly(island, host);
  driver.close();
});

Deno.test('Island defaults to scheduling "auto" at priority 10 and rejects bad scheduling options', async () => {
  const { host, start, driver } = setup();
  const island = await start();
  assertEquals([host.last.boot.scheduling, host.last.boot.realtimePriority], [
    "auto",
    DEFAULT_REALTIME_PRIORITY,
  ]);
  await closeCleanly(island, host);
  const bad = await assertRejects(() => start({ scheduling: "fifo" as "auto" }), TypeError);
  assertStringIncludes(bad.message, "'scheduling' must be one of");
  for (const realtimePriority of [0, 100, 1.5]) {
    const error = await assertRejects(() => start({ realtimePriority }), RangeError);
    assertStringIncludes(error.message, "'realtimePriority'");
  }
  driver.close();
});

Deno.test("Island keeps an explicit leadUs under either policy; without one, the policy's default caps at maxLeadUs", async () => {
  const { host, start, driver } = setup();
  host.onSpawn = (thread) => thread.ready({ state: "realtime" });
  const explicit = await start({ leadUs: 300 });
  assertEquals(host.last.boot.leadMs, 0.3);
  assertEquals(explicit.stats().leadUs, 300, "not the SCHED_FIFO default");
  await closeCleanly(explicit, host);
  const capped = await start({ maxLeadUs: 80 }); // no leadUs: maxLeadUs below both defaults is fine
  assertEquals([host.last.boot.leadMs, host.last.boot.maxLeadMs], [undefined, 0.08]);
  assertEquals(capped.stats().leadUs, 80);
  await closeCleanly(capped, host);
  assertEquals(capped.stats().scheduling, "normal", "a closed island has no thread");
  const error = await assertRejects(() => start({ leadUs: 300, maxLeadUs: 200 }), RangeError);
  assertStringIncludes(error.message, "'maxLeadUs'");
  driver.close();
});

Deno.test("Island.start() rejects with the cause when the module fails to load, leaving nothing running", async () => {
  const { host, start, driver, logger } = setup();
  host.onSpawn = (thread) => thread.fail("load", "Module not found");
  const error = await assertRejects(() => start(), IslandError);
  assertEquals(error.code, "E_ISLAND_LOAD_FAILED");
  assertStringIncludes(error.message, "Module not found");
  assertEquals((error.cause as Error).message, "Module not found");
  assertEquals(host.last.terminated, true);
  assertEquals(host.threads.length, 1); // no restart of a first start
  assertEquals(logger.lines, [], "the rejection tells the caller; a log line would say it twice");
  driver.close();
});

Deno.test("Island restarts after a crash by its policy, after the back-off on the driver's clock", async () => {
  const { host, start, clock, logger, driver } = setup();
  const island = await start({ restart: { policy: "on-failure", maxRestarts: 2, backoffMs: 100 } });
  host.last.exit(1);
  assertEquals(island.state, "restarting");
  assertEquals(island.stats().lastErrorCode, "E_ISLAND_CRASHED");
  assertStringIncludes(island.stats().lastError!.message, "its thread ended (exit code 1)");
  clock.advance(99);
  assertEquals(host.threads.length, 1);
  clock.advance(1);
  assertEquals(host.threads.length, 2);
  assertEquals(host.last.boot.restarts, 1);
  await settle();
  assertEquals(island.state, "running");
  host.last.exit(0, true);
  assertEquals(island.stats().lastErrorCode, "E_ISLAND_OUT_OF_MEMORY");
  clock.advance(100);
  await settle();
  host.last.fail("uncaught", "boom");
  assertEquals(island.stats().lastErrorCode, "E_ISLAND_CRASHED");
  assertEquals(island.state, "failed"); // maxRestarts reached
  clock.advance(1000);
  assertEquals(host.threads.length, 3);
  assertEquals([island.stats().crashes, island.stats().restarts], [3, 2]);
  assertEquals(logger.lines.filter((l) => l.startsWith("error:")).length, 3);
  const report = await island.close();
  assertEquals(report.restarts, 2);
  driver.close();
});

Deno.test("Island with restart policy never stays failed after a crash", async () => {
  const { host, start, clock, driver } = setup();
  const island = await start({ restart: { policy: "never" } });
  host.last.exit(3);
  assertEquals(island.state, "failed");
  clock.advance(10_000);
  assertEquals(host.threads.length, 1);
  await island.close();
  driver.close();
});

Deno.test("Island declares a run stuck past hangMs hung, terminates its thread and restarts", async () => {
  const { host, start, clock, driver } = setup();
  const island = await start({ hangMs: 40, restart: { backoffMs: 0 } });
  const first = host.last;
  Atomics.store(first.control, C_RUNNING, 1);
  Atomics.add(first.control, C_RUN_SEQ, 1);
  clock.advance(30);
  assertEquals(island.state, "running");
  assertEquals(island.stats().perTask[0]?.state, "running");
  clock.advance(30);
  const stats = island.stats();
  assertEquals(stats.lastErrorCode, "E_ISLAND_HUNG");
  assertStringIncludes(stats.lastError!.message, 'task "tick" stayed in one run for over 40 ms');
  assertEquals(stats.stuckThreads, 1);
  assertEquals(first.terminated, true);
  assertEquals(host.threads.length, 2); // restarted after a back-off of 0
  await settle();
  assertEquals(island.state, "running");
  await closeCleanly(island, host);
  driver.close();
});

Deno.test("Island start times out when init() never finishes", async () => {
  const { host, start, clock, driver } = setup();
  host.onSpawn = () => {};
  const starting = start({ startTimeoutMs: 50 });
  await settle();
  clock.advance(50);
  const error = await assertRejects(() => starting, IslandError);
  assertEquals(error.code, "E_ISLAND_START_TIMEOUT");
  assertEquals(host.last.terminated, true);
  driver.close();
});

Deno.test("Island.close() terminates a thread that does not stop within graceMs, and reports a dispose error", async (t) => {
  await t.step("grace period over", async () => {
    const { host, start, clock, driver } = setup();
    const island = await start();
    const closing = island.close({ graceMs: 20 });
    clock.advance(20);
    const report = await closing;
    assertEquals([report.graceful, report.terminated], [false, true]);
    assertEquals(host.last.terminated, true);
    driver.close();
  });
  await t.step("dispose() threw", async () => {
    const { host, start, driver } = setup();
    const island = await start();
    const closing = island.close();
    host.last.events.message({
      t: "closed",
      disposeError: { name: "Error", message: "cleanup failed", atMs: 3 },
    });
    const report = await closing;
    assertEquals(report.graceful, false);
    assertEquals(report.disposeError, { message: "cleanup failed", atMs: 3 });
    driver.close();
  });
});

Deno.test("Island logs failed runs once per task per second and budget tier changes", async () => {
  const { host, start, clock, logger, driver } = setup();
  const island = await start({
    tasks: [{ name: "tick", periodMs: 1, budgetMs: 0.0001 }],
    budget: { escalateAfter: 1, cooldownMs: 0 },
  });
  host.last.runLoop(3, () => {
    throw new Error("no sensor");
  });
  clock.advance(250);
  assertEquals(logger.lines, [
    'error: Island "isle" task "tick" failed: no sensor',
    'warn: Island "isle" task "tick" exceeded its 0.0001 ms budget: tier monitor -> isolate, quarantined',
  ]);
  const task = island.stats().perTask[0]!;
  assertEquals([task.state, task.tier, task.failures], ["quarantined", "isolate", 3]);
  await closeCleanly(island, host);
  driver.close();
});

Deno.test("Island exports chronetix_island_* metrics with an island label and real histograms", async () => {
  const { host, start, driver } = setup();
  const metrics = new MetricsRegistry();
  const island = await start({ metrics });
  host.last.runLoop(10);
  const text = metrics.exposeText();
  assertStringIncludes(text, 'chronetix_island_runs_total{island="isle",task="tick"} 10\n');
  assertStringIncludes(text, 'chronetix_island_up{island="isle"} 1\n');
  assertStringIncludes(
    text,
    'chronetix_island_scheduling_latency_seconds_count{island="isle",task="tick"} 10\n',
  );
  assert(
    text.includes(
      'chronetix_island_execution_seconds_bucket{island="isle",task="tick",le="+Inf"} 10',
    ),
  );
  host.last.runLoop(5);
  assertStringIncludes(
    metrics.exposeText(),
    'chronetix_island_lateness_seconds_count{island="isle",task="tick"} 15\n',
  );
  await closeCleanly(island, host);
  assertStringIncludes(metrics.exposeText(), 'chronetix_island_up{island="isle"} 0\n');
  driver.close();
});
