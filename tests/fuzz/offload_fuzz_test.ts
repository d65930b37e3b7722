// Seeded fuzz of the offload pool: hostile values for every option of the
// constructor, every argument of submit() and close(). Each call works or
// fails with a clean error naming the parameter; a call that fails on its
// arguments changes no counter; and the counters always add up:
// submitted = completed + failed + timedOut + crashed + cancelled + rejected
// + queued + inFlight. Starting workers is what costs, so one pool serves
// every submit case and the close cases start a new pool only after a
// close that succeeded.
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { assertCleanError, check, cleanCall, cleanCallAsync, fc, hostile } from "./_hostile.ts";
import { ClosedError, OffloadJobError, OffloadQueueFullError } from "../../src/errors.ts";
import { OffloadPool } from "../../src/exec/offload_pool.ts";
import type { OffloadPoolOptions, OffloadStats } from "../../src/exec/offload_types.ts";
import { SILENT_LOGGER } from "../_util/logger.ts";

const job = (name: string) => new URL(`../exec/_fixtures/jobs/${name}.ts`, import.meta.url);
const JOBS = { square: job("square"), echo: job("echo"), fail: job("fail") };

const COUNTERS = [
  "submitted",
  "completed",
  "failed",
  "timedOut",
  "crashed",
  "cancelled",
  "rejected",
  "queued",
  "inFlight",
] as const;
type Counter = typeof COUNTERS[number];

function counters(stats: OffloadStats): Record<Counter, number> {
  return Object.fromEntries(COUNTERS.map((c) => [c, stats[c]])) as Record<Counter, number>;
}

function delta(before: Record<Counter, number>, after: Record<Counter, number>): string {
  return COUNTERS.filter((c) => after[c] !== before[c]).map((c) => `${c}+${after[c] - before[c]}`)
    .join(" ");
}

/** Every job submitted is in exactly one place: an outcome, the queue or a worker. */
function assertBalanced(stats: OffloadStats): void {
  const sum = stats.completed + stats.failed + stats.timedOut + stats.crashed + stats.cancelled +
    stats.rejected + stats.queued + stats.inFlight;
  assertEquals(sum, stats.submitted, JSON.stringify(counters(stats)));
}

const OPTION_NAMES = [
  "options",
  "jobs",
  "workers",
  "queueCap",
  "timeoutMs",
  "batch",
  "permissions",
  "env",
  "ffi",
  "import",
  "net",
  "read",
  "run",
  "sys",
  "write",
  "driver",
  "metrics",
  "name",
  "logger",
  "resourceLimits",
  "resourceLimits.maxHeapMb",
].flatMap((n) =>
  ["env", "ffi", "import", "net", "read", "run", "sys", "write"].includes(n)
    ? [`permissions.${n}`]
    : [n]
);
const SUBMIT_NAMES = ["job", "input", "options", "signal", "transfer"];
const CLOSE_NAMES = ["options", "graceMs"];

Deno.test("OffloadPool() takes hostile options: a pool that works or a clean error naming the option", async () => {
  // Mostly left out, so that some whole option sets are valid and start a pool.
  const field = () =>
    fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: hostile() });
  const options = fc.oneof(
    { weight: 1, arbitrary: hostile() },
    {
      weight: 6,
      arbitrary: fc.record({
        jobs: fc.oneof({ weight: 3, arbitrary: fc.constant(JOBS) }, {
          weight: 1,
          arbitrary: hostile(),
        }),
        workers: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, {
          weight: 1,
          arbitrary: hostile(),
        }),
        queueCap: field(),
        timeoutMs: field(),
        batch: field(),
        permissions: fc.oneof(
          { weight: 3, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: hostile() },
          {
            weight: 1,
            arbitrary: fc.dictionary(
              fc.constantFrom("env", "net", "read", "bogus"),
              fc.oneof(hostile(), fc.constant(false), fc.constant("inherit")),
            ),
          },
        ),
        resourceLimits: fc.oneof(
          { weight: 4, arbitrary: field() },
          {
            weight: 1,
            arbitrary: fc.record({
              maxHeapMb: fc.oneof(hostile(), fc.integer({ min: 0, max: 100_000 })),
            }),
          },
        ),
        driver: field(),
        metrics: field(),
        name: field(),
        logger: fc.oneof({ weight: 4, arbitrary: fc.constant(SILENT_LOGGER) }, {
          weight: 1,
          arbitrary: hostile(),
        }),
      }, { requiredKeys: [] }),
    },
  );
  let started = 0;
  await check(fc.asyncProperty(options, async (opts) => {
    const pool = cleanCall(() => new OffloadPool(opts as OffloadPoolOptions), OPTION_NAMES);
    if (pool === undefined) return;
    started++;
    assertBalanced(pool.stats());
    assertEquals(pool.stats().submitted, 0);
    assertEquals(await pool.close({ graceMs: 0 }), { drained: 0, cutOff: 0 });
    assertEquals(pool.stats().workersAlive, 0);
  }));
  assert(started > 0, "some hostile options were valid ones");
});

