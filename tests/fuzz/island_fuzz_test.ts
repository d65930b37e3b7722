// Seeded fuzz of the Island's option surface (start and close) on a fake
// thread host: every call resolves, or rejects with a clean Deno-style error
// that names an option; a started island always closes.

import { assertCleanError, check, fc, hostile } from "./_hostile.ts";
import { SILENT_LOGGER } from "../_util/logger.ts";
import { startIsland } from "../../src/island/island.ts";
import type { IslandHost, ThreadEvents } from "../../src/island/_island_host.ts";
import { Driver } from "../../mod.ts";
import { VirtualClock } from "../../testing.ts";
import { assertEquals } from "@std/assert";

let lastEvents: ThreadEvents | undefined;

/** Threads that are ready at once; the test answers a stop for them. */
const HOST: IslandHost = {
  spawn(_boot, _maxHeapMb, events) {
    lastEvents = events;
    queueMicrotask(() => {
      events.message({
        t: "attached",
        inEpoch: undefined,
        outEpoch: undefined,
        priorityError: undefined,
        scheduling: "normal",
        schedulingError: undefined,
        threadId: undefined,
      });
      events.message({ t: "ready" });
    });
    return { terminate: () => events.exit({ code: 1, oom: false, message: undefined }) };
  },
};

/** A hostile value, or (mostly) a good one. */
function either<T>(good: fc.Arbitrary<T>, weight = 20): fc.Arbitrary<unknown> {
  return fc.oneof({ weight, arbitrary: good }, { weight: 1, arbitrary: hostile() });
}

/** Sometimes left out. */
function optional(arb: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.option(arb, { nil: undefined, freq: 1 });
}

/**
 * Runs `fn`; a failure must be a clean error whose first quoted parameter
 * is one of NAMES or a path under one (`'tasks[0].name'`, `'restart.policy'`).
 */
async function clean<R>(fn: () => Promise<R>): Promise<R | undefined> {
  try {
    return await fn();
  } catch (error) {
    assertCleanError(error);
    const root = /'([A-Za-z]+)/.exec((error as Error).message)?.[1];
    if (root === undefined || !NAMES.includes(root)) {
      throw new Error(`Expected the message to name an option, got: ${(error as Error).message}`);
    }
    return undefined;
  }
}

const NAMES = [
  "options",
  "name",
  "module",
  "tasks",
  "values",
  "values.in",
  "values.out",
  "rings",
  "rings.in",
  "rings.out",
  "leadUs",
  "maxLeadUs",
  "scheduling",
  "realtimePriority",
  "hangMs",
  "startTimeoutMs",
  "budget",
  "restart",
  "restart.policy",
  "restart.maxRestarts",
  "restart.backoffMs",
  "maxHeapMb",
  "driver",
  "metrics",
  "logger",
  "graceMs",
  "slots",
  "slotSize",
  "livenessTimeoutMs",
  "fields",
];

const task = fc.record({
  name: either(fc.oneof({ weight: 9, arbitrary: fc.constant("tick") }, {
    weight: 1,
    arbitrary: fc.constantFrom("init", "a\uD800"),
  })),
  periodMs: either(fc.oneof(
    { weight: 9, arbitrary: fc.double({ min: 0.001, max: 100, noNaN: true }) },
    { weight: 1, arbitrary: fc.double({ min: 0, max: 0.001 }) },
  )),
  deadlineMs: optional(either(fc.double({ min: 0, max: 100 }))),
  delayMs: optional(either(fc.double({ min: -1, max: 100 }))),
  budgetMs: optional(either(fc.double({ min: -1, max: 10 }))),
  missedTicks: optional(either(fc.constantFrom("skip", "burst", "delay", "later"))),
  onError: optional(either(fc.constantFrom("continue", "stop", "retry"))),
}, { requiredKeys: ["name", "periodMs"] });

const options = fc.record({
  name: optional(either(fc.constantFrom("isle", ""))),
  module: either(fc.constantFrom("file:///fake.ts", "file:///fake.ts", "relative.ts")),
  tasks: either(fc.array(either(task), { minLength: 1, maxLength: 3 })),
  values: optional(either(fc.record({
    in: optional(either(fc.array(either(fc.constantFrom("x", "y", "x")), { maxLength: 3 }))),
    out: optional(either(fc.array(either(fc.constantFrom("a", "b")), { maxLength: 3 }))),
  }, { requiredKeys: [] }))),
  rings: optional(either(fc.record({
    in: optional(either(fc.record({
      slots: optional(either(fc.constantFrom(2, 3, 8))),
      slotSize: optional(either(fc.constantFrom(8, 7, 64))),
    }, { requiredKeys: [] }))),
    out: optional(either(fc.record({
      slots: optional(either(fc.constantFrom(2, 8))),
      livenessTimeoutMs: optional(either(fc.constantFrom(5, 100, Infinity))),
    }, { requiredKeys: [] }))),
  }, { requiredKeys: [] }))),
  leadUs: optional(either(fc.double({ min: -10, max: 200_000 }))),
  maxLeadUs: optional(either(fc.double({ min: -10, max: 2000 }))),
  scheduling: optional(either(fc.constantFrom("auto", "realtime", "normal", "fifo"))),
  realtimePriority: optional(either(fc.integer({ min: -1, max: 100 }))),
  hangMs: optional(either(fc.double({ min: 0, max: 1e4 }))),
  startTimeoutMs: optional(either(fc.integer({ min: 0, max: 1e4 }))),
  budget: optional(either(fc.record({ escalateAfter: either(fc.integer({ min: 0, max: 5 })) }))),
  restart: optional(either(fc.record({
    policy: optional(either(fc.constantFrom("never", "on-failure", "always"))),
    maxRestarts: optional(either(fc.integer({ min: -1, max: 5 }))),
    backoffMs: optional(either(fc.double({ min: -1, max: 100 }))),
  }, { requiredKeys: [] }))),
  maxHeapMb: optional(either(fc.integer({ min: 0, max: 1024 }))),
  logger: either(fc.constant(SILENT_LOGGER), 8),
}, { requiredKeys: ["module", "tasks"] });

Deno.test("fuzz: Island.start() and close() take any options cleanly", async () => {
  const clock = new VirtualClock();
  const driver = new Driver({ clock });
  let started = 0;
  await check(fc.asyncProperty(options, hostile(), async (opts, grace) => {
    const island = await clean(() =>
      startIsland({ ...(opts as object), driver } as never, { host: HOST })
    );
    if (island === undefined) return;
    started++;
    const closing = clean(() => island.close({ graceMs: grace } as never));
    lastEvents?.message({ t: "closed", disposeError: undefined });
    if (await closing === undefined) {
      const report = island.close({ graceMs: 0 });
      clock.advance(1);
      await report;
    }
    assertEquals(island.state, "closed");
  }));
  driver.close();
  if (started === 0) throw new Error("no island started: the generator is too hostile");
});
