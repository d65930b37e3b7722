// The offload pool with real module Workers and real job modules. Timeouts
// and grace periods run on a VirtualClock driver, and jobs that must outlast
// a timeout wait on a gate the test opens (./_fixtures/jobs/gate.ts), so no
// outcome depends on how fast the machine is.
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertMatch,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
} from "@std/assert";
import {
  ClosedError,
  OffloadJobError,
  OffloadQueueFullError,
  OffloadTimeoutError,
} from "../../src/errors.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { Driver } from "../../src/time/driver.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import { OffloadPool } from "../../src/exec/offload_pool.ts";
import type { OffloadPoolOptions } from "../../src/exec/offload_types.ts";
import { recordingLogger, SILENT_LOGGER } from "../_util/logger.ts";
import { Gate } from "./_fixtures/jobs/gate.ts";

const job = (name: string) => new URL(`./_fixtures/jobs/${name}.ts`, import.meta.url);
const JOBS = {
  square: job("square"),
  fill: job("fill"),
  hang: job("hang"),
  block: job("block"),
  crash: job("crash"),
  fail: job("fail"),
  missing: job("does_not_exist"),
};

function pool(options: Partial<OffloadPoolOptions> = {}): OffloadPool {
  return new OffloadPool({ jobs: JOBS, workers: 2, logger: SILENT_LOGGER, ...options });
}

/** A driver on virtual time: timeouts and grace periods end only when the test advances it. */
function virtualDriver(): { clock: VirtualClock; driver: Driver } {
  const clock = new VirtualClock();
  return { clock, driver: new Driver({ clock }) };
}

Deno.test("OffloadPool.submit() runs jobs in workers and returns their results in order", async () => {
  await using p = pool();
  const results = await Promise.all(
    Array.from({ length: 500 }, (_, i) => p.submit<number>("square", i)),
  );
  assertEquals(results, Array.from({ length: 500 }, (_, i) => i * i));
  const stats = p.stats();
  assertEquals([stats.submitted, stats.completed, stats.workersAlive], [500, 500, 2]);
  assertEquals([stats.queueWait.count, stats.execution.count], [500, 500]);
  assertEquals(stats.lastError, undefined);
});

Deno.test("OffloadPool.stats() reports empty timings as NaN", async () => {
  await using p = pool();
  const { queueWait, execution } = p.stats();
  assertEquals([queueWait.count, execution.count], [0, 0]);
  assertEquals([queueWait.p50, queueWait.p99, execution.mean, execution.max], [NaN, NaN, NaN, NaN]);
});

Deno.test("OffloadPool.submit() transfers buffers both ways", async () => {
  await using p = pool();
  const buffer = new ArrayBuffer(1 << 20);
  const result = await p.submit<Uint8Array>("fill", { buffer, value: 7 }, { transfer: [buffer] });
  assertEquals(buffer.byteLength, 0, "the input was transferred, not copied");
  assertEquals(result.length, 1 << 20);
  assertEquals(result[12345], 7);
});

Deno.test("OffloadPool.submit() rejects a throwing job with OffloadJobError; the worker stays", async () => {
  const logger = recordingLogger();
  await using p = pool({ logger });
  const error = await assertRejects(() => p.submit("fail", "bad input"), OffloadJobError);
  assertEquals(error.code, "E_JOB_FAILED");
  assertEquals(error.job, "fail");
  assertEquals(error.message, 'Cannot run job "fail" as it threw: bad input');
  assertInstanceOf(error.cause, Error);
  assertStringIncludes(error.cause.stack ?? "", "fail.ts", "the cause has the worker's stack");
  assertEquals(await p.submit("square", 3), 9);
  const stats = p.stats();
  assertEquals([stats.failed, stats.workersReplaced], [1, 0]);
  assertEquals(stats.lastError?.message, 'Cannot run job "fail" as it threw: bad input');
  assertStringIncludes(stats.lastError?.stack ?? "", "fail.ts");
  assertEquals(logger.lines, [], "the caller got the rejection: nothing to log");
});

