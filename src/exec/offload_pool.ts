import { ChronetixError, ClosedError } from "../errors.ts";
import { Driver, type Timer } from "../time/driver.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import { exportStats, type StatMetric } from "../metrics/stats_export.ts";
import { requireInteger, requirePositive, show } from "../internal/validate.ts";
import { type OffloadReply, offloadWorkerMain } from "./_offload_worker.ts";
import { LatencyHistogram, type LatencySnapshot } from "../time/latency_histogram.ts";

/** Options of an {@linkcode OffloadPool}. */
export interface OffloadPoolOptions {
  /**
   * The registered jobs: name to module URL. A job module's default export
   * is `(input, { signal }) => result` (sync or async).
   */
  jobs: Record<string, string | URL>;
  /**
   * Worker threads.
   *
   * @default {the number of cores minus one, at least 1}
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
   * and its worker is replaced. Milliseconds.
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
  /** Deno permissions of the workers. @default {"inherit"} */
  permissions?: "inherit" | "none" | Deno.PermissionOptionsObject;
  /** The driver for timeout checks; the pool makes an `efficient` one when left out. */
  driver?: Driver;
  /** Registry to export `chronetix_offload_*` metrics into. */
  metrics?: MetricsRegistry;
  /** Where problems (a worker replaced, a stuck worker) are reported. @default {console.error} */
  logger?: (line: string) => void;
}

/** Options of {@linkcode OffloadPool.submit}. */
export interface SubmitOptions {
  /** Cancels the job: removed if it waits, aborted (its `signal`) if it runs. */
  signal?: AbortSignal;
  /** Buffers of the input to transfer rather than copy. */
  transfer?: Transferable[];
}

/** A snapshot of an {@linkcode OffloadPool}. */
export interface OffloadStats {
  /** Workers running. */
  workersAlive: number;
  /** Workers replaced after a crash or a timeout. */
  workersReplaced: number;
  /** Timed-out workers that could not be stopped (stuck in synchronous code). */
  stuckWorkers: number;
  /** Jobs waiting for a worker. */
  queued: number;
  /** Jobs sent to workers and not finished. */
  inFlight: number;
  /** Jobs submitted. */
  submitted: number;
  /** Jobs that returned a result. */
  completed: number;
  /** Jobs that threw or rejected in the worker. */
  failed: number;
  /** Jobs over `timeoutMs`. */
  timedOut: number;
  /** Jobs lost with a crashed worker. */
  crashed: number;
  /** Jobs cancelled by their signal. */
  cancelled: number;
  /** Submits refused because the queue was full. */
  rejected: number;
  /** Submit to dispatch to a worker, ms. */
  queueWait: LatencySnapshot;
  /** Dispatch to result, ms. */
  execution: LatencySnapshot;
}

/** What {@linkcode OffloadPool.close} reports. */
export interface OffloadCloseReport {
  /** Jobs that finished during the drain. */
  drained: number;
  /** Jobs still waiting or running at the deadline, rejected with `ClosedError`. */
  cutOff: number;
}

/** Thrown (as a rejection) when the queue is full: backpressure, not a bug. */
export class OffloadQueueFullError extends ChronetixError {
  /** The queue cap that was reached. */
  readonly queueCap: number;
  /**
   * Creates the error.
   *
   * @param queueCap The cap that was reached.
   */
  constructor(queueCap: number) {
    super(
      "E_QUEUE_FULL",
      `Cannot submit a job as the offload queue is full: ${queueCap} jobs are waiting`,
    );
    this.name = "OffloadQueueFullError";
    this.queueCap = queueCap;
  }
}

/** Thrown (as a rejection) when a job runs past its timeout. */
export class OffloadTimeoutError extends ChronetixError {
  /** The job's name. */
  readonly job: string;
  /**
   * Creates the error.
   *
   * @param job The job's name.
   * @param timeoutMs The timeout it exceeded.
   */
  constructor(job: string, timeoutMs: number) {
    super("E_TIMEOUT", `Cannot finish job "${job}" as it ran over its ${timeoutMs} ms timeout`);
    this.name = "OffloadTimeoutError";
    this.job = job;
  }
}

