import { LogLimiter } from "../internal/log_limiter.ts";
import {
  ClosedError,
  type ErrorRecord,
  errorRecord,
  OffloadQueueFullError,
  OffloadTimeoutError,
} from "../errors.ts";
import { CONSOLE_LOGGER } from "../logger.ts";
import type {
  OffloadCloseOptions,
  OffloadCloseReport,
  OffloadPoolOptions,
  OffloadStats,
  SubmitOptions,
} from "./offload_types.ts";
import { Driver, type Timer } from "../time/driver.ts";
import {
  requireInteger,
  requireLogger,
  requireNonEmptyString,
  requireNonNegative,
  requireOptions,
  requirePositive,
  show,
} from "../internal/validate.ts";
import { LatencyHistogram } from "../time/latency_histogram.ts";
import {
  JOB_LOAD_FAILED,
  JOB_OK,
  type OffloadErrorReport,
  type OffloadReply,
} from "./_offload_worker.ts";
import {
  crashFailure,
  jobFailure,
  type JobRecord,
  resolveJobUrl,
  type SlotEvents,
  WorkerSlot,
} from "./_offload_slot.ts";
import {
  type OffloadFigures,
  type OffloadMetrics,
  registerOffloadMetrics,
} from "./_offload_metrics.ts";

/** Log lines of one kind (a crash, a missing job module) at most once per this, ms. */
const LOG_INTERVAL_MS = 10_000;

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
 * over its timeout fails: an async job is aborted through its signal, a
 * worker stuck in synchronous code is replaced. Deno cannot stop a worker
 * stuck in synchronous code, so such a worker is reported (logged and
 * counted in `stuckWorkers`), not silently kept. The last failure is kept
 * in `stats().lastError`; a job module that fails to load and a job name
 * that is not registered are also logged.
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
export class OffloadPool implements AsyncDisposable {
  readonly #name: string;
  readonly #jobs: Map<string, string>;
  readonly #queueCap: number;
  readonly #timeoutMs: number;
  readonly #batch: number;
  readonly #permissions: "inherit" | "none" | Deno.PermissionOptionsObject;
  readonly #driver: Driver;
  readonly #ownsDriver: boolean;
  readonly #errorLog: LogLimiter;
  readonly #slots: WorkerSlot[] = [];
  readonly #queue: JobRecord[] = [];
  #queueHead = 0;
  #nextId = 1;
  #dispatchScheduled = false;
  #sweep: Timer | undefined;
  #closed = false;
  #closing: Promise<OffloadCloseReport> | undefined;
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
  #lastError: ErrorRecord | undefined;
  #metrics: OffloadMetrics | undefined;
  readonly #events: SlotEvents = {
    reply: (slot, reply) => this.#onReply(slot, reply),
    crash: (slot, message) => this.#onCrash(slot, message),
  };

  /**
   * Creates the pool and starts its workers.
   *
   * @param options Jobs, worker count, queue cap, timeout, batch size, name, metrics, logger.
   * @throws {TypeError} when `jobs` is empty, a job URL is not a string or
   * URL, `name` is empty or `logger` is not a {@linkcode Logger}.
   * @throws {RangeError} when a count or the timeout is out of range.
   */
  constructor(options: OffloadPoolOptions) {
    const action = "create an OffloadPool";
    if (options === null || typeof options !== "object" || typeof options.jobs !== "object") {
      throw new TypeError(`Cannot ${action} as 'jobs' must be an object of job URLs`);
    }
    this.#name = requireNonEmptyString(action, "name", options.name ?? "offload");
    const logger = requireLogger(action, "logger", options.logger ?? CONSOLE_LOGGER);
    this.#errorLog = new LogLimiter(logger, LOG_INTERVAL_MS);
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
    const workers = options.workers ?? Math.max(1, (navigator.hardwareConcurrency ?? 2) - 1);
    const size = requireInteger(action, "workers", workers, 1, 256);
    this.#queueCap = requireInteger(action, "queueCap", options.queueCap ?? 1024, 1, 2 ** 24);
    this.#timeoutMs = requirePositive(action, "timeoutMs", options.timeoutMs ?? 30_000);
    this.#batch = requireInteger(action, "batch", options.batch ?? 32, 1, 4096);
    this.#permissions = options.permissions ?? "inherit";
    this.#ownsDriver = options.driver === undefined;
    this.#driver = options.driver ?? new Driver({ profile: "efficient" });
    if (options.metrics !== undefined) {
      this.#metrics = registerOffloadMetrics(options.metrics, this.#name, () => this.#figures());
    }
    for (let i = 0; i < size; i++) this.#slots.push(this.#spawn());
  }

  /** The pool's name: its metrics label and the name in its log lines. */
  get name(): string {
    return this.#name;
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
   * @throws {OffloadJobError} (as a rejection) when the job throws, its
   * module fails to load or its worker dies.
   * @throws {ClosedError} (as a rejection) when the pool is closed.
   * @throws {TypeError} (as a rejection) when the job is not registered; it
   * is also logged and kept as `stats().lastError`.
   */
  submit<R = unknown>(job: string, input?: unknown, options: SubmitOptions = {}): Promise<R> {
    if (this.#closed) return Promise.reject(new ClosedError("OffloadPool", "submit a job"));
    const url = this.#jobs.get(job);
    if (url === undefined) {
      const error = new TypeError(
        `Cannot submit job ${
          show(job)
        } to offload pool "${this.#name}" as it is not registered: known jobs are ${
          this.jobNames.map((n) => `"${n}"`).join(", ")
        }`,
      );
      this.#keep(error, "unknown-job");
      return Promise.reject(error);
    }
    if (options.signal?.aborted === true) {
      this.#counts.cancelled++;
      return Promise.reject(options.signal.reason);
    }
    if (this.#queue.length - this.#queueHead >= this.#queueCap) {
      this.#counts.rejected++;
      return Promise.reject(new OffloadQueueFullError(this.#name, this.#queueCap));
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
    this.#scheduleDispatch();
    return promise;
  }

  /**
   * Takes a snapshot of the pool.
   *
   * @returns The current figures.
   */
  stats(): OffloadStats {
    return {
      ...this.#figures(),
      submitted: this.#counts.submitted,
      queueWait: this.#queueWait.snapshot(),
      execution: this.#execution.snapshot(),
      lastError: this.#lastError === undefined ? undefined : { ...this.#lastError },
    };
  }

  /**
   * Waits until no job is queued or running (at once if none is), or until
   * the pool is closed.
   *
   * @returns A promise that resolves then; it never rejects.
   */
  whenIdle(): Promise<void> {
    if (this.#pending() === 0) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#idleWaiters.push(resolve);
    return promise;
  }

  /**
   * Stops taking jobs (`submit()` rejects with `ClosedError`), lets queued
   * and running jobs finish for `graceMs`, then rejects what is left with
   * `ClosedError` and stops the workers. Calling it again returns the same
   * report.
   *
   * @example Closing with a grace period
   * ```ts
   * import { ClosedError, OffloadPool } from "@chronetix/core";
   * import { assertEquals, assertRejects } from "@std/assert";
   *
   * const square = "data:text/javascript,export default (n) => n * n;";
   * const pool = new OffloadPool({ jobs: { square }, workers: 1 });
   * const result = pool.submit<number>("square", 4);
   * const report = await pool.close({ graceMs: 60_000 });
   * assertEquals(await result, 16);
   * assertEquals(report, { drained: 1, cutOff: 0 });
   * assertEquals(await pool.close(), report); // the same report again
   * await assertRejects(() => pool.submit("square", 1), ClosedError);
   * ```
   *
   * @param options How long jobs may still finish.
   * @returns How many jobs finished in the grace period and how many were cut off.
   * @throws {TypeError} when `options` is not an object.
   * @throws {RangeError} when `graceMs` is negative or not finite.
   */
  close(options: OffloadCloseOptions = {}): Promise<OffloadCloseReport> {
    if (this.#closing !== undefined) return this.#closing;
    requireOptions("close the OffloadPool", "options", options);
    const graceMs = options.graceMs ?? this.#timeoutMs;
    requireNonNegative("close the OffloadPool", "graceMs", graceMs);
    this.#closing = this.#close(graceMs);
    return this.#closing;
  }

  /** Closes the pool with the default grace period; see {@linkcode OffloadPool.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(graceMs: number): Promise<OffloadCloseReport> {
    this.#closed = true;
    const before = this.#counts.completed + this.#counts.failed;
    if (this.#pending() > 0 && graceMs > 0) {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#idleWaiters.push(resolve);
      const timer = this.#driver.after(graceMs, () => resolve());
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
      slot.stop();
    }
    this.#inFlight = 0;
    this.#sweep?.cancel();
    this.#sweep = undefined;
    this.#metrics?.[Symbol.dispose]();
    this.#metrics = undefined;
    if (this.#ownsDriver) this.#driver.close();
    this.#wakeIdle();
    return { drained, cutOff };
  }

  #figures(): OffloadFigures {
    const c = this.#counts;
    return {
      workersAlive: this.#slots.filter((s) => !s.dead).length,
      workersReplaced: c.replaced,
      stuckWorkers: c.stuck,
      queued: this.#queue.length - this.#queueHead,
      inFlight: this.#inFlight,
      completed: c.completed,
      failed: c.failed,
      timedOut: c.timedOut,
      crashed: c.crashed,
      cancelled: c.cancelled,
      rejected: c.rejected,
    };
  }

  #pending(): number {
    return this.#queue.length - this.#queueHead + this.#inFlight;
  }

  #spawn(): WorkerSlot {
    return new WorkerSlot(this.#name, this.#permissions, this.#events);
  }

  #scheduleDispatch(): void {
    if (this.#dispatchScheduled || this.#queueHead >= this.#queue.length) return;
    this.#dispatchScheduled = true;
    queueMicrotask(this.#dispatch);
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
          this.#metrics?.queueWait.observe((now - record.submittedAt) / 1000);
          jobs.push(record.id, record.url, record.input);
          if (record.transfer !== undefined) (transfer ??= []).push(...record.transfer);
        }
        try {
          slot.run(jobs, transfer);
        } catch (error) {
          // An input that cannot be cloned fails its batch, not the pool.
          for (let i = 0; i < jobs.length; i += 3) {
            const record = slot.inFlight.get(jobs[i] as number)!;
            this.#release(record);
            this.#counts.failed++;
            this.#keep(error);
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
      this.#metrics?.execution.observe((now - record.sentAt) / 1000);
      const how = results[i + 1];
      if (how === JOB_OK) {
        this.#counts.completed++;
        this.#settle(record, true, results[i + 2]);
        continue;
      }
      this.#counts.failed++;
      const report = results[i + 2] as OffloadErrorReport;
      const error = jobFailure(how === JOB_LOAD_FAILED, record.job, this.#name, report);
      // A module that fails to load is a deployment mistake: log it. A job
      // that throws rejects its caller, who decides.
      this.#keep(error, how === JOB_LOAD_FAILED ? "load" : undefined, report.stack);
      this.#settle(record, false, error);
    }
    this.#afterProgress();
  }

  #onCrash(slot: WorkerSlot, message: string): void {
    const running = slot.running();
    // The job running synchronously when it died is the culprit; without one,
    // the crash cannot be attributed and every job it held fails.
    const culprit = running !== 0 && slot.inFlight.has(running) ? running : undefined;
    this.#replace(slot, "crash", `it crashed: ${message}`);
    for (const record of [...slot.inFlight.values()]) {
      this.#release(record);
      if (culprit === undefined || record.id === culprit) {
        this.#counts.crashed++;
        const error = crashFailure(record.job, message);
        this.#keep(error);
        this.#settle(record, false, error);
      } else {
        this.#requeue(record);
      }
    }
    this.#afterProgress();
  }

  #checkTimeouts = (): void => {
    const now = this.#driver.clock.now();
    for (const slot of [...this.#slots]) {
      slot.watch(now, this.#timeoutMs, (record, stuck) => this.#timeOut(slot, record, stuck));
    }
    this.#afterProgress();
  };

  #timeOut(slot: WorkerSlot, record: JobRecord, stuck: boolean): void {
    this.#release(record);
    this.#counts.timedOut++;
    const error = new OffloadTimeoutError(record.job, this.#timeoutMs);
    this.#keep(error);
    this.#settle(record, false, error);
    if (!stuck) {
      slot.abort(record.id);
      return;
    }
    // Synchronous code that overran cannot be interrupted: replace the worker.
    this.#counts.stuck++;
    this.#replace(
      slot,
      "stuck",
      `it was stuck in job "${record.job}" for over ${this.#timeoutMs} ms; Deno cannot stop a worker in synchronous code, so its thread may keep running`,
    );
    for (const other of [...slot.inFlight.values()]) {
      this.#release(other);
      this.#requeue(other);
    }
  }

  #replace(slot: WorkerSlot, kind: string, why: string): void {
    slot.stop();
    this.#counts.replaced++;
    this.#log(kind, `Offload pool "${this.#name}" replaced a worker as ${why}`);
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
      slot.abort(record.id);
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
    this.#scheduleDispatch();
    if (this.#pending() === 0) {
      this.#sweep?.cancel();
      this.#sweep = undefined;
      this.#wakeIdle();
    }
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const waiter of waiters) waiter();
  }

  /**
   * Keeps `error` as the last error (with the worker's stack when there is
   * one) and, when it is of a `logKind`, logs it.
   */
  #keep(error: unknown, logKind?: string, stack?: string): void {
    this.#lastError = errorRecord(error, this.#driver.clock.now());
    if (stack !== undefined) this.#lastError.stack = stack;
    if (logKind !== undefined) this.#log(logKind, this.#lastError.message);
  }

  /** Logs an error line, at most once per kind per `LOG_INTERVAL_MS` of the pool's clock. */
  #log(kind: string, message: string): void {
    this.#errorLog.error(kind, this.#driver.clock.now(), message);
  }

  #armSweep(): void {
    if (this.#sweep !== undefined || this.#inFlight === 0) return;
    const every = Math.min(1000, Math.max(5, this.#timeoutMs / 4));
    this.#sweep = this.#driver.every(every, this.#checkTimeouts, {
      latenessClass: "offload-sweep",
    });
  }
}