Deno.test("OffloadPool.submit() rejects a job whose module fails to load, logs it and keeps it", async () => {
  const logger = recordingLogger();
  const { clock, driver } = virtualDriver();
  using _driver = driver;
  await using p = pool({ logger, driver });
  clock.advance(7);
  const error = await assertRejects(() => p.submit("missing", 1), OffloadJobError);
  assertEquals(error.code, "E_JOB_LOAD_FAILED");
  assertMatch(
    error.message,
    /^Cannot run job "missing" of offload pool "offload" as its module failed to load: .*does_not_exist/,
  );
  await assertRejects(() => p.submit("missing", 2), OffloadJobError);
  assertEquals(logger.lines, [`error: ${error.message}`], "logged once per interval");
  const stats = p.stats();
  assertEquals(stats.failed, 2);
  assertEquals(stats.lastError?.message, error.message);
  assertEquals(stats.lastError?.atMs, 7);
});

Deno.test("OffloadPool.submit() of an unregistered job rejects, logs it rate-limited and keeps it", async () => {
  const logger = recordingLogger();
  const { clock, driver } = virtualDriver();
  using _driver = driver;
  await using p = pool({ logger, driver, name: "render" });
  const message =
    'Cannot submit job "nope" to offload pool "render" as it is not registered: known jobs are "square", "fill", "hang", "block", "crash", "fail", "missing"';
  await assertRejects(() => p.submit("nope", 1), TypeError, message);
  clock.advance(9_999);
  await assertRejects(() => p.submit("nope", 1), TypeError, message);
  await assertRejects(() => p.submit("nope", 1), TypeError, message);
  clock.advance(1);
  await assertRejects(() => p.submit("nope", 1), TypeError, message);
  assertEquals(logger.lines, [
    `error: ${message}`,
    `error: ${message} (2 similar lines not logged)`,
  ]);
  const { lastError, submitted } = p.stats();
  assertEquals([lastError?.message, lastError?.atMs, submitted], [message, 10_000, 0]);
  assertStringIncludes(lastError?.stack ?? "", "TypeError");
});

Deno.test("OffloadPool.submit() cancels a queued job and aborts a running one", async () => {
  const { driver } = virtualDriver();
  using _driver = driver;
  await using p = pool({ workers: 1, batch: 1, driver });
  using keptGate = new Gate();
  using abortedGate = new Gate();
  const kept = p.submit<string>("hang", keptGate.input, { transfer: keptGate.transfer });
  const controller = new AbortController();
  const running = p.submit<string>("hang", abortedGate.input, {
    signal: controller.signal,
    transfer: abortedGate.transfer,
  });
  const queuedController = new AbortController();
  const queued = p.submit("square", 2, { signal: queuedController.signal }); // past 2 per worker
  queuedController.abort(new Error("not needed"));
  await assertRejects(() => queued, Error, "not needed");
  await abortedGate.reported("started");
  controller.abort(new Error("stop it"));
  await assertRejects(() => running, Error, "stop it");
  await abortedGate.reported("aborted"); // the job's own signal aborted in the worker
  assertEquals(p.stats().cancelled, 2);
  const report = await p.close({ graceMs: 0 });
  assertEquals(report, { drained: 0, cutOff: 1 });
  await assertRejects(
    () => kept,
    ClosedError,
    "Cannot finish the job as the OffloadPool is closed",
  );
  await assertRejects(
    () => p.submit("square", 1, { signal: AbortSignal.abort() }),
    ClosedError,
    "Cannot submit a job as the OffloadPool is closed",
  );
});

Deno.test("OffloadPool.submit() rejects an already aborted signal with its reason", async () => {
  await using p = pool();
  const reason = new Error("never mind");
  await assertRejects(
    () => p.submit("square", 1, { signal: AbortSignal.abort(reason) }),
    Error,
    "never mind",
  );
  assertEquals([p.stats().cancelled, p.stats().submitted], [1, 0]);
});

Deno.test("OffloadPool.submit() rejects submits past the queue cap instead of buffering them", async () => {
  await using p = pool({ workers: 1, queueCap: 4, batch: 1, name: "small" });
  const accepted = Array.from({ length: 4 }, (_, i) => p.submit<number>("square", i));
  const error = await assertRejects(() => p.submit("square", 9), OffloadQueueFullError);
  assertEquals(error.code, "E_QUEUE_FULL");
  assertEquals([error.pool, error.queueCap], ["small", 4]);
  assertEquals(
    error.message,
    'Cannot submit a job as the queue of offload pool "small" is full: 4 jobs are waiting',
  );
  assertEquals(await Promise.all(accepted), [0, 1, 4, 9]);
  assertEquals(p.stats().rejected, 1);
});