/** Thrown (as a rejection) when a job throws in its worker, or its worker dies. */
export class OffloadJobError extends ChronetixError {
  /** The job's name. */
  readonly job: string;
  /**
   * Creates the error.
   *
   * @param code `E_JOB_FAILED` or `E_WORKER_CRASHED`.
   * @param job The job's name.
   * @param message What happened.
   */
  constructor(code: "E_JOB_FAILED" | "E_WORKER_CRASHED", job: string, message: string) {
    super(code, message);
    this.name = "OffloadJobError";
    this.job = job;
  }
}

interface JobRecord {
  id: number;
  job: string;
  url: string;
  input: unknown;
  transfer: Transferable[] | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  submittedAt: number;
  sentAt: number;
  slot: WorkerSlot | undefined;
}

interface WorkerSlot {
  worker: Worker;
  current: Int32Array;
  inFlight: Map<number, JobRecord>;
  /** The job seen running at the last sweep, and since when. */
  seenId: number;
  seenSince: number;
  dead: boolean;
}

/** An absolute URL as is; a relative path against the working directory. */
function resolveJobUrl(url: string | URL): string {
  if (url instanceof URL) return url.href;
  try {
    return new URL(url).href;
  } catch {
    return new URL(url, `file://${Deno.cwd()}/`).href;
  }
}

let workerUrl: string | undefined;
function offloadWorkerUrl(): string {
  workerUrl ??= URL.createObjectURL(
    new Blob(
      [
        `const main = ${offloadWorkerMain.toString()};\n` +
        `self.onmessage = (e) => main(new Int32Array(e.data));\n`,
      ],
      { type: "text/javascript" },
    ),
  );
  return workerUrl;
}

/**
 * Runs CPU-heavy jobs in module Workers, off the kernel's thread. Jobs are
 * registered modules (name to URL); `submit(job, input)` resolves with the
 * job's result. The queue is bounded: past `queueCap`, `submit()` rejects
 * with {@linkcode OffloadQueueFullError} instead of buffering without limit.
 * Jobs go to workers in batches and results come back in batches, so a
 * busy pool pays one message per batch, not per job.
 *
 * A job can be cancelled with an `AbortSignal`, input buffers transferred,
 * and every job has a timeout. A worker that crashes is replaced and only
 * the job it was running fails (the others it held are re-queued). A job
 * over its timeout fails and its worker is replaced; Deno cannot stop a
 * worker stuck in synchronous code, so such a worker is reported (logged
 * and counted in `stuckWorkers`), not silently kept.
 *
 * @example Squaring numbers in a worker
 * ```ts
 * import { OffloadPool } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * // Usually a file: new URL("./jobs/square.ts", import.meta.url), whose
 * // default export is (n: number) => n * n.
 * const square = "data:text/javascript,export default (n) => n * n;";
 * await using pool = new OffloadPool({ jobs: { square }, workers: 1 });
 * const results = await Promise.all([1, 2, 3].map((n) => pool.submit<number>("square", n)));
 * assertEquals(results, [1, 4, 9]);
 * assertEquals(pool.stats().completed, 3);
 * ```
 */
