import { assert, assertAlmostEquals, assertEquals, assertStrictEquals } from "@std/assert";
import {
  AdaptiveLead,
  IslandLoop,
  type LoopHost,
  type LoopTask,
} from "../../src/island/_island_loop.ts";
import {
  beginWrite,
  C_COMMAND,
  CMD_STOP,
  createControl,
  createSlots,
  newSlotCopy,
  readSlot,
  slotViews,
} from "../../src/island/_island_layout.ts";
import { readTaskStats, slotReaders } from "../../src/island/_island_stats.ts";
import type { IslandContext, IslandTaskContext } from "../../src/island/island_types.ts";

/**
 * A fake clock and sleep: a sleep advances time by what was asked plus
 * `overshoot` (a late wake-up), each clock read by `step` (the spin).
 */
class FakeHost implements LoopHost {
  t = 0;
  sleeps: number[] = [];
  overshoot = 0.05;
  step = 0.001;
  /** Once the clock passes `at`, it jumps by `by` (the thread lost the CPU). */
  jump: { at: number; by: number } | undefined;
  constructor(readonly control: Int32Array) {}
  now(): number {
    this.t += this.step;
    if (this.jump !== undefined && this.t >= this.jump.at) {
      this.t += this.jump.by;
      this.jump = undefined;
    }
    return this.t;
  }
  sleep(ms: number): void {
    this.sleeps.push(ms);
    if (Atomics.load(this.control, C_COMMAND) !== 0) return;
    if (ms === Infinity) {
      Atomics.store(this.control, C_COMMAND, CMD_STOP); // nothing left to run: end the test
      return;
    }
    this.t += ms + this.overshoot;
  }
}

function task(overrides: Partial<LoopTask> & { name: string }): LoopTask {
  return {
    run: () => {},
    periodMs: 1,
    deadlineMs: 1,
    delayMs: 1,
    budgetMs: undefined,
    missedTicks: "skip",
    onError: "continue",
    ...overrides,
  };
}

function setup(tasks: LoopTask[], leadMs = 0.2, budget = {}) {
  const control = new Int32Array(createControl());
  const host = new FakeHost(control);
  const slots = createSlots(tasks.length);
  const scope: IslandContext = {
    island: "test",
    restarts: 0,
    values: { in: undefined, out: undefined },
    rings: { in: undefined, out: undefined },
    now: () => host.t,
  };
  const loop = new IslandLoop({ control, host, leadMs, budget, scope });
  tasks.forEach((t, i) => loop.add(t, slotViews(slots, i)));
  const readers = slotReaders(slots, tasks);
  const stats = (i: number) => readTaskStats(readers[i]!, control, false);
  const stop = () => Atomics.store(control, C_COMMAND, CMD_STOP);
  return { control, host, loop, stats, stop };
}

Deno.test("IslandLoop.run() releases drift-free, never early, sleeping to release minus lead", () => {
  const entries: number[] = [];
  const releases: number[] = [];
  let ctx: IslandTaskContext | undefined;
  const s = setup([task({
    name: "tick",
    run: (c) => {
      ctx = c;
      entries.push(s.host.t);
      releases.push(c.release);
      if (releases.length === 100) s.stop();
    },
  })]);
  s.loop.run();
  assertEquals(releases, Array.from({ length: 100 }, (_, k) => 1.001 + k)); // first + k * period
  for (let k = 0; k < 100; k++) assert(entries[k]! >= releases[k]!, `tick ${k} ran early`);
  // Each sleep ends `lead` before the release, then the loop spins.
  for (const ms of s.host.sleeps.slice(1)) assert(Math.abs(ms - (1 - 0.2)) < 0.01, `${ms}`);
  assertEquals(ctx?.name, "tick");
  assertEquals(ctx?.island, "test");
  const stats = s.stats(0);
  assertEquals([stats.runs, stats.releases, stats.skippedTicks, stats.state], [
    100,
    100,
    0,
    "done",
  ]);
  assertEquals(stats.schedulingLatency.count, 100);
  assert(stats.schedulingLatency.max < 0.01);
  assertEquals(stats.kind, "periodic");
});

