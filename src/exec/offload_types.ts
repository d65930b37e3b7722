// The public types of the offload pool: its options, its stats snapshot, and
// what closing it reports. The pool itself is in offload_pool.ts.

import type { ErrorRecord } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import type { Driver } from "../time/driver.ts";
import type { LatencySnapshot } from "../time/latency_histogram.ts";

/** Options of an {@linkcode OffloadPool}. */
export interface OffloadPoolOptions {
  /**
   * The registered jobs: name to module URL. A job module's default export
   * is `(input, { signal }) => result` (sync or async). A URL ending in
   * `#name` runs that named export instead, and `submit("<job>#<export>")`
   * runs any named export of a registered job's module.
   */
  jobs: Record<string, string | URL>;
  /**
   * Workers kept running even when idle; the pool starts with this many.
   *
   * @default {1, or `maxWorkers` when that is lower}
   */
  minWorkers?: number;
  /**
   * Workers at most: while jobs wait and no worker is idle, the pool starts
   * another, up to this many (counted in `workersGrown`).
   *
   * @default {the number of cores minus one, at least 1 and at least `minWorkers`}
   */
  maxWorkers?: number;
  /**
   * A worker idle this long is stopped while more than `minWorkers` run
   * (counted in `workersShrunk`), on the driver's clock. Milliseconds;
   * `Infinity` never shrinks.
   *
   * @default {30000}
   */
  idleTimeoutMs?: number;
  /**
   * A fixed number of workers: the same as `minWorkers` and `maxWorkers`
   * both set to it. Not allowed together with either.
   *
   * @deprecated Use `minWorkers` and `maxWorkers`.
   */
  workers?: number;
  /**
   * Jobs that may wait for a worker; `submit()` past it rejects with
   * {@linkcode OffloadQueueFullError}.
   *
   * @default {1024}
   */
  queueCap?: number;
  /**
   * A job running longer than this fails with {@linkcode OffloadTimeoutError}
   * (a job can set its own, `SubmitOptions.timeoutMs`):
   * an async job is aborted (its `signal`), a worker stuck in synchronous
   * code is replaced, and so is a worker that then does not answer within
   * this time either (an async job blocking it after an await). Milliseconds.
   *
   * @default {30000}
   */
  timeoutMs?: number;
  /**
   * Jobs sent to a worker in one message (and results returned in one).
   *
   * @default {32}
   */
  batch?: number;
  /**
   * Deno permissions of the job workers. Left out (or `"inherit"`), they
   * have the process's permissions and no unstable flag is needed. Scoped
   * permissions (`"none"` or an object) run each job worker inside a Web
   * Worker with those permissions, which needs `--unstable-worker-options`
   * (or `"unstable": ["worker-options"]` in deno.json): without it Deno
   * ends the process with exit code 70 when the pool starts, and no program
   * can tell beforehand whether the flag is on.
   *
   * @default {"inherit"}
   */
  permissions?: "inherit" | "none" | Deno.PermissionOptionsObject;
  /**
   * Limits of each job worker. A job that allocates past `maxHeapMb` kills
   * only its worker: the job fails with `OffloadJobError` code
   * `E_WORKER_OUT_OF_MEMORY`, the worker is replaced and counted in
   * `oomKills`. Memory outside the JavaScript heap (`ArrayBuffer` contents)
   * is not capped. The pool's own JavaScript heap is bounded by
   * `maxWorkers` times `maxHeapMb`.
   */
  resourceLimits?: {
    /**
     * The job worker's JavaScript heap cap (V8's old generation), MB, an
     * integer in [16, 65536]. Below about 5 MB a worker cannot even start.
     *
     * @default {512}
     */
    maxHeapMb?: number;
  };
  /** The driver for timeout checks; the pool makes an `efficient` one when left out. */
  driver?: Driver;
  /** Registry to export `chronetix_offload_*` metrics into, labelled `pool="<name>"`. */
  metrics?: MetricsRegistry;
  /**
   * The pool's name: its metrics label and the name in its log lines. Give
   * two pools on one registry different names.
   *
   * @default {"offload"}
   */
  name?: string;
  /**
   * Where problems are reported (a worker replaced after a crash, after it
   * ended itself, ran out of heap, got stuck or stopped answering; a job
   * module that fails to load; a job name that is not registered), each
   * kind at most once per 10 s.
   *
   * @default {CONSOLE_LOGGER}
   */
  logger?: Logger;
}

