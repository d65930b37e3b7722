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
import {
  requireNonEmptyString,
  requireNonNegative,
  requireOptions,
  show,
} from "../internal/validate.ts";
import { JOB_LOAD_FAILED, JOB_OK, type OffloadErrorReport } from "./_offload_worker.ts";
import { JobQueue, pickWorker } from "./_offload_queue.ts";
import {
  deathFailure,
  jobFailure,
  type JobRecord,
  postBatch,
  type SlotDeath,
  type SlotEvents,
  WorkerSlot,
} from "./_offload_slot.ts";
import type { OffloadFigures } from "./_offload_metrics.ts";
import { type OffloadCounts, OffloadLedger, settle } from "./_offload_ledger.ts";
import {
  type PoolConfig,
  requireInput,
  requireSignal,
  requireTransfer,
  resolvePoolOptions,
  unsentError,
  workerStartError,
} from "./_offload_options.ts";

/** The largest job id; the next one is 1 again. */
const MAX_JOB_ID = 0x7fff_ffff;

/**
 * Runs CPU-heavy jobs in worker threads, off the kernel's thread. Jobs are
 * registered modules (name to URL); `submit(job, input)` resolves with the
 * job's result. The queue is bounded: past `queueCap`, `submit()` rejects
 * with {@linkcode OffloadQueueFullError} instead of buffering without limit.
 * Jobs go to idle workers first, in batches, and results come back in
 * batches, so a busy pool pays one message per batch, not per job.
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
 * await using pool = new OffloadPool({ jobs: { square }, workers: 1 });
 * const results = await Promise.all([1, 2, 3].map((n) => pool.submit<number>("square", n)));
 * assertEquals(results, [1, 4, 9]);
 * assertEquals(pool.stats().completed, 3);
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
 *   workers: 1,
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
  readonly #slots: WorkerSlot[] = [];
  readonly #queue = new JobQueue();
  #nextId = 1;
  #dispatchScheduled = false;
  #sweep: Timer | undefined;
  #closed = false;
  #stopped = false;
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
   * @param options Jobs, worker count, queue cap, timeout, batch size,
   * permissions, heap cap, driver, name, metrics, logger.
   * @throws {TypeError} when `options` is not an object, `jobs` is not an
   * object of module URLs or is empty, `permissions` is not Deno Worker
   * permissions, `driver` is not a `Driver`, `metrics` not a
   * `MetricsRegistry`, `name` is empty or `logger` is not a {@linkcode Logger}.
   * @throws {RangeError} when a count, the timeout or the heap cap is out of range.
   * @throws {ChronetixError} (code `E_WORKER_START`) when the workers cannot
   * start, e.g. with `permissions` beyond the process's own.
   */
  constructor(options: OffloadPoolOptions) {
    const config = resolvePoolOptions(options);
    this.#config = config;
    this.#ownsDriver = config.driver === undefined;
    this.#driver = config.driver ?? new Driver({ profile: "efficient" });
    this.#ledger = new OffloadLedger(config.logger, () => this.#driver.clock.now());
    this.#counts = this.#ledger.counts;
    try {
      for (let i = 0; i < config.workers; i++) this.#slots.push(this.#spawn());
    } catch (error) {
      for (const slot of this.#slots) slot.stop();
      if (this.#ownsDriver) this.#driver.close();
      throw workerStartError(config.permissions, error);
    }
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
   * @param job The job's name.
   * @param input Its input (structured-cloned, or transferred per `options.transfer`).
   * @param options Cancellation signal and transfer list.
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
    let signal: AbortSignal | undefined;
    let transfer: Transferable[] | undefined;
    try {
      requireNonEmptyString("submit a job", "job", job);
      const action = `submit job ${show(job)}`;
      requireInput(action, input);
      requireOptions(action, "options", options);
      signal = requireSignal(action, options.signal);
      transfer = requireTransfer(action, options.transfer);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closed) return Promise.reject(new ClosedError("OffloadPool", "submit a job"));
    const url = this.#config.jobs.get(job);
    if (url === undefined) {
      const error = new TypeError(
        `Cannot submit job ${
          show(job)
        } to offload pool "${this.#config.name}" as 'job' is not registered: known jobs are ${
          this.jobNames.map((n) => `"${n}"`).join(", ")
        }`,
      );
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
      submittedAt: this.#driver.clock.now(),
      sentAt: 0,
      slot: undefined,
    };
    if (signal !== undefined) {
      record.onAbort = () => this.#abort(record);
      signal.addEventListener("abort", record.onAbort, { once: true });
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
    this.#stopped = true;
    for (const slot of this.#slots) {
      for (const record of slot.inFlight.values()) {
        cutOff++;
        record.slot = undefined;
        settle(record, false, closed);
      }
      slot.inFlight.clear();
      slot.stop();
    }
    this.#counts.cancelled += cutOff;
    this.#inFlight = 0;
    this.#sweep?.cancel();
    this.#sweep = undefined;
    this.#ledger.stopMetrics();
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

  #spawn(): WorkerSlot {
    return new WorkerSlot({
      pool: this.#config.name,
      permissions: this.#config.permissions,
      maxHeapMb: this.#config.maxHeapMb,
      now: () => this.#driver.clock.now(),
    }, this.#events);
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
      const pick = pickWorker(this.#slots, this.#queue.size, this.#config.batch, perWorker);
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
    if (death.reason === "oom") {
      this.#counts.oomKills++;
      this.#replace(slot, "oom", `it ran out of heap (the limit is ${this.#config.maxHeapMb} MB)`);
    } else if (death.reason === "exit") {
      this.#replace(slot, "exit", death.message);
    } else {
      this.#replace(slot, "crash", `it crashed: ${death.message}`);
    }
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
        else if (verdict === "unresponsive") this.#onUnresponsive(slot);
      } catch (error) {
        this.#ledger.keep(error, "sweep");
      }
    }
    this.#afterProgress();
  };

  /** An async job over its timeout: it fails, and its signal aborts in the worker. */
  #timeOut(slot: WorkerSlot, record: JobRecord): void {
    this.#release(record);
    this.#fail(record, new OffloadTimeoutError(record.job, this.#config.timeoutMs));
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
      this.#fail(record, new OffloadTimeoutError(record.job, this.#config.timeoutMs));
    }
    this.#counts.stuck++;
    this.#replace(
      slot,
      "stuck",
      `it was stuck in ${
        record === undefined ? "a job no longer waited for" : `job "${record.job}"`
      } for over ${this.#config.timeoutMs} ms; Deno cannot stop a worker in synchronous code, so its thread may keep running`,
    );
    this.#requeueAll(slot);
  }

  /**
   * Messages waited past the timeout while no job on record ran: an async
   * job blocks the worker after an await, or its thread died without a word.
   * The jobs over their timeout have failed already; the others go elsewhere.
   */
  #onUnresponsive(slot: WorkerSlot): void {
    this.#counts.stuck++;
    this.#replace(
      slot,
      "unresponsive",
      `it stopped answering for over ${this.#config.timeoutMs} ms (a job blocking it after an await, or its thread died without a word); its thread may keep running`,
    );
    this.#requeueAll(slot);
  }

  #replace(slot: WorkerSlot, kind: string, why: string): void {
    slot.stop();
    this.#counts.replaced++;
    this.#ledger.log(kind, `Offload pool "${this.#config.name}" replaced a worker as ${why}`);
    const index = this.#slots.indexOf(slot);
    // While closing, a replacement still serves the grace period; once stopped, none.
    if (this.#stopped || index < 0) return;
    try {
      this.#slots[index] = this.#spawn();
    } catch (error) {
      // The dead slot stays in place (skipped by dispatch) and is counted out of workersAlive.
      this.#ledger.keep(error, "spawn");
    }
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
    if (record.slot?.inFlight.delete(record.id) === true) this.#inFlight--;
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
        this.#sweep?.cancel();
        this.#sweep = undefined;
      }
      this.#wakeIdle();
    }
  }

  /** Whether a worker must be watched with no job pending (see `WorkerSlot.needsWatch`). */
  #watching(): boolean {
    return !this.#stopped && this.#slots.some((slot) => slot.needsWatch());
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Checks timeouts while jobs are queued or running (a blocked worker may hold the queue). */
  #armSweep(): void {
    if (this.#sweep !== undefined || (this.#pending() === 0 && !this.#watching())) return;
    const every = Math.min(1000, Math.max(5, this.#config.timeoutMs / 4));
    try {
      this.#sweep = this.#driver.every(every, this.#checkTimeouts, {
        latenessClass: "offload-sweep",
      });
    } catch (error) {
      // A closed driver: jobs still run, but nothing times them out.
      this.#ledger.keep(error, "sweep");
    }
  }
}