Deno.test("OffloadPool times out an async job and aborts it; the worker is kept", async () => {
  const { clock, driver } = virtualDriver();
  using _driver = driver;
  const logger = recordingLogger();
  await using p = pool({ workers: 1, timeoutMs: 40, driver, logger });
  using gate = new Gate();
  const hung = p.submit("hang", gate.input, { transfer: gate.transfer });
  await gate.reported("started");
  clock.advance(40); // at 40 ms it is not over yet
  assertEquals(p.stats().timedOut, 0);
  clock.advance(10);
  const error = await assertRejects(() => hung, OffloadTimeoutError);
  assertEquals([error.code, error.job, error.timeoutMs], ["E_TIMEOUT", "hang", 40]);
  await gate.reported("aborted"); // the job's signal aborted in the worker
  const stats = p.stats();
  assertEquals([stats.timedOut, stats.workersReplaced, stats.inFlight], [1, 0, 0]);
  assertEquals(
    stats.lastError?.message,
    'Cannot finish job "hang" as it ran over its 40 ms timeout',
  );
  assertEquals(stats.lastError?.atMs, 50);
  assertEquals(await p.submit("square", 5), 25);
  assertEquals(logger.lines, []);
});

Deno.test("OffloadPool replaces a worker stuck in synchronous code and reports it", async () => {
  const { clock, driver } = virtualDriver();
  using _driver = driver;
  const logger = recordingLogger();
  await using p = pool({ workers: 1, timeoutMs: 40, driver, logger });
  // Disposed first: releases the old thread in case terminate() could not stop it.
  using gate = new Gate();
  const stuck = p.submit("block", gate.input, { transfer: gate.transfer });
  await gate.reported("started");
  const behind = p.submit<number>("square", 6); // sent to the same, blocked worker
  clock.advance(10); // the sweep sees the job running from here
  clock.advance(40);
  assertEquals(p.stats().timedOut, 0);
  clock.advance(10);
  await assertRejects(() => stuck, OffloadTimeoutError);
  assertEquals(await behind, 36, "the job behind the stuck one ran on the new worker");
  const stats = p.stats();
  assertEquals([stats.stuckWorkers, stats.workersReplaced, stats.workersAlive], [1, 1, 1]);
  assertEquals(logger.lines.length, 1, logger.lines.join("\n"));
  assertStringIncludes(
    logger.lines[0]!,
    'error: Offload pool "offload" replaced a worker as it was stuck in job "block" for over 40 ms',
  );
});

Deno.test("OffloadPool restarts a crashed worker and fails only the crashed job", async () => {
  const logger = recordingLogger();
  await using p = pool({ workers: 2, logger });
  const crashed = await assertRejects(() => p.submit("crash"), OffloadJobError);
  assertEquals(crashed.code, "E_WORKER_CRASHED");
  assertMatch(
    crashed.message,
    /^Cannot finish job "crash" as its worker crashed: .*boom from a timer/,
  );
  const after = await Promise.all([1, 2, 3, 4].map((n) => p.submit<number>("square", n)));
  assertEquals(after, [1, 4, 9, 16]);
  const stats = p.stats();
  assertEquals([stats.crashed, stats.workersReplaced, stats.workersAlive], [1, 1, 2]);
  assertEquals(stats.lastError?.message, crashed.message);
  assertEquals(logger.lines.length, 1, logger.lines.join("\n"));
  assertMatch(logger.lines[0]!, /^error: Offload pool "offload" replaced a worker as it crashed: /);
});

Deno.test("OffloadPool.close() lets queued work finish, then refuses submits", async () => {
  const { driver } = virtualDriver(); // the grace period never runs out on its own
  using _driver = driver;
  const metrics = new MetricsRegistry();
  const p = pool({ metrics, driver });
  const work = Array.from({ length: 50 }, (_, i) => p.submit<number>("square", i));
  const closing = p.close({ graceMs: 5_000 });
  assertStrictEquals(p.close({ graceMs: 0 }), closing, "a second close returns the same report");
  assertEquals(await closing, { drained: 50, cutOff: 0 });
  assertEquals((await Promise.all(work)).length, 50);
  await assertRejects(() => p.submit("square", 1), ClosedError);
  await p[Symbol.asyncDispose](); // after close: nothing more to do
  const text = metrics.exposeText();
  assertStringIncludes(
    text,
    'chronetix_offload_jobs_total{pool="offload",outcome="completed"} 50\n',
  );
  assertStringIncludes(text, 'chronetix_offload_workers_alive{pool="offload"} 0\n');
  assertStringIncludes(text, 'chronetix_offload_exec_seconds_count{pool="offload"} 50\n');
  assertStringIncludes(text, 'chronetix_offload_queue_wait_seconds_count{pool="offload"} 50\n');
  assert(!text.includes("_p99"), "no quantile gauges");
});