/** Options of {@linkcode OffloadPool.submit}. */
export interface SubmitOptions {
  /** Cancels the job: removed if it waits, aborted (its `signal`) if it runs. */
  signal?: AbortSignal;
  /**
   * Objects of the input to transfer rather than copy: `ArrayBuffer`s (not
   * shared, not detached, each once) and `MessagePort`s.
   */
  transfer?: Transferable[];
  /**
   * This job's timeout instead of the pool's `timeoutMs`, ms: past it the
   * job fails with {@linkcode OffloadTimeoutError} the same way.
   *
   * @default {the pool's `timeoutMs`}
   */
  timeoutMs?: number;
}

/** A snapshot of an {@linkcode OffloadPool}. */
export interface OffloadStats {
  /** Workers running: the pool's size, from `minWorkers` to `maxWorkers`. */
  workersAlive: number;
  /** Workers running with no job sent to them. */
  workersIdle: number;
  /** Workers started because jobs waited and none was idle. */
  workersGrown: number;
  /** Workers stopped after `idleTimeoutMs` idle. */
  workersShrunk: number;
  /**
   * The share of worker time spent with at least one job, since the pool
   * started: busy worker-milliseconds over running worker-milliseconds, on
   * the driver's clock, in [0, 1].
   */
  utilizationRatio: number;
  /** Workers replaced after a crash or a timeout. */
  workersReplaced: number;
  /**
   * Workers replaced because they were stuck in synchronous code past the
   * timeout, or stopped answering messages: Deno cannot stop such a thread,
   * so each may still run on (a zombie), but it no longer keeps the process
   * from exiting.
   */
  stuckWorkers: number;
  /** Workers that reached their heap limit (`resourceLimits.maxHeapMb`) and were replaced. */
  oomKills: number;
  /** Jobs waiting for a worker. */
  queued: number;
  /** Jobs sent to workers and not finished. */
  inFlight: number;
  /**
   * Jobs submitted with valid arguments to an open pool, refused ones
   * included: `submitted = completed + failed + timedOut + crashed +
   * cancelled + rejected + queued + inFlight` at all times. A submit with a
   * bad argument (or of an unknown job) counts nowhere.
   */
  submitted: number;
  /** Jobs that returned a result. */
  completed: number;
  /**
   * Jobs that threw or rejected in the worker, whose module failed to load,
   * or whose input could not be sent to a worker.
   */
  failed: number;
  /** Jobs over `timeoutMs`. */
  timedOut: number;
  /** Jobs lost with a worker that died (crashed, ended itself, ran out of heap). */
  crashed: number;
  /** Jobs cancelled by their signal, or cut off by `close()`. */
  cancelled: number;
  /** Submits refused because the queue was full. */
  rejected: number;
  /** Submit to dispatch to a worker, ms. */
  queueWait: LatencySnapshot;
  /** Dispatch to result of jobs that completed or failed, ms. */
  execution: LatencySnapshot;
  /**
   * The last job failure (a job that threw, a module that failed to load, a
   * crash, a timeout, a job name that is not registered), on the driver's clock.
   */
  lastError: ErrorRecord | undefined;
}

/** Options of {@linkcode OffloadPool.close}. */
export interface OffloadCloseOptions {
  /**
   * How long queued and running jobs may still finish, ms; what is left then
   * is rejected with `ClosedError`.
   *
   * @default {the pool's `timeoutMs`}
   */
  graceMs?: number;
}

/** What {@linkcode OffloadPool.close} reports. */
export interface OffloadCloseReport {
  /** Jobs that finished during the grace period. */
  drained: number;
  /** Jobs still waiting or running at its end, rejected with `ClosedError`. */
  cutOff: number;
}
