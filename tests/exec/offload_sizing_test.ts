// The offload pool's size (minWorkers, maxWorkers, growth on demand, shrink
// after idleTimeoutMs), its utilization, named exports of job modules and
// per-job timeouts, with real Workers. Time runs on a VirtualClock driver;
// jobs that must stay running wait on a gate (./_fixtures/jobs/gate.ts), so
// no outcome depends on how fast the machine is.
import { assertEquals, assertRejects, assertStringIncludes, assertThrows } from "@std/assert";
import { OffloadJobError, OffloadTimeoutError } from "../../src/errors.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { Driver } from "../../src/time/driver.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { OffloadPool } from "../../src/exec/offload_pool.ts";
import type { OffloadPoolOptions } from "../../src/exec/offload_types.ts";
import { SILENT_LOGGER } from "../_util/logger.ts";
import { Gate } from "./_fixtures/jobs/gate.ts";

const job = (name: string) => new URL(`./_fixtures/jobs/${name}.ts`, import.meta.url);
const image = new URL("./offload_fixtures/image.ts", import.meta.url);
const JOBS = {
  square: job("square"),
  hang: job("hang"),
  image,
  resize: new URL("#resize", image),
};

function virtualDriver(): { clock: VirtualClock; driver: Driver } {
  const clock = new VirtualClock();
  return { clock, driver: new Driver({ clock }) };
}

/** Closed without a grace period, so that a failed assertion does not wait on virtual time. */
class TestPool extends OffloadPool {
  override async [Symbol.asyncDispose](): Promise<void> {
    await this.close({ graceMs: 0 });
  }
}

function pool(options: Partial<OffloadPoolOptions>): OffloadPool {
  return new TestPool({ jobs: JOBS, logger: SILENT_LOGGER, ...options });
}

/** Starts `count` hanging jobs, each on its own worker (batch 1), and waits until all run. */
async function hangJobs(
  p: OffloadPool,
  count: number,
): Promise<{ controllers: AbortController[]; done: Promise<unknown>[]; gates: Gate[] }> {
  const gates = Array.from({ length: count }, () => new Gate());
  const controllers = gates.map(() => new AbortController());
  const done = gates.map((gate, i) =>
    p.submit("hang", gate.input, { transfer: gate.transfer, signal: controllers[i]!.signal })
      .catch((error) => error)
  );
  await Promise.all(gates.map((gate) => gate.reported("started")));
  return { controllers, done, gates };
}

/**
 * Waits until the aborted hang jobs are over in their workers, not only on
 * this side: each job reports "aborted" after its worker took the abort, so
 * the pool no longer watches the worker and an idle check can stop it.
 */
async function settled(done: Promise<unknown>[], gates: Gate[]): Promise<void> {
  await Promise.all(done);
  await Promise.all(gates.map((gate) => gate.reported("aborted")));
  gates.forEach((gate) => gate[Symbol.dispose]());
}

Deno.test("OffloadPool grows on demand from minWorkers up to maxWorkers, never past it", async () => {
  const { driver } = virtualDriver();
  using _driver = driver;
  await using p = pool({ minWorkers: 1, maxWorkers: 3, batch: 1, driver });
  assertEquals([p.stats().workersAlive, p.stats().workersGrown], [1, 0]);
  const { controllers, done, gates } = await hangJobs(p, 3);
  let stats = p.stats();
  assertEquals(
    [stats.workersAlive, stats.workersIdle, stats.workersGrown, stats.inFlight],
    [3, 0, 2, 3],
  );
  // A fourth job finds no idle worker and no room to grow: it goes to a busy one.
  assertEquals(await p.submit("square", 7), 49);
  stats = p.stats();
  assertEquals([stats.workersAlive, stats.workersGrown], [3, 2]);
  for (const controller of controllers) controller.abort();
  await settled(done, gates);
  assertEquals(p.stats().workersIdle, 3);
});

