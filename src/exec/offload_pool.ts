import { ClosedError, OffloadQueueFullError, OffloadTimeoutError } from "../errors.ts";
import type {
  OffloadCloseOptions,
  OffloadCloseReport,
  OffloadPoolOptions,
  OffloadStats,
  SubmitOptions,
} from "./offload_types.ts";
import { Driver } from "../time/driver.ts";
import type { Timer } from "../time/timer.ts";
import { requireNonNegative, requireOptions } from "../internal/validate.ts";
import { requireWorkerOptionsFlag, scopedPermissions } from "../internal/blob_worker.ts";
import type { PoolSizing } from "./_offload_sizing.ts";
import { PoolWorkers } from "./_offload_workers.ts";
import { JOB_LOAD_FAILED, JOB_OK, type OffloadErrorReport } from "./_offload_worker.ts";
import { JobQueue, pickWorker } from "./_offload_queue.ts";
import {
  deathFailure,
  jobFailure,
  type JobRecord,
  postBatch,
  type SlotDeath,
  type SlotEvents,
  type WorkerSlot,
} from "./_offload_slot.ts";
import type { OffloadFigures } from "./_offload_metrics.ts";
import { type OffloadCounts, OffloadLedger, settle } from "./_offload_ledger.ts";
import {
  checkSubmit,
  jobUrl,
  type PoolConfig,
  resolvePoolOptions,
  type SubmitArgs,
  unknownJobError,
  unsentError,
} from "./_offload_options.ts";
import { PoolCheck } from "./_offload_timer.ts";

/** The largest job id; the next one is 1 again. */
const MAX_JOB_ID = 0x7fff_ffff;

/**
 * Runs CPU-heavy jobs in worker threads, off the kernel's thread. Jobs are
 * registered modules (name to URL); `submit(job, input)` resolves with the
 * job's result. The queue is bounded: past `queueCap`, `submit()` rejects
 * with {@linkcode OffloadQueueFullError} instead of buffering without limit.
 * Jobs go to idle workers first, in batches, and results come back in
 * batches, so a busy pool pays one message per batch, not per job. A job
 * name `"<job>#<export>"` runs a named export of a registered job's module.
 *
 * The pool starts `minWorkers` workers and, while jobs wait and no worker is
 * idle, grows up to `maxWorkers`; a worker idle for `idleTimeoutMs` is
 * stopped while more than `minWorkers` run. `stats()` reports the size, idle
 * workers, how many grew and shrank, and `utilizationRatio`. No unstable
 * flag is needed: only scoped `permissions` need `--unstable-worker-options`,
 * and without it the constructor throws a `ChronetixError` naming the flag.
 *
 * A job can be cancelled with an `AbortSignal`, input buffers transferred,
 * and every job has a timeout. A faulty job fails alone and never takes the
 * process down: a worker that crashes, ends itself or runs out of heap (each
 * job worker's heap is capped, `resourceLimits.maxHeapMb`) is replaced, and
 * only the job it was running fails (the others it held are re-queued). A job
 * over its timeout fails: an async job is aborted through its signal; a
 * worker stuck in synchronous code, or one that stopped answering, is
 * replaced. Deno cannot stop such a thread: it is reported (logged and counted
 * in `stuckWorkers`) and released, so that it no longer keeps the process from
 * exiting. The last failure is kept in `stats().lastError`; a job module that
 * fails to load and a job name that is not registered are also logged.
 *
 * @example Squaring numbers in a worker
 * ```ts
 * import { OffloadPool } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * // Usually a file: new URL("./jobs/square.ts", import.meta.url), whose
 * // default export is (n: number) => n * n.
 * const square = "data:text/javascript,export default (n) => n * n;";
 * await using pool = new OffloadPool({ jobs: { square }, minWorkers: 1, maxWorkers: 2 });
 * const results = await Promise.all([1, 2, 3].map((n) => pool.submit<number>("square", n)));
 * assertEquals(results, [1, 4, 9]);
 * const stats = pool.stats();
 * assertEquals(stats.completed, 3);
 * assertEquals(stats.workersAlive, 1 + stats.workersGrown - stats.workersShrunk);
 * ```
 *
 * @example Named exports of one job module
 * ```ts
 * import { OffloadPool } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const math = "data:text/javascript,export const double = (n) => 2 * n; export const neg = (n) => -n;";
 * await using pool = new OffloadPool({ jobs: { math, double: `${math}#double` }, maxWorkers: 1 });
 * assertEquals(await pool.submit("double", 4), 8); // registered with a #fragment
 * assertEquals(await pool.submit("math#neg", 4), -4); // "<job>#<export>"
 * ```
 *
 * @example A job that runs out of heap fails alone
 * ```ts
 * import { OffloadJobError, OffloadPool } from "@chronetix/core";
 * import { assertEquals, assertRejects } from "@std/assert";
 *
 * const hog = "data:text/javascript,export default () => { const a = []; for (;;) a.push(new Array(1e4).fill(1.5)); };";
 * const square = "data:text/javascript,export default (n) => n * n;";
 * await using pool = new OffloadPool({
 *   jobs: { hog, square },
 *   maxWorkers: 1,
 *   resourceLimits: { maxHeapMb: 32 },
 * });
 * const error = await assertRejects(() => pool.submit("hog"), OffloadJobError);
 * assertEquals(error.code, "E_WORKER_OUT_OF_MEMORY");
 * assertEquals(await pool.submit("square", 3), 9); // on a new worker
 * assertEquals(pool.stats().oomKills, 1);
 * ```
 */
