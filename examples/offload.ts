/**
 * The offload pool growing under a burst and shrinking when idle, a named
 * export, a job that runs out of heap failing alone, and the stats.
 *
 * Run: `deno run -A examples/offload.ts` (no unstable flag needed). Ends by
 * itself after a few seconds.
 *
 * This file is also the job module: the pool runs its `checksum` and `hog`
 * exports in worker threads.
 *
 * @module
 */
import { OffloadJobError, OffloadPool } from "../mod.ts";

/** A CPU-heavy job: an FNV-1a checksum of `rounds` passes over the input. */
export function checksum({ data, rounds }: { data: Uint8Array; rounds: number }): number {
  let hash = 0x811c9dc5;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < data.length; i++) hash = Math.imul(hash ^ data[i]!, 0x01000193) >>> 0;
  }
  return hash;
}

/** A job that allocates without end: its worker reaches its heap limit. */
export function hog(): never {
  const kept: number[][] = [];
  for (;;) kept.push(new Array(10_000).fill(1.5));
}

function show(pool: OffloadPool, when: string): void {
  const s = pool.stats();
  console.log(
    `${
      when.padEnd(28)
    } workers ${s.workersAlive} (idle ${s.workersIdle}, grown ${s.workersGrown}, shrunk ${s.workersShrunk})  queued ${s.queued}  in flight ${s.inFlight}  utilization ${
      (s.utilizationRatio * 100).toFixed(0)
    }%`,
  );
}

if (import.meta.main) {
  const self = new URL(import.meta.url);
  await using pool = new OffloadPool({
    name: "example",
    jobs: { checksum: new URL("#checksum", self), mod: self },
    minWorkers: 1,
    maxWorkers: 3,
    idleTimeoutMs: 500,
    resourceLimits: { maxHeapMb: 64 },
  });
  show(pool, "started");

  // A burst: 24 jobs of a few ms each. The pool grows while they wait.
  const data = new Uint8Array(64 * 1024).map((_, i) => i * 7);
  const burst = Array.from({ length: 24 }, () => pool.submit("checksum", { data, rounds: 40 }));
  await new Promise((resolve) => setTimeout(resolve, 20));
  show(pool, "during the burst");
  const sums = await Promise.all(burst);
  console.log(`burst done: ${sums.length} checksums, all equal: ${new Set(sums).size === 1}`);

  // A named export of a registered module: "<job>#<export>".
  const one = await pool.submit<number>("mod#checksum", { data, rounds: 1 });
  console.log(`mod#checksum -> 0x${one.toString(16)}`);

  // A job past its worker's heap limit fails alone; the pool replaces the worker.
  try {
    await pool.submit("mod#hog");
  } catch (error) {
    if (!(error instanceof OffloadJobError)) throw error;
    console.log(`mod#hog -> ${error.code}`);
  }
  show(pool, "after the out-of-heap job");

  // Idle past idleTimeoutMs: back to minWorkers.
  while (pool.stats().workersAlive > 1) await new Promise((resolve) => setTimeout(resolve, 100));
  show(pool, "idle");
  const s = pool.stats();
  console.log(
    `completed ${s.completed}, failed ${s.failed}, crashed ${s.crashed}, oomKills ${s.oomKills}, queue wait p50 ${
      s.queueWait.p50.toFixed(2)
    } ms, execution p50 ${s.execution.p50.toFixed(2)} ms`,
  );
}