Deno.test("IslandLoop.run() runs the earliest deadline first among tasks due together", () => {
  const order: string[] = [];
  const s = setup([
    task({ name: "slow", deadlineMs: 5, run: () => void order.push("slow") }),
    task({
      name: "urgent",
      deadlineMs: 0.5,
      run: () => {
        order.push("urgent");
        if (order.length >= 6) s.stop();
      },
    }),
  ]);
  s.loop.run();
  assertEquals(order.slice(0, 6), ["urgent", "slow", "urgent", "slow", "urgent", "slow"]);
});

/**
 * The releases of a 1 ms task's first six runs under `policy`, with a stall
 * of 3.5 periods: in its second run (`"in-run"`) or, before the third
 * release, inside the spin the run was readied for (`"in-spin"`, at 2.9).
 */
function stalledReleases(policy: LoopTask["missedTicks"], where: "in-run" | "in-spin") {
  const releases: number[] = [];
  const s = setup([task({
    name: "t",
    missedTicks: policy,
    run: (c) => {
      releases.push(Math.round(c.release * 1e6) / 1e6);
      if (where === "in-run" && releases.length === 2) s.host.t += 3.5;
      if (releases.length === 6) s.stop();
    },
  })]);
  if (where === "in-spin") s.host.jump = { at: 2.9, by: 3.5 };
  s.loop.run();
  return { releases, stats: s.stats(0) };
}

Deno.test("IslandLoop.run() follows missedTicks after a stall: skip, delay, burst", async (t) => {
  await t.step("skip", () => {
    const { releases, stats } = stalledReleases("skip", "in-run");
    assertEquals(releases, [1.001, 2.001, 5.001, 6.001, 7.001, 8.001]);
    assertEquals([stats.skippedTicks, stats.releases], [2, 8]);
  });
  await t.step("burst", () => {
    const { releases, stats } = stalledReleases("burst", "in-run");
    assertEquals(releases, [1.001, 2.001, 3.001, 4.001, 5.001, 6.001]);
    assertEquals(stats.skippedTicks, 0);
  });
  await t.step("delay", () => {
    const { releases } = stalledReleases("delay", "in-run");
    assertEquals(releases.slice(0, 3).map((r) => r < 6), [true, true, true]);
    assert(releases[3]! - releases[2]! >= 1); // re-armed from when it ran
  });
});

Deno.test("IslandLoop.run() follows missedTicks after a stall inside the spin before a release", async (t) => {
  // The third release (3.001) is readied before its spin, in which the
  // thread loses the CPU for 3.5 periods: the run is worked out again from
  // when it started, as a run found due after a stall.
  await t.step("skip", () => {
    const { releases, stats } = stalledReleases("skip", "in-spin");
    assertEquals(releases, [1.001, 2.001, 6.001, 7.001, 8.001, 9.001]);
    assertEquals(stats.skippedTicks, 3);
  });
  await t.step("burst", () => {
    const { releases, stats } = stalledReleases("burst", "in-spin");
    assertEquals(releases, [1.001, 2.001, 3.001, 4.001, 5.001, 6.001]);
    assertEquals(stats.skippedTicks, 0);
  });
  await t.step("delay", () => {
    // The late run keeps its release; the next is a period after it ran.
    const { releases } = stalledReleases("delay", "in-spin");
    assertEquals(releases.slice(0, 3), [1.001, 2.001, 3.001]);
    assert(releases[3]! > 7.3, `${releases[3]}`);
    assertAlmostEquals(releases[4]! - releases[3]!, 1, 1e-9);
  });
});