Deno.test("OffloadPool.close() cuts off what is left when graceMs runs out", async () => {
  const { clock, driver } = virtualDriver();
  using _driver = driver;
  const p = pool({ workers: 1, driver });
  using gate = new Gate();
  const hung = p.submit("hang", gate.input, { transfer: gate.transfer });
  await gate.reported("started");
  const closing = p.close({ graceMs: 100 });
  const idle = p.whenIdle();
  clock.advance(100);
  assertEquals(await closing, { drained: 0, cutOff: 1 });
  await idle;
  await assertRejects(() => hung, ClosedError);
  assertEquals(p.stats().workersAlive, 0);
  assertStrictEquals(
    p.close({ graceMs: -1 }),
    closing,
    "once closed, close() only returns the report",
  );
});

Deno.test("OffloadPool.close() rejects a negative graceMs", async () => {
  await using p = pool();
  let error: unknown;
  try {
    await p.close({ graceMs: -1 });
  } catch (e) {
    error = e;
  }
  assertInstanceOf(error, RangeError);
  assertStringIncludes(error.message, "'graceMs'");
});

Deno.test("OffloadPool.whenIdle() resolves once no job is queued or running", async () => {
  await using p = pool();
  await p.whenIdle(); // nothing pending: at once
  let idle = false;
  const results = Array.from({ length: 20 }, (_, i) => p.submit<number>("square", i));
  const waiting = p.whenIdle().then(() => idle = true);
  assertEquals(idle, false);
  await waiting;
  const stats = p.stats();
  assertEquals([stats.completed, stats.queued, stats.inFlight], [20, 0, 0]);
  assertEquals((await Promise.all(results))[19], 361);
});

Deno.test("OffloadPool exports distinct series for two pools on one registry", async () => {
  const metrics = new MetricsRegistry();
  const a = pool({ metrics, name: "a", workers: 1 });
  const b = pool({ metrics, name: "b", workers: 1 });
  await Promise.all([1, 2].map((n) => a.submit("square", n)));
  await Promise.all([1, 2, 3].map((n) => b.submit("square", n)));
  let text = metrics.exposeText(); // both collectors feed their own series
  assertStringIncludes(text, 'chronetix_offload_jobs_total{pool="a",outcome="completed"} 2\n');
  assertStringIncludes(text, 'chronetix_offload_jobs_total{pool="b",outcome="completed"} 3\n');
  await a.close();
  await b.close();
  text = metrics.exposeText();
  assertStringIncludes(text, 'chronetix_offload_exec_seconds_count{pool="a"} 2\n');
  assertStringIncludes(text, 'chronetix_offload_exec_seconds_count{pool="b"} 3\n');
  assertStringIncludes(text, 'chronetix_offload_workers_alive{pool="a"} 0\n');
});

Deno.test("OffloadPool() rejects bad options", () => {
  const bad: [Partial<OffloadPoolOptions>, ErrorConstructor, string][] = [
    [{ jobs: {} }, TypeError, "'jobs' is empty"],
    [{ jobs: { a: 3 as unknown as string } }, TypeError, 'job "a" must be a module URL'],
    [{ workers: 0 }, RangeError, "'workers' must be an integer in [1, 256]"],
    [{ timeoutMs: 0 }, RangeError, "'timeoutMs' must be > 0"],
    [{ queueCap: -1 }, RangeError, "'queueCap' must be an integer"],
    [{ name: "" }, TypeError, "'name'"],
    [
      { logger: (() => {}) as unknown as OffloadPoolOptions["logger"] },
      TypeError,
      "'logger' must be a Logger",
    ],
  ];
  for (const [options, type, text] of bad) {
    let error: unknown;
    try {
      pool(options);
    } catch (e) {
      error = e;
    }
    assertInstanceOf(error, type);
    assertStringIncludes(error.message, text);
  }
});
