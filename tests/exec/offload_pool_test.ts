// The offload pool with real module Workers and real job modules.
import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import { ClosedError } from "../../src/errors.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import {
  OffloadJobError,
  OffloadPool,
  type OffloadPoolOptions,
  OffloadQueueFullError,
  OffloadTimeoutError,
} from "../../src/exec/offload_pool.ts";

const job = (name: string) => new URL(`./_fixtures/jobs/${name}.ts`, import.meta.url);
const JOBS = {
  square: job("square"),
  fill: job("fill"),
  slow: job("slow"),
  busy: job("busy"),
  crash: job("crash"),
  fail: job("fail"),
};

function pool(options: Partial<OffloadPoolOptions> = {}): OffloadPool {
  return new OffloadPool({ jobs: JOBS, workers: 2, logger: () => {}, ...options });
}

Deno.test("OffloadPool runs jobs in workers and returns their results in order of submission", async () => {
  await using p = pool();
  const results = await Promise.all(
    Array.from({ length: 500 }, (_, i) => p.submit<number>("square", i)),
  );
  assertEquals(results, Array.from({ length: 500 }, (_, i) => i * i));
  const stats = p.stats();
  assertEquals(stats.completed, 500);
  assertEquals(stats.workersAlive, 2);
  assertEquals(stats.execution.count, 500);
});

Deno.test("OffloadPool transfers buffers both ways", async () => {
  await using p = pool();
  const buffer = new ArrayBuffer(1 << 20);
  const result = await p.submit<Uint8Array>("fill", { buffer, value: 7 }, { transfer: [buffer] });
  assertEquals(buffer.byteLength, 0, "the input was transferred, not copied");
  assertEquals(result.length, 1 << 20);
  assertEquals(result[12345], 7);
});

Deno.test("OffloadPool reports a throwing job as that job's failure; the worker stays", async () => {
  await using p = pool();
  const error = await assertRejects(() => p.submit("fail", "bad input"), OffloadJobError);
  assertEquals(error.code, "E_JOB_FAILED");
  assertEquals(error.message, 'Job "fail" failed: bad input');
  assertEquals(await p.submit("square", 3), 9);
  assertEquals(p.stats().workersReplaced, 0);
});

Deno.test("OffloadPool cancels a queued job and aborts a running one", async () => {
  await using p = pool({ workers: 1, batch: 1 });
  const running = p.submit<string>("slow", 10_000);
  const controller = new AbortController();
  const queuedController = new AbortController();
  const runningAbort = p.submit<string>("slow", 10_000, { signal: controller.signal });
  const queued = p.submit("square", 2, { signal: queuedController.signal });
  queuedController.abort(new Error("not needed"));
  await assertRejects(() => queued, Error, "not needed");
  await new Promise((resolve) => setTimeout(resolve, 50));
  controller.abort(new Error("stop it"));
  await assertRejects(() => runningAbort, Error, "stop it");
  const stats = p.stats();
  assertEquals(stats.cancelled, 2);
  const report = await p.close({ deadlineMs: 0 });
  assertEquals(report.cutOff, 1);
  await assertRejects(
    () => running,
    ClosedError,
    "Cannot finish the job as the OffloadPool is closed",
  );
});

Deno.test("OffloadPool rejects submits past the queue cap instead of buffering them", async () => {
  await using p = pool({ workers: 1, queueCap: 4, batch: 1 });
  const accepted = Array.from({ length: 4 }, (_, i) => p.submit<number>("square", i));
  const error = await assertRejects(() => p.submit("square", 9), OffloadQueueFullError);
  assertEquals(error.code, "E_QUEUE_FULL");
  assertEquals(
    error.message,
    "Cannot submit a job as the offload queue is full: 4 jobs are waiting",
  );
  assertEquals(await Promise.all(accepted), [0, 1, 4, 9]);
  assertEquals(p.stats().rejected, 1);
  await assertRejects(
    () => p.submit("nope", 1),
    TypeError,
    'Cannot submit job "nope" as it is not registered',
  );
});

Deno.test("OffloadPool times out an async job and aborts it; the worker is kept", async () => {
  await using p = pool({ workers: 1, timeoutMs: 40 });
  const error = await assertRejects(() => p.submit("slow", 10_000), OffloadTimeoutError);
  assertEquals(error.code, "E_TIMEOUT");
  assertEquals(p.stats().timedOut, 1);
  assertEquals(p.stats().workersReplaced, 0);
  assertEquals(await p.submit("square", 5), 25);
});

Deno.test("OffloadPool replaces a worker stuck in synchronous code and reports it", async () => {
  const lines: string[] = [];
  await using p = pool({ workers: 1, timeoutMs: 40, logger: (line) => lines.push(line) });
  const stuck = p.submit("busy", 400);
  const behind = p.submit<number>("square", 6); // queued behind it on the same worker
  await assertRejects(() => stuck, OffloadTimeoutError);
  assertEquals(await behind, 36, "the job behind the stuck one ran on the new worker");
  const stats = p.stats();
  assertEquals(stats.stuckWorkers, 1);
  assertEquals(stats.workersReplaced, 1);
  assertEquals(stats.workersAlive, 1);
  assert(lines.some((l) => l.includes('stuck in job "busy"')), lines.join("\n"));
});

Deno.test("OffloadPool restarts a crashed worker and fails only the crashed job", async () => {
  const lines: string[] = [];
  await using p = pool({ workers: 2, logger: (line) => lines.push(line) });
  const crashed = await assertRejects(() => p.submit("crash"), OffloadJobError);
  assertEquals(crashed.code, "E_WORKER_CRASHED");
  assert(crashed.message.includes("boom from a timer"), crashed.message);
  const after = await Promise.all([1, 2, 3, 4].map((n) => p.submit<number>("square", n)));
  assertEquals(after, [1, 4, 9, 16]);
  const stats = p.stats();
  assertEquals(stats.crashed, 1);
  assertEquals(stats.workersReplaced, 1);
  assertEquals(stats.workersAlive, 2);
  assert(lines[0]!.includes("crashed"), lines[0]);
});

Deno.test("OffloadPool.close() drains queued work, then refuses submits", async () => {
  const metrics = new MetricsRegistry();
  const p = pool({ metrics });
  const work = Array.from({ length: 50 }, (_, i) => p.submit<number>("square", i));
  const report = await p.close({ deadlineMs: 5_000 });
  assertEquals(report, { drained: 50, cutOff: 0 });
  assertEquals((await Promise.all(work)).length, 50);
  await assertRejects(() => p.submit("square", 1), ClosedError);
  const text = metrics.exposeText();
  assert(text.includes('chronetix_offload_jobs_total{outcome="completed"} 50'), text);
  assert(text.includes("chronetix_offload_workers_alive 0"), text);
});

Deno.test("OffloadPool() rejects bad options", () => {
  const bad: [Partial<OffloadPoolOptions>, ErrorConstructor, string][] = [
    [{ jobs: {} }, TypeError, "'jobs' is empty"],
    [{ jobs: { a: 3 as unknown as string } }, TypeError, 'job "a" must be a module URL'],
    [{ workers: 0 }, RangeError, "'workers' must be an integer in [1, 256]"],
    [{ timeoutMs: 0 }, RangeError, "'timeoutMs' must be > 0"],
    [{ queueCap: -1 }, RangeError, "'queueCap' must be an integer"],
  ];
  for (const [options, type, text] of bad) {
    let error: unknown;
    try {
      pool(options);
    } catch (e) {
      error = e;
    }
    assertInstanceOf(error, type);
    assert((error as Error).message.includes(text), (error as Error).message);
  }
});