Deno.test("OffloadPool stops workers idle for idleTimeoutMs, down to minWorkers", async () => {
  const { clock, driver } = virtualDriver();
  using _driver = driver;
  await using p = pool({ minWorkers: 1, maxWorkers: 3, idleTimeoutMs: 1000, batch: 1, driver });
  const { controllers, done, gates } = await hangJobs(p, 3);
  clock.advance(5000); // busy workers are never stopped, however long they run
  assertEquals([p.stats().workersAlive, p.stats().workersShrunk], [3, 0]);
  for (const controller of controllers) controller.abort();
  await settled(done, gates);
  clock.advance(999);
  assertEquals([p.stats().workersAlive, p.stats().workersShrunk], [3, 0]);
  clock.advance(1001);
  let stats = p.stats();
  assertEquals([stats.workersAlive, stats.workersShrunk, stats.workersIdle], [1, 2, 1]);
  // It grows again when needed, and still runs jobs.
  const again = await hangJobs(p, 2);
  stats = p.stats();
  assertEquals([stats.workersAlive, stats.workersGrown], [2, 3]);
  for (const controller of again.controllers) controller.abort();
  await settled(again.done, again.gates);
  assertEquals(await p.submit("square", 3), 9);
});

Deno.test("OffloadPool with minWorkers 0 starts no worker until a job comes, then shrinks to none", async () => {
  const { clock, driver } = virtualDriver();
  using _driver = driver;
  await using p = pool({ minWorkers: 0, maxWorkers: 2, idleTimeoutMs: 100, driver });
  assertEquals(p.stats().workersAlive, 0);
  assertEquals(await p.submit("square", 5), 25);
  assertEquals([p.stats().workersAlive, p.stats().workersGrown], [1, 1]);
  clock.advance(200);
  assertEquals([p.stats().workersAlive, p.stats().workersShrunk], [0, 1]);
  assertEquals(await p.submit("square", 6), 36);
});

Deno.test("OffloadPool with idleTimeoutMs Infinity keeps every worker it grew", async () => {
  const { clock, driver } = virtualDriver();
  using _driver = driver;
  await using p = pool({ minWorkers: 1, maxWorkers: 2, idleTimeoutMs: Infinity, batch: 1, driver });
  const { controllers, done, gates } = await hangJobs(p, 2);
  for (const controller of controllers) controller.abort();
  await settled(done, gates);
  clock.advance(3_600_000);
  assertEquals([p.stats().workersAlive, p.stats().workersShrunk], [2, 0]);
});

Deno.test("OffloadPool.stats().utilizationRatio is busy worker-time over running worker-time", async () => {
  const { clock, driver } = virtualDriver();
  using _driver = driver;
  await using p = pool({ minWorkers: 1, maxWorkers: 1, driver });
  assertEquals(p.stats().utilizationRatio, 0);
  const { controllers, done, gates } = await hangJobs(p, 1);
  clock.advance(300);
  assertEquals(p.stats().utilizationRatio, 1);
  controllers[0]!.abort();
  await Promise.all(done);
  gates[0]![Symbol.dispose]();
  clock.advance(100);
  assertEquals(p.stats().utilizationRatio, 0.75);
});

Deno.test("OffloadPool runs named exports: a URL fragment or submit('<job>#<export>')", async () => {
  await using p = pool({ minWorkers: 1, maxWorkers: 1 });
  assertEquals(await p.submit("image", [1, 2, 3]), 3); // the default export
  assertEquals(await p.submit("resize", [2, 4]), [1, 2]); // registered with #resize
  assertEquals(await p.submit("image#resize", [6]), [3]);
  assertEquals(await p.submit("image#sum", [1, 2, 3]), 6);
  assertEquals(await p.submit("resize#sum", [4, 5]), 9); // the fragment is replaced
});