Deno.test("OffloadPool.submit() takes hostile arguments: the counters always add up", async () => {
  await using pool = new OffloadPool({
    jobs: JOBS,
    workers: 1,
    queueCap: 4,
    batch: 2,
    timeoutMs: 120_000,
    logger: SILENT_LOGGER,
  });
  const submitArgs = fc.record({
    job: fc.oneof({ weight: 4, arbitrary: fc.constantFrom("square", "echo", "fail") }, {
      weight: 1,
      arbitrary: hostile(),
    }),
    input: fc.oneof(hostile(), fc.constant({ nested: () => 1 }), fc.bigInt()),
    options: fc.oneof(
      { weight: 1, arbitrary: hostile() },
      {
        weight: 4,
        arbitrary: fc.record({
          signal: fc.oneof(
            { weight: 3, arbitrary: fc.constant(undefined) },
            { weight: 1, arbitrary: fc.constantFrom("aborted", "abort-later", "live") },
            { weight: 1, arbitrary: hostile() },
          ),
          transfer: fc.oneof(
            { weight: 3, arbitrary: fc.constant(undefined) },
            { weight: 1, arbitrary: fc.constantFrom("buffer", "twice", "shared") },
            { weight: 1, arbitrary: hostile() },
          ),
        }, { requiredKeys: [] }),
      },
    ),
  });
  await check(
    fc.asyncProperty(fc.array(submitArgs, { minLength: 1, maxLength: 8 }), async (calls) => {
      const later: AbortController[] = [];
      const settled: Promise<void>[] = [];
      for (const call of calls) {
        let options: unknown = call.options;
        let aborted = false;
        if (options !== null && typeof options === "object" && !Array.isArray(options)) {
          const { signal, transfer } = options as { signal?: unknown; transfer?: unknown };
          const controller = new AbortController();
          const buffer = new ArrayBuffer(8);
          options = {
            signal: signal === "aborted" || signal === "abort-later" || signal === "live"
              ? controller.signal
              : signal,
            transfer: transfer === "buffer"
              ? [buffer]
              : transfer === "twice"
              ? [buffer, buffer]
              : transfer === "shared"
              ? [new SharedArrayBuffer(8)]
              : transfer,
          };
          if (signal === "aborted") {
            controller.abort(new Error("aborted before"));
            aborted = true;
          }
          if (signal === "abort-later") later.push(controller);
        }
        const before = counters(pool.stats());
        const promise = pool.submit(call.job as string, call.input, options as never);
        const after = counters(pool.stats());
        assertBalanced(pool.stats());
        const change = delta(before, after);
        settled.push(promise.then(
          () => assertEquals(change, "submitted+1 queued+1"),
          (error) => {
            if (change === "") {
              // A bad argument (or a job that is not registered): nothing was counted.
              assertCleanError(error, SUBMIT_NAMES);
            } else if (error instanceof OffloadQueueFullError) {
              assertEquals(change, "submitted+1 rejected+1");
            } else if (change === "submitted+1 cancelled+1") {
              assert(aborted, "only a signal aborted before submit cancels at once");
            } else {
              assertEquals(change, "submitted+1 queued+1");
              // It ran and failed, was cancelled later, or its input could not be sent.
              const cancelled = error instanceof Error && error.message === "abort later";
              if (!(error instanceof OffloadJobError) && !cancelled) {
                assertCleanError(error, ["input"]);
              }
            }
          },
        ));
      }
      await Promise.resolve();
      for (const controller of later) controller.abort(new Error("abort later"));
      await Promise.all(settled);
      await pool.whenIdle();
      const stats = pool.stats();
      assertBalanced(stats);
      assertEquals([stats.queued, stats.inFlight, stats.timedOut, stats.crashed], [0, 0, 0, 0]);
    }),
  );
  assertEquals(await pool.submit("square", 12), 144, "the pool still works");
});

Deno.test("OffloadPool.close() takes hostile options: closes once, or rejects cleanly and stays open", async () => {
  const newPool = () =>
    new OffloadPool({ jobs: JOBS, workers: 1, logger: SILENT_LOGGER, timeoutMs: 60_000 });
  let pool = newPool();
  let closes = 0;
  const closeOptions = fc.oneof(hostile(), fc.record({ graceMs: hostile() }));
  try {
    await check(
      fc.asyncProperty(closeOptions, async (options) => {
        const work = pool.submit<number>("square", 3);
        const closing = pool.close(options as never);
        const report = await cleanCallAsync(() => closing, CLOSE_NAMES);
        if (report === undefined) {
          assertEquals(await work, 9, "still open");
        } else {
          closes++;
          assertStrictEquals(pool.close(), closing, "a second close returns the same report");
          const result = await work.catch((error) => error);
          assert(result === 9 || result instanceof ClosedError, String(result));
          await cleanCallAsync(async () => {
            const error = await pool.submit("square", 1).catch((e) => e);
            assert(error instanceof ClosedError);
          });
          const stats = pool.stats();
          assertBalanced(stats);
          assertEquals([stats.queued, stats.inFlight, stats.workersAlive], [0, 0, 0]);
          pool = newPool();
        }
        assertBalanced(pool.stats());
      }),
      Math.max(1, Math.ceil(Number(Deno.env.get("CHRONETIX_FUZZ_CASES") ?? "200") / 4)),
    );
  } finally {
    await pool.close({ graceMs: 0 });
  }
  assert(closes > 0, "some hostile options were valid ones");
});
