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
import { show } from "../../src/internal/validate.ts";

const job = (name: string) => new URL(`./_fixtures/jobs/${name}.ts`, import.meta.url);
const JOBS = {
  square: job("square"),
  fill: job("fill"),
  hang: job("hang"),
  block: job("block"),
  crash: job("crash"),
  fail: job("fail"),
  exit: job("exit"),
  closeSelf: job("close_self"),
  blockLater: job("block_later"),
  env: job("env"),
  oom: job("oom"),
  missing: job("does_not_exist"),
};

function pool(options: Partial<OffloadPoolOptions> = {}): OffloadPool {
  return new OffloadPool({ jobs: JOBS, workers: 2, logger: SILENT_LOGGER, ...options });
}

/**
 * Fails the test instead of hanging it when `promise` never settles: a safety
 * net far beyond any healthy run, not a timing assertion.
 */
async function settles<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const net = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within 60 s`)), 60_000);
  });
  try {
    return await Promise.race([promise, net]);
  } finally {
    clearTimeout(timer);
  }
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
    `Cannot submit job "nope" to offload pool "render" as 'job' is not registered: known jobs are "square", "fill", "hang", "block", "crash", "fail", "exit", "closeSelf", "blockLater", "env", "oom", "missing" (or "<job>#<export>" for a named export of one)`;
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
  // Counted as submitted and cancelled, so that the outcomes add up to the submits.
  assertEquals([p.stats().cancelled, p.stats().submitted], [1, 1]);
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

/** Calls `fn` and returns what it threw (or what its promise rejected with). */
async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error("Expected the call to throw");
}

/** The counters that say what the pool did: none may move on a caller mistake. */
function counters(p: OffloadPool): number[] {
  const s = p.stats();
  return [
    s.submitted,
    s.completed,
    s.failed,
    s.timedOut,
    s.crashed,
    s.cancelled,
    s.rejected,
    s.queued,
    s.inFlight,
  ];
}

Deno.test("OffloadPool() rejects bad options, naming the option", async () => {
  const bad: [unknown, ErrorConstructor, string][] = [
    [null, TypeError, "'options' must be an object: current value is null"],
    [undefined, TypeError, "'options' must be an object: current value is undefined"],
    [5, TypeError, "'options' must be an object"],
    [{ jobs: null }, TypeError, "'jobs' must be an object of job module URLs"],
    [{ jobs: 5 }, TypeError, "'jobs' must be an object of job module URLs"],
    [{ jobs: {} }, TypeError, "'jobs' is empty"],
    [
      { jobs: { a: 3 } },
      TypeError,
      "'jobs' must map each job name to a module URL: job \"a\" is 3",
    ],
    [{ jobs: { a: "" } }, TypeError, "'jobs' must map each job name to a module URL"],
    [{ workers: 0 }, RangeError, "'workers' must be an integer in [1, 256]"],
    [{ workers: 1e9 }, RangeError, "'workers' must be an integer in [1, 256]"],
    [{ workers: 2n }, TypeError, "'workers' must be a finite number: current value is 2n"],
    [{ timeoutMs: 0 }, RangeError, "'timeoutMs' must be > 0"],
    [{ timeoutMs: NaN }, RangeError, "'timeoutMs' must be a finite number: current value is NaN"],
    [{ timeoutMs: Symbol("t") }, TypeError, "'timeoutMs' must be a finite number"],
    [{ queueCap: -1 }, RangeError, "'queueCap' must be an integer"],
    [{ batch: 0.5 }, RangeError, "'batch' must be an integer"],
    [{ name: "" }, TypeError, "'name'"],
    [{ name: Symbol("n") }, TypeError, "'name' must be a non-empty string"],
    [{ logger: () => {} }, TypeError, "'logger' must be a Logger"],
    [{ permissions: 5 }, TypeError, "'permissions' must be"],
    [{ permissions: "all" }, TypeError, "'permissions' must be"],
    [{ permissions: { net: 5 } }, TypeError, "'permissions.net' must be"],
    [{ permissions: { bogus: true } }, TypeError, "'permissions' has an unknown key \"bogus\""],
    [{ permissions: null }, TypeError, "'permissions' must be"],
    [{ driver: {} }, TypeError, "'driver' must be a Driver"],
    [{ metrics: 5 }, TypeError, "'metrics' must be a MetricsRegistry"],
    [{ resourceLimits: 5 }, TypeError, "'resourceLimits' must be an object"],
    [{ resourceLimits: null }, TypeError, "'resourceLimits' must be an object"],
    [{ resourceLimits: { maxHeapMb: 4 } }, RangeError, "'resourceLimits.maxHeapMb' must be"],
    [{ resourceLimits: { maxHeapMb: "64" } }, TypeError, "'resourceLimits.maxHeapMb' must be"],
  ];
  for (const [overrides, type, text] of bad) {
    const options = overrides !== null && typeof overrides === "object"
      ? { jobs: JOBS, logger: SILENT_LOGGER, workers: 1, ...overrides }
      : overrides;
    const error = await thrown(() => new OffloadPool(options as OffloadPoolOptions));
    assertInstanceOf(error, type, `${show(overrides)}: ${error}`);
    assertStringIncludes(error.message, text);
    assertMatch(error.message, /^Cannot create an OffloadPool as /);
  }
});

Deno.test("OffloadPool.submit() rejects a transfer that is not a list of transferables, naming 'transfer'", async () => {
  await using p = pool();
  const buffer = new ArrayBuffer(8);
  const detached = new ArrayBuffer(8);
  structuredClone(detached, { transfer: [detached] });
  const bad: unknown[] = [
    5,
    [5],
    "ab",
    {},
    null,
    [new SharedArrayBuffer(8)],
    [buffer, buffer],
    [detached],
    [new Uint8Array(4)],
  ];
  for (const transfer of bad) {
    const error = await thrown(() =>
      p.submit("square", 3, { transfer: transfer as Transferable[] })
    );
    assertInstanceOf(error, TypeError, show(transfer));
    assertMatch(error.message, /^Cannot submit job "square" as 'transfer' must be /);
  }
  assertEquals(buffer.byteLength, 8, "nothing was transferred");
  assertEquals(counters(p), [0, 0, 0, 0, 0, 0, 0, 0, 0], "nothing was counted or dispatched");
  assertEquals(await p.submit("square", 3), 9, "the pool runs on");
});

Deno.test("OffloadPool.submit() rejects bad arguments cleanly, naming them, and counts nothing", async () => {
  await using p = pool();
  const bad: [() => Promise<unknown>, ErrorConstructor, string][] = [
    [() => p.submit(5 as unknown as string), TypeError, "'job' must be a non-empty string"],
    [() => p.submit(Symbol("s") as unknown as string), TypeError, "'job' must be"],
    [() => p.submit(10n as unknown as string), TypeError, "'job' must be"],
    [() => p.submit("square", () => 3), TypeError, "'input' must be a value that can be cloned"],
    [() => p.submit("square", Symbol("x")), TypeError, "'input' must be a value that can be"],
    [() => p.submit("square", 1, null as never), TypeError, "'options' must be an object"],
    [() => p.submit("square", 1, 5 as never), TypeError, "'options' must be an object"],
    [() => p.submit("square", 1, { signal: {} as never }), TypeError, "'signal' must be an"],
    [() => p.submit("square", 1, { signal: 5 as never }), TypeError, "'signal' must be an"],
  ];
  for (const [call, type, text] of bad) {
    const error = await thrown(call);
    assertInstanceOf(error, type);
    assertStringIncludes(error.message, text);
    assertMatch(error.message, /^Cannot submit /);
  }
  assertEquals(counters(p), [0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assertEquals(p.stats().lastError, undefined, "a caller mistake is the caller's to handle");
  assertEquals(await p.submit("square", 2n), 4n, "a BigInt can be cloned");
});

Deno.test("OffloadPool.submit() fails only the job whose input cannot be cloned, not its batch", async () => {
  await using p = pool({ workers: 1 });
  const [a, b, c] = await Promise.allSettled([
    p.submit<number>("square", 2),
    p.submit<number>("square", { nested: () => 1 }),
    p.submit<number>("square", 3),
  ]);
  assertEquals([a, c], [{ status: "fulfilled", value: 4 }, { status: "fulfilled", value: 9 }]);
  assertEquals(b.status, "rejected");
  const error = (b as PromiseRejectedResult).reason;
  assertInstanceOf(error, TypeError);
  assertMatch(
    error.message,
    /^Cannot submit job "square" as 'input' must be a value that can be cloned/,
  );
  const stats = p.stats();
  assertEquals([stats.submitted, stats.completed, stats.failed], [3, 2, 1]);
});

Deno.test("OffloadPool.close() rejects bad options and stays open", async () => {
  await using p = pool();
  for (
    const [options, type, text] of [
      [null, TypeError, "'options' must be an object"],
      [5, TypeError, "'options' must be an object"],
      [{ graceMs: NaN }, RangeError, "'graceMs' must be a finite number"],
      [{ graceMs: -1 }, RangeError, "'graceMs' must be >= 0"],
      [{ graceMs: 1n }, TypeError, "'graceMs' must be a finite number"],
    ] as const
  ) {
    const error = await thrown(() => p.close(options as never));
    assertInstanceOf(error, type);
    assertStringIncludes(error.message, text);
  }
  assertEquals(await p.submit("square", 7), 49, "still open");
});

Deno.test("OffloadPool fails a job whose worker ends itself at once, as crashed", async (t) => {
  // On a virtual clock that never advances, no timeout can fail these jobs.
  const { driver } = virtualDriver();
  using _driver = driver;
  await using p = pool({ workers: 1, driver });
  await t.step("Deno.exit(3)", async () => {
    const error = await settles(assertRejects(() => p.submit("exit", 3), OffloadJobError), "exit");
    assertEquals(error.code, "E_WORKER_CRASHED");
    assertStringIncludes(error.message, "exited with code 3");
  });
  await t.step("self.close()", async () => {
    const error = await settles(
      assertRejects(() => p.submit("closeSelf"), OffloadJobError),
      "close",
    );
    assertEquals(error.code, "E_WORKER_CRASHED");
    assertStringIncludes(error.message, "exited with code 0");
  });
  assertEquals(await settles(p.submit("square", 5), "square"), 25);
  const stats = p.stats();
  assertEquals([stats.crashed, stats.timedOut, stats.stuckWorkers], [2, 0, 0]);
  assertEquals([stats.workersReplaced, stats.workersAlive], [2, 1]);
});

Deno.test("OffloadPool sends a job to an idle worker rather than behind a busy one", async () => {
  const { driver } = virtualDriver();
  using _driver = driver;
  await using p = pool({ workers: 2, driver });
  using gate = new Gate();
  const blocked = p.submit("block", gate.input, { transfer: gate.transfer });
  const quick = p.submit<number>("square", 3); // in the same tick: one job per idle worker
  assertEquals(await settles(quick, "the first quick job"), 9);
  await gate.reported("started");
  assertEquals(await settles(p.submit<number>("square", 4), "the second quick job"), 16);
  gate.release();
  assertEquals(await blocked, "released");
});

Deno.test("OffloadPool times out an async job while sync jobs keep the worker busy", async () => {
  const { clock, driver } = virtualDriver();
  using _driver = driver;
  await using p = pool({ workers: 1, timeoutMs: 40, driver }); // sweeps every 10 ms
  using hung = new Gate();
  const hanging = p.submit("hang", hung.input, { transfer: hung.transfer });
  const timedOut = assertRejects(() => hanging, OffloadTimeoutError);
  await hung.reported("started");
  // A different sync job runs at every sweep, as on a busy worker.
  for (let i = 0; i < 6 && p.stats().timedOut === 0; i++) {
    using gate = new Gate();
    const busy = p.submit("block", gate.input, { transfer: gate.transfer });
    await gate.reported("started");
    clock.advance(10);
    gate.release();
    await busy;
  }
  const error = await settles(timedOut, "the hung job");
  assertEquals(error.job, "hang");
  await hung.reported("aborted");
  assertEquals([p.stats().timedOut, p.stats().workersReplaced], [1, 0]);
});

Deno.test("OffloadPool replaces a worker that stopped answering (an async job blocking it)", async () => {
  const { clock, driver } = virtualDriver();
  using _driver = driver;
  const logger = recordingLogger();
  await using p = pool({ workers: 1, timeoutMs: 40, driver, logger });
  using gate = new Gate();
  const stuck = p.submit("blockLater", gate.input, { transfer: gate.transfer });
  await gate.reported("started"); // blocked in a continuation: no job on record runs
  clock.advance(50);
  await assertRejects(() => stuck, OffloadTimeoutError);
  assertEquals(p.stats().workersReplaced, 0, "the abort may still be answered");
  clock.advance(50);
  const stats = p.stats();
  assertEquals([stats.workersReplaced, stats.stuckWorkers, stats.workersAlive], [1, 1, 1]);
  assertEquals(await settles(p.submit("square", 8), "a job on the new worker"), 64);
  assertEquals(logger.lines.length, 1, logger.lines.join("\n"));
  assertMatch(logger.lines[0]!, /replaced a worker as it stopped answering for over 40 ms/);
});

Deno.test("OffloadPool runs jobs with only the permissions asked for, and contains them too", async () => {
  const logger = recordingLogger();
  const fixtures = new URL("./_fixtures/", import.meta.url);
  await using p = pool({
    workers: 1,
    permissions: { read: [fixtures] },
    resourceLimits: { maxHeapMb: 32 },
    logger,
  });
  assertEquals(await p.submit("env"), "prompt", "no env permission in the job worker");
  assertEquals(
    Deno.permissions.querySync({ name: "env" }).state,
    "granted",
    "the test keeps its own",
  );
  const oom = await settles(assertRejects(() => p.submit("oom"), OffloadJobError), "oom");
  assertEquals(oom.code, "E_WORKER_OUT_OF_MEMORY");
  assertEquals(
    oom.message,
    "Cannot finish job \"oom\" as its worker ran out of heap: the limit is 32 MB ('resourceLimits.maxHeapMb')",
  );
  const exit = await settles(assertRejects(() => p.submit("exit", 3), OffloadJobError), "exit");
  assertEquals(exit.code, "E_WORKER_CRASHED");
  assertEquals(await p.submit("square", 6), 36);
  const stats = p.stats();
  assertEquals([stats.oomKills, stats.crashed, stats.workersReplaced], [1, 2, 2]);
  assertEquals(logger.lines, [
    'error: Offload pool "offload" replaced a worker as it ran out of heap (the limit is 32 MB)',
    'error: Offload pool "offload" replaced a worker as it exited with code 3',
  ]);
});

Deno.test("OffloadPool runs jobs on a closed driver: nothing escapes its dispatch", async () => {
  // Arming the timeout sweep throws on a closed driver; before, that error
  // escaped the dispatch microtask and ended the process.
  const { driver } = virtualDriver();
  driver.close();
  const logger = recordingLogger();
  const p = pool({ workers: 1, driver, logger });
  assertEquals(await p.submit("square", 2), 4);
  assertStringIncludes(p.stats().lastError?.message ?? "", "closed");
  assertEquals(logger.lines.length, 1, logger.lines.join("\n"));
  using gate = new Gate();
  const hung = p.submit("hang", gate.input, { transfer: gate.transfer });
  await gate.reported("started");
  // No timer can end the grace period: what is left is cut off at once.
  assertEquals(await p.close({ graceMs: 60_000 }), { drained: 0, cutOff: 1 });
  await assertRejects(() => hung, ClosedError);
});