export class OffloadPool implements AsyncDisposable {
  readonly #config: PoolConfig;
  readonly #driver: Driver;
  readonly #ownsDriver: boolean;
  readonly #workers: PoolWorkers;
  /** The workers (`#workers.slots`). */
  readonly #slots: WorkerSlot[];
  readonly #queue = new JobQueue();
  #nextId = 1;
  #dispatchScheduled = false;
  /** Checks timeouts while jobs are pending or a worker needs watching. */
  readonly #sweep: PoolCheck;
  /** The shortest timeout of a job pending since the sweep was armed, ms. */
  #shortestMs: number;
  readonly #sizing: PoolSizing;
  #closed = false;
  #closing: Promise<OffloadCloseReport> | undefined;
  #inFlight = 0;
  #idleWaiters: (() => void)[] = [];
  readonly #ledger: OffloadLedger;
  readonly #counts: OffloadCounts;
  readonly #events: SlotEvents = {
    reply: (slot, results) => this.#onReply(slot, results),
    died: (slot, death) => this.#onDeath(slot, death),
  };

  /**
   * Creates the pool and starts its workers.
   *
   * @param options Jobs, worker bounds and idle timeout, queue cap, timeout,
   * batch size, permissions, heap cap, driver, name, metrics, logger.
   * @throws {TypeError} when `options` is not an object, `jobs` is not an
   * object of module URLs or is empty, `permissions` is not Deno Worker
   * permissions, `driver` is not a `Driver`, `metrics` not a
   * `MetricsRegistry`, `name` is empty or `logger` is not a {@linkcode Logger}.
   * @throws {RangeError} when a count, the timeout or the heap cap is out of range.
   * @throws {ChronetixError} (code `E_WORKER_START`) when the workers cannot
   * start, e.g. with `permissions` beyond the process's own; (code
   * `E_UNSTABLE_FLAG_MISSING`) when scoped `permissions` are asked for and
   * the process runs without `--unstable-worker-options`.
   */
  constructor(options: OffloadPoolOptions) {
    const config = resolvePoolOptions(options);
    this.#config = config;
    this.#shortestMs = config.timeoutMs;
    if (scopedPermissions(config.permissions)) {
      requireWorkerOptionsFlag("create an OffloadPool with scoped 'permissions'");
    }
    this.#ownsDriver = config.driver === undefined;
    this.#driver = config.driver ?? new Driver({ profile: "efficient" });
    this.#ledger = new OffloadLedger(config.logger, () => this.#driver.clock.now());
    this.#counts = this.#ledger.counts;
    // A closed driver: jobs still run, but nothing times them out and the pool keeps its size.
    this.#sweep = new PoolCheck(this.#driver, this.#checkTimeouts, (error) => {
      this.#ledger.keep(error, "sweep");
    });
    try {
      this.#workers = new PoolWorkers(config, this.#driver, this.#ledger, this.#events);
    } catch (error) {
      if (this.#ownsDriver) this.#driver.close();
      throw error;
    }
    this.#slots = this.#workers.slots;
    this.#sizing = this.#workers.sizing;
    if (config.metrics !== undefined) {
      this.#ledger.exportMetrics(config.metrics, this.#config.name, () => this.#figures());
    }
  }

  /** The pool's name: its metrics label and the name in its log lines. */
  get name(): string {
    return this.#config.name;
  }

  /** Names of the registered jobs. */
  get jobNames(): string[] {
    return [...this.#config.jobs.keys()];
  }

  /**
   * Runs a registered job in a worker. Bad arguments reject before anything
   * is queued or counted.
   *
   * @param job The job's name, or `"<job>#<export>"` to run a named export
   * of that job's module.
   * @param input Its input (structured-cloned, or transferred per `options.transfer`).
   * @param options Cancellation signal, transfer list and the job's own timeout.
   * @returns The job's result.
   * @throws {TypeError} (as a rejection) when `job` is not a non-empty
   * string, `input` cannot be cloned, `options` is not an object, `signal`
   * is not an `AbortSignal` or `transfer` is not an array of transferable
   * objects; or when the job is not registered (then it is also logged and
   * kept as `stats().lastError`).
   * @throws {OffloadQueueFullError} (as a rejection) when the queue is full.
   * @throws {OffloadTimeoutError} (as a rejection) when the job runs too long.
   * @throws {OffloadJobError} (as a rejection) when the job throws, its
   * module fails to load, or its worker dies or runs out of heap.
   * @throws {ClosedError} (as a rejection) when the pool is closed.
   */
  submit<R = unknown>(job: string, input?: unknown, options: SubmitOptions = {}): Promise<R> {
    let args: SubmitArgs;
    try {
      args = checkSubmit(job, input, options, this.#config.timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    const { signal, transfer, timeoutMs } = args;
    if (this.#closed) return Promise.reject(new ClosedError("OffloadPool", "submit a job"));
    const url = jobUrl(this.#config.jobs, job);
    if (url === undefined) {
      const error = unknownJobError(job, this.#config.name, this.jobNames);
      this.#ledger.keep(error, "unknown-job");
      return Promise.reject(error);
    }
    this.#counts.submitted++;
    if (signal?.aborted === true) {
      this.#counts.cancelled++;
      return Promise.reject(signal.reason);
    }
    if (this.#queue.size >= this.#config.queueCap) {
      this.#counts.rejected++;
      return Promise.reject(new OffloadQueueFullError(this.#config.name, this.#config.queueCap));
    }
    const { promise, resolve, reject } = Promise.withResolvers<R>();
    // Ids go through an Int32 cell of the control block: they stay positive Int32s.
    const id = this.#nextId;
    this.#nextId = id === MAX_JOB_ID ? 1 : id + 1;
    const record: JobRecord = {
      id,
      job,
      url,
      input,
      transfer,
      resolve: resolve as (value: unknown) => void,
      reject,
      signal,
      onAbort: undefined,
      timeoutMs,
      submittedAt: this.#driver.clock.now(),
      sentAt: 0,
      slot: undefined,
    };
    if (signal !== undefined) {
      record.onAbort = () => this.#abort(record);
      signal.addEventListener("abort", record.onAbort, { once: true });
    }
    if (timeoutMs < this.#shortestMs) {
      this.#shortestMs = timeoutMs;
      if (this.#sweep.armed) this.#sweep.arm(this.#sweepPeriod()); // often enough for this job
    }
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
      ...this.#ledger.snapshot(),
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
   * `ClosedError` (counted as cancelled) and stops the workers, stuck ones
   * included: nothing the pool started keeps the process alive afterwards.
   * Calling it again returns the same report.
   *
   * @example Closing with a grace period
   * ```ts
   * import { ClosedError, OffloadPool } from "@chronetix/core";
   * import { assertEquals, assertRejects } from "@std/assert";
   *
   * const square = "data:text/javascript,export default (n) => n * n;";
   * const pool = new OffloadPool({ jobs: { square }, maxWorkers: 1 });
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
   * @throws {TypeError} (as a rejection) when `options` is not an object.
   * @throws {RangeError} (as a rejection) when `graceMs` is negative or not
   * finite; the pool then stays open.
   */
  close(options: OffloadCloseOptions = {}): Promise<OffloadCloseReport> {
    if (this.#closing !== undefined) return this.#closing;
    let graceMs: number;
    try {
      requireOptions("close the OffloadPool", "options", options);
      graceMs = requireNonNegative(
        "close the OffloadPool",
        "graceMs",
        options.graceMs ?? this.#config.timeoutMs,
      );
    } catch (error) {
      return Promise.reject(error);
    }
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
      let timer: Timer | undefined;
      try {
        timer = this.#driver.after(graceMs, () => resolve());
      } catch (error) {
        this.#ledger.keep(error, "close");
        resolve(); // no timer to end the grace period: cut off now rather than never
      }
      await promise;
      timer?.cancel();
    }
    const drained = this.#counts.completed + this.#counts.failed - before;
    let cutOff = 0;
    const closed = new ClosedError("OffloadPool", "finish the job");
    for (const record of this.#queue.drain()) {
      cutOff++;
      settle(record, false, closed);
    }
    this.#workers.stopAll();
    for (const slot of this.#slots) {
      for (const record of slot.inFlight.values()) {
        cutOff++;
        record.slot = undefined;
        settle(record, false, closed);
      }
      slot.inFlight.clear();
    }
    this.#counts.cancelled += cutOff;
    this.#inFlight = 0;
    this.#sweep.cancel();
    this.#ledger.stopMetrics();
    if (this.#ownsDriver) this.#driver.close();
    this.#wakeIdle();
    return { drained, cutOff };
  }

  #figures(): OffloadFigures {
    const c = this.#counts;
    return {
      ...this.#workers.figures(),
      workersReplaced: c.replaced,
      stuckWorkers: c.stuck,
      oomKills: c.oomKills,
      queued: this.#queue.size,
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
    return this.#queue.size + this.#inFlight;
  }

  #scheduleDispatch(): void {
    if (this.#dispatchScheduled || this.#queue.size === 0) return;
    this.#dispatchScheduled = true;
    queueMicrotask(this.#dispatch);
  }

  #dispatch = (): void => {
    this.#dispatchScheduled = false;
    // Nothing may escape this microtask: an error here would end the process.
    try {
      this.#dispatchQueued();
    } catch (error) {
      this.#ledger.keep(error, "dispatch");
    }
    this.#armSweep();
  };

  /** Sends queued jobs, batch by batch, to the workers `pickWorker()` chooses. */
  #dispatchQueued(): void {
    const now = this.#driver.clock.now();
    const perWorker = this.#config.batch * 2;
    for (;;) {
      const failure = this.#workers.growIfWanted(this.#queue.size, this.#closed);
      if (failure !== undefined) {
        // No worker at all (minWorkers 0) and none can start: the waiting jobs could never run.
        for (const record of this.#queue.drain()) {
          this.#counts.failed++;
          settle(record, false, failure);
        }
        this.#ledger.keep(failure);
        return;
      }
      const room = this.#workers.growRoom(this.#closed);
      const pick = pickWorker(this.#slots, this.#queue.size, this.#config.batch, perWorker, room);
      if (pick === undefined) return;
      const { sent, unsent } = postBatch(pick.slot, this.#queue.take(pick.count));
      for (const record of sent) this.#sent(pick.slot, record, now);
      for (const [record, error] of unsent) {
        this.#counts.failed++;
        const failure = unsentError(record.job, error);
        this.#ledger.keep(failure);
        settle(record, false, failure);
      }
    }
  }

  #sent(slot: WorkerSlot, record: JobRecord, now: number): void {
    record.sentAt = now;
    record.slot = slot;
    this.#sizing.busy(slot, now);
    slot.inFlight.set(record.id, record);
    this.#inFlight++;
    this.#ledger.sent(record, now);
  }

  #onReply(slot: WorkerSlot, results: unknown[]): void {
    const now = this.#driver.clock.now();
    for (let i = 0; i < results.length; i += 3) {
      const record = slot.inFlight.get(results[i] as number);
      if (record === undefined) continue; // timed out or cancelled meanwhile
      this.#release(record);
      this.#ledger.returned(record, now);
      const how = results[i + 1];
      if (how === JOB_OK) {
        this.#counts.completed++;
        settle(record, true, results[i + 2]);
        continue;
      }
      this.#counts.failed++;
      const report = results[i + 2] as OffloadErrorReport;
      const error = jobFailure(how === JOB_LOAD_FAILED, record.job, this.#config.name, report);
      // A module that fails to load is a deployment mistake: log it. A job
      // that throws rejects its caller, who decides.
      this.#ledger.keep(error, how === JOB_LOAD_FAILED ? "load" : undefined, report.stack);
      settle(record, false, error);
    }
    this.#afterProgress();
  }

  #onDeath(slot: WorkerSlot, death: SlotDeath): void {
    const running = slot.running();
    // The job running synchronously when it died is the culprit; without one,
    // the death cannot be attributed and every job it held fails.
    const culprit = running !== 0 && slot.inFlight.has(running) ? running : undefined;
    this.#workers.replaceDead(slot, death);
    for (const record of [...slot.inFlight.values()]) {
      this.#release(record);
      if (culprit === undefined || record.id === culprit) {
        this.#counts.crashed++;
        const error = deathFailure(record.job, death, this.#config.maxHeapMb);
        this.#ledger.keep(error);
        settle(record, false, error);
      } else {
        this.#requeue(record);
      }
    }
    this.#afterProgress();
  }

  #checkTimeouts = (): void => {
    const now = this.#driver.clock.now();
    for (const slot of [...this.#slots]) {
      try {
        const verdict = slot.watch(
          now,
          this.#config.timeoutMs,
          (record) => this.#timeOut(slot, record),
        );
        if (verdict === "stuck") this.#onStuck(slot);
        else if (verdict === "unresponsive") {
          // The jobs over their timeout have failed already; the others go elsewhere.
          this.#workers.replaceUnresponsive(slot);
          this.#requeueAll(slot);
        }
      } catch (error) {
        this.#ledger.keep(error, "sweep");
      }
    }
    this.#afterProgress();
  };

  /** An async job over its timeout: it fails, and its signal aborts in the worker. */
  #timeOut(slot: WorkerSlot, record: JobRecord): void {
    this.#release(record);
    this.#fail(record, new OffloadTimeoutError(record.job, record.timeoutMs));
    slot.abort(record.id, true);
  }

  #fail(record: JobRecord, error: OffloadTimeoutError): void {
    this.#counts.timedOut++;
    this.#ledger.keep(error);
    settle(record, false, error);
  }

  /** Synchronous code over the timeout cannot be interrupted: the worker is replaced. */
  #onStuck(slot: WorkerSlot): void {
    const record = slot.inFlight.get(slot.running());
    if (record !== undefined) {
      this.#release(record);
      this.#fail(record, new OffloadTimeoutError(record.job, record.timeoutMs));
    }
    this.#workers.replaceStuck(slot, record);
    this.#requeueAll(slot);
  }

  #requeueAll(slot: WorkerSlot): void {
    for (const record of [...slot.inFlight.values()]) {
      this.#release(record);
      this.#requeue(record);
    }
  }

  #requeue(record: JobRecord): void {
    record.slot = undefined;
    this.#queue.unshift(record);
  }

  #release(record: JobRecord): void {
    const slot = record.slot;
    if (slot?.inFlight.delete(record.id) === true) {
      this.#inFlight--;
      if (slot.inFlight.size === 0) this.#sizing.idle(slot, this.#driver.clock.now());
    }
    record.slot = undefined;
  }

  #abort(record: JobRecord): void {
    const slot = record.slot;
    if (slot !== undefined) {
      this.#release(record);
      slot.abort(record.id);
    } else {
      if (!this.#queue.remove(record)) return;
    }
    this.#counts.cancelled++;
    settle(record, false, record.signal!.reason);
    this.#afterProgress();
  }

  #afterProgress(): void {
    this.#scheduleDispatch();
    if (this.#pending() === 0) {
      if (!this.#watching()) {
        this.#sweep.cancel();
        this.#shortestMs = this.#config.timeoutMs;
      }
      this.#wakeIdle();
    }
  }

  /** Whether a worker must be watched with no job pending (see `WorkerSlot.needsWatch`). */
  #watching(): boolean {
    return !this.#workers.stopped && this.#slots.some((slot) => slot.needsWatch());
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const waiter of waiters) waiter();
  }

  #sweepPeriod(): number {
    return Math.min(1000, Math.max(5, this.#shortestMs / 4));
  }

  /** Checks timeouts while jobs are queued or running (a blocked worker may hold the queue). */
  #armSweep(): void {
    if (this.#sweep.armed || (this.#pending() === 0 && !this.#watching())) return;
    this.#sweep.arm(this.#sweepPeriod());
  }
}