Deno.test("IslandLoop contains failures: continue counts, stop fails the task, a promise is a failure", () => {
  let runs = 0;
  const s = setup([
    task({
      name: "flaky",
      run: () => {
        if (++runs >= 5) s.stop();
        throw new Error(`bad ${runs}`);
      },
    }),
    task({
      name: "strict",
      onError: "stop",
      run: () => {
        throw new RangeError("once");
      },
    }),
    task({ name: "async", run: () => Promise.resolve() }),
  ]);
  s.loop.run();
  const flaky = s.stats(0);
  assertEquals([flaky.failures, flaky.runs, flaky.state], [5, 5, "done"]);
  assertEquals(flaky.lastError?.message, "bad 5");
  assert(flaky.lastError?.stack?.includes("bad 5"));
  const strict = s.stats(1);
  assertEquals([strict.failures, strict.runs, strict.state], [1, 1, "failed"]);
  assertEquals(strict.reason, 'failed: a run threw with onError "stop"');
  const async = s.stats(2);
  assertEquals(async.failures, async.runs);
  assertEquals(
    async.lastError?.message,
    'Cannot run island task "async" as it returned a promise: island tasks run synchronously',
  );
});

Deno.test("IslandLoop quarantines a task over its budget again and again", () => {
  let runs = 0;
  const s = setup(
    [
      task({
        name: "heavy",
        budgetMs: 0.1,
        run: () => {
          runs++;
          s.host.t += 0.3; // over budget every time
        },
      }),
      task({
        name: "watch",
        periodMs: 1,
        run: () => {
          if (s.host.t > 30) s.stop();
        },
      }),
    ],
    0.2,
    { escalateAfter: 2, cooldownMs: 0 },
  );
  s.loop.run();
  const heavy = s.stats(0);
  assertEquals(heavy.state, "quarantined");
  assertEquals(heavy.tier, "isolate");
  assertEquals(runs, 6); // two overruns per tier: warn, yield, isolate
  assertEquals(heavy.overruns, 6);
  assertEquals(heavy.reason?.startsWith("quarantined: 6 runs over its 0.1 ms budget"), true);
});

Deno.test("IslandLoop stops on the command, marks its tasks cancelled, and takes tasks added while running", () => {
  const seen: string[] = [];
  const s = setup([task({
    name: "first",
    run: () => {
      seen.push("first");
      if (seen.length === 1) {
        s.loop.add(task({ name: "added", delayMs: 0.5, run: () => void seen.push("added") }));
      }
      if (seen.length >= 5) s.stop();
    },
  })]);
  s.loop.run();
  assertEquals(s.loop.size, 2);
  assertEquals(seen.slice(0, 3), ["first", "added", "first"]);
  s.loop.cancelAll();
  assertEquals(s.stats(0).state, "cancelled");
});

Deno.test("readSlot() keeps a consistent copy, and gives up without hanging on a writer that died mid-write", () => {
  const slots = createSlots(1);
  const views = slotViews(slots, 0);
  views.cells[1] = 7;
  const copy = readSlot(views, newSlotCopy());
  assertStrictEquals(copy.consistent, true);
  assertEquals(copy.cells[1], 7);
  beginWrite(views); // the writer never finishes
  assertStrictEquals(readSlot(views, newSlotCopy()).consistent, false);
});

Deno.test("AdaptiveLead grows with late wake-ups, within its bounds, and settles back", () => {
  const lead = new AdaptiveLead(0.3, 1);
  assertEquals(lead.ms, 0.3);
  // Fewer than 64 delays: the least lead stays.
  for (let i = 0; i < 63; i++) assertEquals(lead.learn(0.6), false);
  assertEquals(lead.ms, 0.3);
  assertEquals(lead.learn(0.6), true);
  assertAlmostEquals(lead.ms, 0.65, 1e-12); // the fourth largest delay plus 50 µs
  for (let i = 0; i < 64; i++) lead.learn(5); // far later than the most allowed
  assertEquals(lead.ms, 1);
  for (let i = 0; i < 64; i++) lead.learn(0.01); // a quiet machine again
  assertEquals(lead.ms, 0.3);
  const fixed = new AdaptiveLead(0.3, 0.3);
  for (let i = 0; i < 128; i++) assertEquals(fixed.learn(5), false);
  assertEquals(fixed.ms, 0.3);
});

Deno.test("AdaptiveLead ignores up to three outliers in its window", () => {
  const lead = new AdaptiveLead(0.1, 2);
  for (let i = 0; i < 61; i++) lead.learn(0.02);
  lead.learn(1.5); // three stalls
  lead.learn(1.5);
  lead.learn(1.5);
  assertAlmostEquals(lead.ms, 0.1, 1e-12);
});