Deno.test("OffloadPool names a missing or non-function export and the exports there are", async () => {
  await using p = pool({ minWorkers: 1, maxWorkers: 1 });
  for (const name of ["nope", "version"]) {
    const error = await assertRejects(() => p.submit(`image#${name}`, [1]), OffloadJobError);
    assertEquals(error.code, "E_JOB_LOAD_FAILED");
    assertStringIncludes(error.message, `Cannot run job "image#${name}"`);
    assertStringIncludes(error.message, `has no export "${name}" that is a function`);
    assertStringIncludes(error.message, `"default", "resize", "sum", "version"`);
  }
  // The module itself is fine: its other exports still run.
  assertEquals(await p.submit("image#resize", [8]), [4]);
  // An export of a job that is not registered is an unknown job.
  await assertRejects(() => p.submit("nope#resize", [1]), TypeError, "'job' is not registered");
  await assertRejects(() => p.submit("image#", [1]), TypeError, "'job' is not registered");
});

Deno.test("OffloadPool times out a job on its own timeoutMs, shorter than the pool's", async () => {
  const { clock, driver } = virtualDriver();
  using _driver = driver;
  await using p = pool({ minWorkers: 1, maxWorkers: 1, timeoutMs: 60_000, driver });
  using gate = new Gate();
  const result = p.submit("hang", gate.input, { transfer: gate.transfer, timeoutMs: 50 });
  result.catch(() => {});
  await gate.reported("started");
  clock.advance(40);
  assertEquals(p.stats().timedOut, 0);
  clock.advance(100);
  const error = await assertRejects(() => result, OffloadTimeoutError);
  assertStringIncludes(error.message, "50 ms");
  await gate.reported("aborted");
  assertEquals(await p.submit("square", 2), 4);
});

Deno.test("OffloadPool exports its size and utilization as metrics", async () => {
  const metrics = new MetricsRegistry();
  await using p = pool({ minWorkers: 1, maxWorkers: 2, metrics, name: "sized" });
  await p.submit("square", 2);
  const text = metrics.exposeText();
  for (
    const series of [
      'chronetix_offload_workers_idle{pool="sized"} 1',
      'chronetix_offload_workers_grown_total{pool="sized"} 0',
      'chronetix_offload_workers_shrunk_total{pool="sized"} 0',
      'chronetix_offload_utilization_ratio{pool="sized"}',
    ]
  ) assertStringIncludes(text, series);
});

Deno.test("OffloadPool rejects bad size options and a bad per-job timeout", async () => {
  const cases: [Partial<OffloadPoolOptions>, typeof TypeError, string][] = [
    [{ workers: 2, maxWorkers: 3 }, TypeError, "'workers' (a fixed size, deprecated)"],
    [{ minWorkers: 3, maxWorkers: 2 }, RangeError, "'minWorkers' must be <= 'maxWorkers' (2)"],
    [{ minWorkers: -1 }, RangeError, "'minWorkers' must be an integer in [0, 256]"],
    [{ maxWorkers: 0 }, RangeError, "'maxWorkers' must be an integer in [1, 256]"],
    [{ idleTimeoutMs: -1 }, RangeError, "'idleTimeoutMs' must be >= 0"],
    [{ idleTimeoutMs: NaN }, RangeError, "'idleTimeoutMs' must be a finite number"],
  ];
  for (const [options, type, message] of cases) {
    assertThrows(() => pool(options), type, message);
  }
  await using p = pool({ minWorkers: 0, maxWorkers: 1 });
  await assertRejects(
    () => p.submit("square", 1, { timeoutMs: 0 }),
    RangeError,
    "Cannot submit job \"square\" as 'timeoutMs' must be > 0",
  );
  assertEquals([p.stats().submitted, p.stats().workersAlive], [0, 0]);
});

Deno.test("OffloadPool's deprecated 'workers' is a fixed size", async () => {
  const { clock, driver } = virtualDriver();
  using _driver = driver;
  await using p = pool({ workers: 2, batch: 1, idleTimeoutMs: 10, driver });
  const { controllers, done, gates } = await hangJobs(p, 3);
  assertEquals([p.stats().workersAlive, p.stats().workersGrown], [2, 0]);
  for (const controller of controllers) controller.abort();
  await settled(done, gates);
  clock.advance(1000);
  assertEquals([p.stats().workersAlive, p.stats().workersShrunk], [2, 0]);
});