export class OffloadPool {
  readonly #jobs: Map<string, string>;
  readonly #size: number;
  readonly #queueCap: number;
  readonly #timeoutMs: number;
  readonly #batch: number;
  readonly #permissions: "inherit" | "none" | Deno.PermissionOptionsObject;
  readonly #driver: Driver;
  readonly #ownsDriver: boolean;
  readonly #logger: (line: string) => void;
  readonly #slots: WorkerSlot[] = [];
  readonly #queue: JobRecord[] = [];
  #queueHead = 0;
  #nextId = 1;
  #dispatchScheduled = false;
  #sweep: Timer | undefined;
  #closed = false;
  #inFlight = 0;
  #idleWaiters: (() => void)[] = [];
  readonly #counts = {
    submitted: 0,
    completed: 0,
    failed: 0,
    timedOut: 0,
    crashed: 0,
    cancelled: 0,
    rejected: 0,
    replaced: 0,
    stuck: 0,
  };
  readonly #queueWait = new LatencyHistogram();
  readonly #execution = new LatencyHistogram();
  #metrics: Disposable | undefined;

  /**
   * Creates the pool and starts its workers.
   *
   * @param options Jobs, worker count, queue cap, timeout, batch size, metrics.
   * @throws {TypeError} when `jobs` is empty or a job URL is not a string or URL.
   * @throws {RangeError} when a count or the timeout is out of range.
   */
  constructor(options: OffloadPoolOptions) {
    const action = "create an OffloadPool";
    if (options === null || typeof options !== "object" || typeof options.jobs !== "object") {
      throw new TypeError(`Cannot ${action} as 'jobs' must be an object of job URLs`);
    }
    this.#jobs = new Map();
    for (const [name, url] of Object.entries(options.jobs)) {
      if (typeof url !== "string" && !(url instanceof URL)) {
        throw new TypeError(
          `Cannot ${action} as job "${name}" must be a module URL: current value is ${show(url)}`,
        );
      }
      this.#jobs.set(name, resolveJobUrl(url));
    }
    if (this.#jobs.size === 0) {
      throw new TypeError(`Cannot ${action} as 'jobs' is empty: register at least one job module`);
    }
    const cores = navigator.hardwareConcurrency ?? 2;
    this.#size = requireInteger(
      action,
      "workers",
      options.workers ?? Math.max(1, cores - 1),
      1,
      256,
    );
    this.#queueCap = requireInteger(action, "queueCap", options.queueCap ?? 1024, 1, 2 ** 24);
    this.#timeoutMs = requirePositive(action, "timeoutMs", options.timeoutMs ?? 30_000);
    this.#batch = requireInteger(action, "batch", options.batch ?? 32, 1, 4096);
    this.#permissions = options.permissions ?? "inherit";
    this.#ownsDriver = options.driver === undefined;
    this.#driver = options.driver ?? new Driver({ profile: "efficient" });
    this.#logger = options.logger ?? ((line) => console.error(line));
    for (let i = 0; i < this.#size; i++) this.#slots.push(this.#spawn());
    if (options.metrics !== undefined) {
      this.#metrics = exportStats(options.metrics, undefined, () => this.stats(), POOL_METRICS);
    }
  }

  /** Names of the registered jobs. */
  get jobNames(): string[] {
    return [...this.#jobs.keys()];
  }

  /**
   * Runs a registered job in a worker.
   *
   * @param job The job's name.
   * @param input Its input (structured-cloned, or transferred per `options.transfer`).
   * @param options Cancellation signal and transfer list.
   * @returns The job's result.
   * @throws {OffloadQueueFullError} (as a rejection) when the queue is full.
   * @throws {OffloadTimeoutError} (as a rejection) when the job runs too long.
   * @throws {OffloadJobError} (as a rejection) when the job throws or its worker dies.
   * @throws {ClosedError} (as a rejection) when the pool is closed.
   * @throws {TypeError} (as a rejection) when the job is not registered.
   */
  submit<R = unknown>(job: string, input?: unknown, options: SubmitOptions = {}): Promise<R> {
    if (this.#closed) return Promise.reject(new ClosedError("OffloadPool", "submit a job"));
    const url = this.#jobs.get(job);
    if (url === undefined) {
      return Promise.reject(
        new TypeError(
          `Cannot submit job ${show(job)} as it is not registered: known jobs are ${
            this.jobNames.map((n) => `"${n}"`).join(", ")
          }`,
        ),
      );
    }
    if (options.signal?.aborted === true) {
      this.#counts.cancelled++;
      return Promise.reject(options.signal.reason);
    }
    if (this.#queue.length - this.#queueHead >= this.#queueCap) {
      this.#counts.rejected++;
      return Promise.reject(new OffloadQueueFullError(this.#queueCap));
    }
    const { promise, resolve, reject } = Promise.withResolvers<R>();
    const record: JobRecord = {
      id: this.#nextId++,
      job,
      url,
      input,
      transfer: options.transfer,
      resolve: resolve as (value: unknown) => void,
      reject,
      signal: options.signal,
      onAbort: undefined,
      submittedAt: this.#driver.clock.now(),
      sentAt: 0,
      slot: undefined,
    };
    if (options.signal !== undefined) {
      record.onAbort = () => this.#abort(record);
      options.signal.addEventListener("abort", record.onAbort, { once: true });
    }
    this.#counts.submitted++;
    this.#queue.push(record);
    if (!this.#dispatchScheduled) {
      this.#dispatchScheduled = true;
      queueMicrotask(this.#dispatch);
    }
    return promise;
  }

  /**
   * Takes a snapshot of the pool.
   *
   * @returns The current figures.
   */
  stats(): OffloadStats {
    const c = this.#counts;
    return {
      workersAlive: this.#slots.filter((s) => !s.dead).length,
      workersReplaced: c.replaced,
      stuckWorkers: c.stuck,
      queued: this.#queue.length - this.#queueHead,
      inFlight: this.#inFlight,
      submitted: c.submitted,
      completed: c.completed,
      failed: c.failed,
      timedOut: c.timedOut,
      crashed: c.crashed,
      cancelled: c.cancelled,
      rejected: c.rejected,
      queueWait: this.#queueWait.snapshot(),
      execution: this.#execution.snapshot(),
    };
  }

  /**
   * Stops taking jobs, lets queued and running jobs finish until
   * `deadlineMs`, then rejects what is left with `ClosedError` and stops the
   * workers.
   *
   * @param options How long to let jobs finish.
   * @returns How many jobs finished during the drain and how many were cut off.
   */
  async close(options: { deadlineMs?: number } = {}): Promise<OffloadCloseReport> {
    if (this.#closed) return { drained: 0, cutOff: 0 };
    this.#closed = true;
    const before = this.#counts.completed + this.#counts.failed;
    const deadlineMs = options.deadlineMs ?? this.#timeoutMs;
    if (this.#pending() > 0 && deadlineMs > 0) {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#idleWaiters.push(resolve);
      const timer = this.#driver.after(deadlineMs, () => resolve());
      await promise;
      timer.cancel();
    }
    const drained = this.#counts.completed + this.#counts.failed - before;
    let cutOff = 0;
    const closed = new ClosedError("OffloadPool", "finish the job");
    for (const record of this.#queue.splice(this.#queueHead)) {
      cutOff++;
      this.#settle(record, false, closed);
    }
    this.#queueHead = 0;
    this.#queue.length = 0;
    for (const slot of this.#slots) {
      for (const record of slot.inFlight.values()) {
        cutOff++;
        this.#settle(record, false, closed);
      }
      slot.inFlight.clear();
      slot.dead = true;
      slot.worker.terminate();
    }
    this.#inFlight = 0;
    this.#sweep?.cancel();
    this.#sweep = undefined;
    this.#metrics?.[Symbol.dispose]();
    this.#metrics = undefined;
    if (this.#ownsDriver) this.#driver.close();
    return { drained, cutOff };
  }

  /** Same as {@linkcode OffloadPool.close} with the default deadline. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #pending(): number {
    return this.#queue.length - this.#queueHead + this.#inFlight;
  }

  #spawn(): WorkerSlot {
    const current = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(offloadWorkerUrl(), {
      type: "module",
      name: "chronetix-offload",
      deno: { permissions: this.#permissions },
    } as WorkerOptions);
    const slot: WorkerSlot = {
      worker,
      current,
      inFlight: new Map(),
      seenId: 0,
      seenSince: 0,
      dead: false,
    };
    worker.onmessage = (event: MessageEvent<OffloadReply>) => this.#onReply(slot, event.data);
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#onCrash(slot, event.message);
    };
    worker.postMessage(current.buffer);
    return slot;
  }

  #dispatch = (): void => {
    this.#dispatchScheduled = false;
    if (this.#closed && this.#slots.every((s) => s.dead)) return;
    const now = this.#driver.clock.now();
    const perWorker = this.#batch * 2;
    for (const slot of this.#slots) {
      if (slot.dead) continue;
      while (slot.inFlight.size < perWorker && this.#queueHead < this.#queue.length) {
        const jobs: unknown[] = [];
        let transfer: Transferable[] | undefined;
        const n = Math.min(this.#batch, perWorker - slot.inFlight.size);
        for (let i = 0; i < n && this.#queueHead < this.#queue.length; i++) {
          const record = this.#queue[this.#queueHead++]!;
          record.sentAt = now;
          record.slot = slot;
          slot.inFlight.set(record.id, record);
          this.#inFlight++;
          this.#queueWait.record(now - record.submittedAt);
          jobs.push(record.id, record.url, record.input);
          if (record.transfer !== undefined) (transfer ??= []).push(...record.transfer);
        }
        try {
          slot.worker.postMessage({ t: "run", jobs }, transfer ?? []);
        } catch (error) {
          // An input that cannot be cloned fails its batch, not the pool.
          for (let i = 0; i < jobs.length; i += 3) {
            const record = slot.inFlight.get(jobs[i] as number)!;
            this.#release(record);
            this.#counts.failed++;
            this.#settle(record, false, error);
          }
        }
      }
    }
    if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
    this.#armSweep();
  };

  #onReply(slot: WorkerSlot, reply: OffloadReply): void {
    const now = this.#driver.clock.now();
    const results = reply.results;
    for (let i = 0; i < results.length; i += 3) {
      const record = slot.inFlight.get(results[i] as number);
      if (record === undefined) continue; // timed out or cancelled meanwhile
      this.#release(record);
      this.#execution.record(now - record.sentAt);
      if (results[i + 1] === 1) {
        this.#counts.completed++;
        this.#settle(record, true, results[i + 2]);
      } else {
        this.#counts.failed++;
        this.#settle(
          record,
          false,
          new OffloadJobError(
            "E_JOB_FAILED",
            record.job,
            `Job "${record.job}" failed: ${results[i + 2]}`,
          ),
        );
      }
    }
    this.#afterProgress();
  }

  #onCrash(slot: WorkerSlot, message: string): void {
    if (slot.dead) return;
    const running = Atomics.load(slot.current, 0);
    // The job running synchronously when it died is the culprit; without one,
    // the crash cannot be attributed and every job it held fails.
    const culprit = running !== 0 && slot.inFlight.has(running) ? running : undefined;
    this.#replace(slot, `crashed (${message})`);
    for (const record of [...slot.inFlight.values()]) {
      this.#release(record);
      if (culprit === undefined || record.id === culprit) {
        this.#counts.crashed++;
        this.#settle(
          record,
          false,
          new OffloadJobError(
            "E_WORKER_CRASHED",
            record.job,
            `Job "${record.job}" failed as its worker crashed: ${message}`,
          ),
        );
      } else {
        this.#requeue(record);
      }
    }
    this.#afterProgress();
  }

  #checkTimeouts = (): void => {
    const now = this.#driver.clock.now();
    for (const slot of [...this.#slots]) {
      if (slot.dead || slot.inFlight.size === 0) continue;
      const running = Atomics.load(slot.current, 0);
      if (running !== slot.seenId) {
        slot.seenId = running;
        slot.seenSince = now;
        continue;
      }
      if (running === 0) {
        // Nothing synchronous is running: time async jobs from their dispatch.
        for (const record of [...slot.inFlight.values()]) {
          if (now - record.sentAt > this.#timeoutMs) this.#timeOut(slot, record, false);
        }
        continue;
      }
      if (now - slot.seenSince > this.#timeoutMs) {
        const record = slot.inFlight.get(running);
        if (record !== undefined) this.#timeOut(slot, record, true);
      }
    }
    this.#afterProgress();
  };

  #timeOut(slot: WorkerSlot, record: JobRecord, stuck: boolean): void {
    this.#release(record);
    this.#counts.timedOut++;
    this.#settle(record, false, new OffloadTimeoutError(record.job, this.#timeoutMs));
    if (!stuck) {
      slot.worker.postMessage({ t: "abort", id: record.id });
      return;
    }
    // Synchronous code that overran cannot be interrupted: replace the worker.
    this.#counts.stuck++;
    this.#replace(
      slot,
      `stuck in job "${record.job}" for over ${this.#timeoutMs} ms; Deno cannot stop a worker in synchronous code, so its thread may keep running`,
    );
    for (const other of [...slot.inFlight.values()]) {
      this.#release(other);
      this.#requeue(other);
    }
  }

  #replace(slot: WorkerSlot, why: string): void {
    slot.dead = true;
    slot.worker.terminate();
    this.#counts.replaced++;
    this.#logger(`Offload worker replaced: it ${why}`);
    const index = this.#slots.indexOf(slot);
    if (!this.#closed && index >= 0) this.#slots[index] = this.#spawn();
  }

  #requeue(record: JobRecord): void {
    record.slot = undefined;
    this.#queue.splice(this.#queueHead, 0, record);
  }

  #release(record: JobRecord): void {
    if (record.slot?.inFlight.delete(record.id) === true) this.#inFlight--;
    record.slot = undefined;
  }

  #abort(record: JobRecord): void {
    const slot = record.slot;
    if (slot !== undefined) {
      this.#release(record);
      slot.worker.postMessage({ t: "abort", id: record.id });
    } else {
      const i = this.#queue.indexOf(record, this.#queueHead);
      if (i < 0) return;
      this.#queue.splice(i, 1);
    }
    this.#counts.cancelled++;
    this.#settle(record, false, record.signal!.reason);
    this.#afterProgress();
  }

  #settle(record: JobRecord, ok: boolean, value: unknown): void {
    if (record.onAbort !== undefined) {
      record.signal!.removeEventListener("abort", record.onAbort);
      record.onAbort = undefined;
    }
    if (ok) record.resolve(value);
    else record.reject(value);
  }

  #afterProgress(): void {
    if (this.#queueHead < this.#queue.length && !this.#dispatchScheduled) {
      this.#dispatchScheduled = true;
      queueMicrotask(this.#dispatch);
    }
    if (this.#pending() === 0) {
      this.#sweep?.cancel();
      this.#sweep = undefined;
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }

  #armSweep(): void {
    if (this.#sweep !== undefined || this.#inFlight === 0) return;
    const every = Math.min(1000, Math.max(5, this.#timeoutMs / 4));
    this.#sweep = this.#driver.every(every, this.#checkTimeouts, {
      latenessClass: "offload-sweep",
    });
  }
}

function quantile(
  what: string,
  help: string,
  q: "p50" | "p99",
  value: (s: OffloadStats) => LatencySnapshot,
): StatMetric<OffloadStats> {
  return {
    name: `chronetix_offload_${what}_${q}_seconds`,
    help: `${help}, ${q}`,
    type: "gauge",
    unit: "seconds",
    value: (s) => value(s)[q] / 1000,
  };
}

const OUTCOMES: [string, keyof OffloadStats][] = [
  ["completed", "completed"],
  ["failed", "failed"],
  ["timeout", "timedOut"],
  ["crashed", "crashed"],
  ["cancelled", "cancelled"],
  ["rejected", "rejected"],
];

const POOL_METRICS: readonly StatMetric<OffloadStats>[] = [
  {
    name: "chronetix_offload_queue_depth",
    help: "Offload jobs waiting for a worker",
    type: "gauge",
    value: (s) => s.queued,
  },
  {
    name: "chronetix_offload_in_flight",
    help: "Offload jobs sent to workers and not finished",
    type: "gauge",
    value: (s) => s.inFlight,
  },
  {
    name: "chronetix_offload_workers_alive",
    help: "Offload workers running",
    type: "gauge",
    value: (s) => s.workersAlive,
  },
  {
    name: "chronetix_offload_stuck_workers",
    help: "Timed-out offload workers that could not be stopped (stuck in synchronous code)",
    type: "gauge",
    value: (s) => s.stuckWorkers,
  },
  ...OUTCOMES.map(([outcome, key]): StatMetric<OffloadStats> => ({
    name: "chronetix_offload_jobs_total",
    help: "Offload jobs by outcome (completed, failed, timeout, crashed, cancelled, rejected)",
    type: "counter",
    extra: ["outcome", outcome],
    value: (s) => s[key] as number,
  })),
  {
    name: "chronetix_offload_workers_replaced_total",
    help: "Offload workers replaced after a crash or a timeout",
    type: "counter",
    value: (s) => s.workersReplaced,
  },
  quantile("queue_wait", "Time offload jobs waited for a worker", "p50", (s) => s.queueWait),
  quantile("queue_wait", "Time offload jobs waited for a worker", "p99", (s) => s.queueWait),
  quantile("exec", "Time from dispatch to result of offload jobs", "p50", (s) => s.execution),
  quantile("exec", "Time from dispatch to result of offload jobs", "p99", (s) => s.execution),
];
