// Seeded fuzz of the offload pool's sizing options (minWorkers, maxWorkers,
// idleTimeoutMs, the deprecated workers), named-export job names and the
// per-job timeoutMs. Each call works or fails with a clean error naming the
// parameter; a pool that starts keeps minWorkers <= workersAlive <=
// maxWorkers and workersAlive = minWorkers + workersGrown - workersShrunk
// through random bursts of jobs and random advances of a VirtualClock, and
// is back at minWorkers once every worker has been idle past idleTimeoutMs.
import { assert, assertEquals } from "@std/assert";
import { check, cleanCall, cleanCallAsync, fc, hostile } from "./_hostile.ts";
import { OffloadJobError } from "../../src/errors.ts";
import { OffloadPool } from "../../src/exec/offload_pool.ts";
import type { OffloadPoolOptions, OffloadStats } from "../../src/exec/offload_types.ts";
import { Driver } from "../../src/time/driver.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { SILENT_LOGGER } from "../_util/logger.ts";

const image = new URL("../exec/offload_fixtures/image.ts", import.meta.url);
const JOBS = {
  square: new URL("../exec/_fixtures/jobs/square.ts", import.meta.url),
  image,
  resize: new URL("#resize", image),
};
const SIZE_NAMES = ["minWorkers", "maxWorkers", "idleTimeoutMs", "workers"];
const SUBMIT_NAMES = ["job", "input", "options", "timeoutMs"];

function assertSized(stats: OffloadStats, min: number, max: number): void {
  const figures = JSON.stringify({
    alive: stats.workersAlive,
    grown: stats.workersGrown,
    shrunk: stats.workersShrunk,
    min,
    max,
  });
  assert(stats.workersAlive >= min && stats.workersAlive <= max, figures);
  assertEquals(stats.workersAlive, min + stats.workersGrown - stats.workersShrunk, figures);
  assert(stats.utilizationRatio >= 0 && stats.utilizationRatio <= 1, figures);
  const sum = stats.completed + stats.failed + stats.timedOut + stats.crashed + stats.cancelled +
    stats.rejected + stats.queued + stats.inFlight;
  assertEquals(sum, stats.submitted);
}

/** A small worker count mostly, a hostile value sometimes, left out often. */
const count = () =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) },
    { weight: 1, arbitrary: hostile() },
  );

Deno.test("OffloadPool() takes hostile sizing options: a pool within its bounds or a clean error", async () => {
  const options = fc.record({
    minWorkers: count(),
    maxWorkers: count(),
    workers: fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, {
      weight: 1,
      arbitrary: count(),
    }),
    idleTimeoutMs: fc.oneof(
      { weight: 2, arbitrary: fc.constant(undefined) },
      { weight: 2, arbitrary: fc.constantFrom(0, 10, 1000, Infinity) },
      { weight: 1, arbitrary: hostile() },
    ),
  }, { requiredKeys: [] });
  let started = 0;
  await check(
    fc.asyncProperty(options, async (opts) => {
      const pool = cleanCall(
        () =>
          new OffloadPool({
            jobs: JOBS,
            logger: SILENT_LOGGER,
            ...(opts as Partial<OffloadPoolOptions>),
          }),
        SIZE_NAMES,
      );
      if (pool === undefined) return;
      started++;
      const stats = pool.stats();
      assertEquals([stats.workersGrown, stats.workersShrunk], [0, 0]);
      assert(stats.workersAlive >= 0 && stats.workersAlive <= 256);
      if (typeof opts.minWorkers === "number") assertEquals(stats.workersAlive, opts.minWorkers);
      await pool.close({ graceMs: 0 });
    }),
    60,
  );
  assert(started > 0, "some hostile options were valid ones");
});

Deno.test("OffloadPool grows and shrinks within its bounds through random bursts and idle times", async () => {
  const plan = fc.record({
    min: fc.integer({ min: 0, max: 2 }),
    extra: fc.integer({ min: 0, max: 2 }),
    idleTimeoutMs: fc.integer({ min: 0, max: 500 }),
    steps: fc.array(
      fc.record({
        jobs: fc.integer({ min: 0, max: 12 }),
        advanceMs: fc.integer({ min: 0, max: 700 }),
      }),
      { minLength: 1, maxLength: 6 },
    ),
  });
  await check(
    fc.asyncProperty(plan, async ({ min, extra, idleTimeoutMs, steps }) => {
      const clock = new VirtualClock();
      using driver = new Driver({ clock });
      const max = Math.max(1, min + extra);
      const pool = new OffloadPool({
        jobs: JOBS,
        logger: SILENT_LOGGER,
        minWorkers: min,
        maxWorkers: max,
        idleTimeoutMs,
        batch: 1,
        driver,
      });
      try {
        for (const { jobs, advanceMs } of steps) {
          const results = await Promise.all(
            Array.from({ length: jobs }, (_, i) => pool.submit<number>("square", i)),
          );
          assertEquals(results, Array.from({ length: jobs }, (_, i) => i * i));
          assertSized(pool.stats(), min, max);
          clock.advance(advanceMs);
          assertSized(pool.stats(), min, max);
        }
        // Idle past the timeout (and one check period): back at the minimum.
        clock.advance(idleTimeoutMs + 1001);
        const stats = pool.stats();
        assertSized(stats, min, max);
        assertEquals(stats.workersAlive, min);
      } finally {
        await pool.close({ graceMs: 0 });
      }
    }),
    15,
  );
});

Deno.test("OffloadPool.submit() takes hostile job names and per-job timeouts: a result or a clean error", async () => {
  const clock = new VirtualClock();
  using driver = new Driver({ clock });
  await using pool = new OffloadPool({
    jobs: JOBS,
    logger: SILENT_LOGGER,
    minWorkers: 1,
    maxWorkers: 2,
    driver,
  });
  const job = fc.oneof(
    fc.constantFrom("square", "image", "resize", "image#resize", "image#sum", "resize#sum"),
    fc.constantFrom("image#nope", "image#version", "nope#resize", "image#", "#resize", "#"),
    fc.string().map((s) => `image#${s}`),
    hostile(),
  );
  const options = fc.oneof(
    fc.constant(undefined),
    fc.record({
      timeoutMs: fc.oneof(fc.constantFrom(undefined, 1, 50, 60_000), hostile()),
    }, { requiredKeys: [] }),
    hostile(),
  );
  await check(
    fc.asyncProperty(job, options, async (name, opts) => {
      const before = pool.stats().submitted;
      const input = name === "square" ? 3 : [2, 4];
      let outcome: unknown;
      try {
        outcome = await pool.submit(name as string, input, opts as never);
      } catch (error) {
        if (error instanceof OffloadJobError) {
          assertEquals(error.code, "E_JOB_LOAD_FAILED", error.message);
          assert(error.message.includes("export"), error.message);
          outcome = error;
        } else {
          await cleanCallAsync(() => Promise.reject(error), SUBMIT_NAMES);
          assertEquals(pool.stats().submitted, before, "a refused submit counts nowhere");
          outcome = error;
        }
      }
      assert(outcome !== undefined);
      assertSized(pool.stats(), 1, 2);
    }),
    80,
  );
});
