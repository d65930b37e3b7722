import { ClosedError, type ErrorRecord, errorRecord } from "../errors.ts";
import { Driver } from "../time/driver.ts";
import type { Timer } from "../time/timer.ts";
import { RingReader } from "../data/ring_reader.ts";
import { RingWriter } from "../data/ring_writer.ts";
import { LogLimiter } from "../internal/log_limiter.ts";
import { requireNonNegative, requireOptions } from "../internal/validate.ts";
import { SharedValues } from "./shared_values.ts";
import type { IslandError, IslandErrorCode } from "./island_error.ts";
import {
  exitError,
  failureError,
  hangError,
  spawnError,
  startTimeoutError,
} from "./_island_failures.ts";
import type {
  IslandCloseOptions,
  IslandCloseReport,
  IslandOptions,
  IslandSchedulingState,
  IslandState,
  IslandStats,
} from "./island_types.ts";
import { type IslandConfig, resolveIslandOptions } from "./_island_options.ts";
import {
  C_COMMAND,
  C_LEAD_US,
  C_PHASE,
  C_RUN_SEQ,
  C_RUNNING,
  CMD_STOP,
  createControl,
  createSlots,
  F_FAILURES,
  F_TIER,
} from "./_island_layout.ts";
import type { ErrorReport, IslandBoot, IslandReply } from "./_island_protocol.ts";
import { readTaskStats, type SlotReader, slotReaders } from "./_island_stats.ts";
import { registerIslandMetrics } from "./_island_metrics.ts";
import {
  type IslandHost,
  type IslandThread,
  loadWorkerThreads,
  THREAD_HOST,
  type ThreadExit,
} from "./_island_host.ts";
import { BUDGET_TIERS } from "../exec/budget.ts";
import { defaultLeadUs } from "./_realtime.ts";

export {
  DEFAULT_LEAD_US,
  DEFAULT_REALTIME_LEAD_US,
  DEFAULT_REALTIME_PRIORITY,
} from "./_realtime.ts";

/** What stopping a thread did. */
interface ThreadStop {
  stoppedCleanly: boolean;
  terminated: boolean;
  disposeError: ErrorReport | undefined;
}

/** Internal hooks of {@linkcode startIsland}: the thread host and who to tell on close. */
export interface IslandSeams {
  /** Starts threads. @default {real node:worker_threads Workers} */
  host?: IslandHost;
  /** Called once the island is closed. */
  onClosed?: (island: Island) => void;
}

/** Creates and starts an island; assigned in the class's static block. */
let begin: (config: IslandConfig, seams: IslandSeams) => Promise<Island>;

/**
 * Periodic tasks on a dedicated thread with its own scheduling: a control
 * loop that keeps its timing while the main thread is busy. Between releases
 * the island's thread sleeps with `Atomics.wait` until the release minus a
 * lead (`leadUs`), then spins to the release: no event-loop hop, no message
 * and nothing on the main thread per tick. The task code is a module that
 * exports one function per task name (plus optional `init(ctx)` and
 * `dispose(ctx)`); island tasks run synchronously.
 *
 * The main thread reads each task's figures from shared memory in the shape
 * of the executor's ({@linkcode TaskStats}); data goes in and out through
 * {@linkcode SharedValues} blocks (`values.in`, `values.out`) and shared rings
 * (`rings.in`, `rings.out`). A task that throws is counted (and stopped with
 * `onError: "stop"`); one over its `budgetMs` again and again is
 * quarantined; a run past `hangMs` declares the island hung. A crash (the
 * module fails to load, an uncaught error, the heap cap reached, a hang) is
 * kept with its cause ({@linkcode IslandError}) and the island restarts by its
 * `restart` policy, after `backoffMs` on the driver's clock. A thread stuck
 * in synchronous code cannot be stopped: it is terminated and released so
 * the process can exit, but it keeps a core busy until then.
 *
 * @example A control loop on its own thread
 * ```ts
 * import { Island } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * // Usually a file: new URL("./control.ts", import.meta.url).
 * const module = "data:text/javascript,let n = 0; export function loop(ctx) { ctx.values.out.write({ ticks: ++n }); }";
 * await using island = await Island.start({
 *   name: "control",
 *   module,
 *   tasks: [{ name: "loop", periodMs: 5 }],
 *   values: { out: ["ticks"] },
 * });
 * assertEquals(island.state, "running");
 * const report = await island.close();
 * assertEquals(report.graceful, true);
 * assertEquals(report.runs, island.stats().perTask[0]!.runs);
 * ```
 */
export class Island implements AsyncDisposable {
  /** The island's name: its metrics label and the name in its log lines. */
  readonly name: string;
  /** The shared values: write `in` here, read `out` (written by the island's tasks). */
  readonly values: {
    readonly in: SharedValues | undefined;
    readonly out: SharedValues | undefined;
  };
  /** The rings: send frames to the island on `in`, read its frames from `out`. */
  readonly rings: { readonly in: RingWriter | undefined; readonly out: RingReader | undefined };
  readonly #config: IslandConfig;
  readonly #driver: Driver;
  readonly #ownsDriver: boolean;
  readonly #host: IslandHost;
  readonly #onClosed: ((island: Island) => void) | undefined;
  readonly #control: Int32Array;
  readonly #controlBuffer: SharedArrayBuffer;
  readonly #slots: SharedArrayBuffer;
  readonly #readers: SlotReader[];
  readonly #failureLog: LogLimiter;
  readonly #seenFailures: number[];
  readonly #seenTiers: number[];
  #metrics: Disposable | undefined;
  #state: IslandState = "starting";
  #thread: IslandThread | undefined;
  #generation = 0;
  #restarts = 0;
  #crashes = 0;
  #stuck = 0;
  #scheduling: IslandSchedulingState = "normal";
  #lastError: ErrorRecord | undefined;
  #lastCode: IslandErrorCode | undefined;
  #epochs: { in: number | undefined; out: number | undefined } = { in: undefined, out: undefined };
  #pendingStart: PromiseWithResolvers<void> | undefined;
  #started = false;
  #startTimer: Timer | undefined;
  #backoff: Timer | undefined;
  #watch: Timer | undefined;
  #watchRun = { running: 0, seq: 0, since: 0 };
  #stopped: PromiseWithResolvers<ErrorReport | undefined | "exit"> | undefined;
  #closing: Promise<IslandCloseReport> | undefined;
  #restarting: Promise<void> | undefined;

  /**
   * Starts an island and resolves once its thread runs its tasks.
   *
   * @param options Module, tasks, values, rings, lead, limits, restart policy, driver, metrics, logger.
   * @returns The running island.
   * @throws {TypeError} when an option has the wrong type (as a rejection).
   * @throws {RangeError} when an option is out of range (as a rejection).
   * @throws {IslandError} (as a rejection) when the module fails to load,
   * `init()` throws, or the start times out; nothing is left running then.
   */
  static start(options: IslandOptions): Promise<Island> {
    return startIsland(options);
  }

  private constructor(config: IslandConfig, seams: IslandSeams) {
    this.#config = config;
    this.name = config.name;
    this.#host = seams.host ?? THREAD_HOST;
    this.#onClosed = seams.onClosed;
    this.#ownsDriver = config.driver === undefined;
    this.#controlBuffer = createControl();
    this.#control = new Int32Array(this.#controlBuffer);
    this.#slots = createSlots(config.tasks.length);
    this.#readers = slotReaders(this.#slots, config.tasks);
    this.#seenFailures = config.tasks.map(() => 0);
    this.#seenTiers = config.tasks.map(() => 0);
    this.#failureLog = new LogLimiter(config.logger);
    const valuesIn = config.valuesIn === undefined ? undefined : new SharedValues({
      fields: config.valuesIn,
      name: `${config.name}.in`,
      logger: config.logger,
    });
    const valuesOut = config.valuesOut === undefined ? undefined : new SharedValues({
      fields: config.valuesOut,
      name: `${config.name}.out`,
      logger: config.logger,
    });
    this.values = { in: valuesIn, out: valuesOut };
    let ringIn: RingWriter | undefined;
    let ringOut: RingReader | undefined;
    try {
      if (config.ringIn !== undefined) {
        ringIn = RingWriter.create({
          name: `${config.name}.in`,
          logger: config.logger,
          metrics: config.metrics,
          ...config.ringIn,
        });
      }
      if (config.ringOut !== undefined) {
        const buffer = RingWriter.createBuffer(config.ringOut);
        ringOut = new RingReader(buffer, {
          name: config.ringOut.name ?? `${config.name}.out`,
          logger: config.ringOut.logger ?? config.logger,
        });
      }
    } catch (error) {
      ringIn?.close();
      throw error;
    }
    this.rings = { in: ringIn, out: ringOut };
    this.#driver = config.driver ??
      new Driver({ profile: "efficient", name: config.name, logger: config.logger });
  }

  /** Where the island is. */
  get state(): IslandState {
    return this.#state;
  }

  /**
   * Takes a snapshot, read from shared memory (no message to the island).
   *
   * @returns The island's figures and each task's.
   */
  stats(): IslandStats {
    const alive = this.#state === "running" || this.#state === "closing";
    const perTask = this.#readers.map((r) => readTaskStats(r, this.#control, alive));
    let runs = 0, failures = 0, deadlineMisses = 0, overruns = 0;
    for (const t of perTask) {
      runs += t.runs;
      failures += t.failures;
      deadlineMisses += t.deadlineMisses;
      overruns += t.overruns;
    }
    const lastError = this.#lastError;
    return {
      name: this.name,
      state: this.#state,
      leadUs: this.#config.leadUs ?? defaultLeadUs(this.#scheduling, this.#config.maxLeadUs),
      currentLeadUs: Atomics.load(this.#control, C_LEAD_US),
      scheduling: this.#scheduling,
      restarts: this.#restarts,
      crashes: this.#crashes,
      stuckThreads: this.#stuck,
      lastError: lastError === undefined ? undefined : { ...lastError },
      lastErrorCode: this.#lastCode,
      runs,
      failures,
      deadlineMisses,
      overruns,
      perTask,
    };
  }

  /**
   * Stops the island: its thread finishes the run in progress, runs
   * `dispose()`, closes its ends of the rings and ends; past `graceMs` it is
   * terminated. The main thread's ring ends are closed too (read what you
   * need from `rings.out` first). Calling it again returns the same report.
   *
   * @param options The grace period.
   * @returns What closing did.
   * @throws {TypeError} (as a rejection) when `options` is not an object.
   * @throws {RangeError} (as a rejection) when `graceMs` is negative or not finite.
   */
  close(options: IslandCloseOptions = {}): Promise<IslandCloseReport> {
    if (this.#closing !== undefined) return this.#closing;
    let graceMs: number;
    try {
      requireOptions("close the Island", "options", options);
      graceMs = requireNonNegative("close the Island", "graceMs", options.graceMs ?? 5000);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#closing = this.#close(graceMs);
    return this.#closing;
  }

  /**
   * Restarts the island by hand: stops its thread as `close()` would (the
   * stop command, then `dispose()`, terminated after `graceMs`), then starts
   * a new thread on the same shared values, rings and timing slots. Works
   * from `running`, `restarting` and `failed` (no thread: it just starts
   * one); counts in `restarts`. Concurrent calls share one restart.
   *
   * @example Restarting a running island
   * ```ts
   * import { Island } from "@chronetix/core";
   * import { assertEquals } from "@std/assert";
   *
   * const module = "data:text/javascript,export function loop() {}";
   * await using island = await Island.start({ name: "r", module, tasks: [{ name: "loop", periodMs: 5 }] });
   * await island.restart();
   * assertEquals([island.state, island.stats().restarts], ["running", 1]);
   * ```
   *
   * @param options The grace period of the stop.
   * @returns A promise that resolves once the new thread runs its tasks.
   * @throws {ClosedError} (as a rejection) when the island is closing or closed.
   * @throws {IslandError} (as a rejection) when the new thread fails to start.
   */
  restart(options: IslandCloseOptions = {}): Promise<void> {
    if (this.#closing !== undefined) {
      return Promise.reject(new ClosedError("Island", "restart the island"));
    }
    if (this.#restarting !== undefined) return this.#restarting;
    let graceMs: number;
    try {
      requireOptions("restart the Island", "options", options);
      graceMs = requireNonNegative("restart the Island", "graceMs", options.graceMs ?? 5000);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#restarting = this.#restart(graceMs).finally(() => this.#restarting = undefined);
    return this.#restarting;
  }

  async #restart(graceMs: number): Promise<void> {
    this.#cancelTimers();
    this.#state = "restarting";
    await this.#stopThread(graceMs);
    if (this.#closing !== undefined) throw new ClosedError("Island", "restart the island");
    this.#restarts++;
    await this.#launch();
  }

  /** Closes with the default grace period; see {@linkcode Island.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  static {
    begin = async (config, seams) => {
      const island = new Island(config, seams);
      await island.#begin();
      return island;
    };
  }

  /** Starts the first thread; rejects (and cleans up) when it cannot run. */
  async #begin(): Promise<void> {
    if (this.#config.metrics !== undefined) {
      this.#metrics = registerIslandMetrics(
        this.#config.metrics,
        this.name,
        () => this.stats(),
        this.#readers,
      );
    }
    try {
      await this.#launch();
      this.#started = true;
    } catch (error) {
      await this.close({ graceMs: 0 });
      throw error;
    }
  }

  #now(): number {
    return this.#driver.clock.now();
  }

  #launch(): Promise<void> {
    const generation = ++this.#generation;
    const control = this.#control;
    Atomics.store(control, C_COMMAND, 0);
    Atomics.store(control, C_PHASE, 0);
    Atomics.store(control, C_RUNNING, 0);
    const c = this.#config;
    const boot: IslandBoot = {
      chronetixIsland: 1,
      name: c.name,
      moduleUrl: c.moduleUrl,
      control: this.#controlBuffer,
      slots: this.#slots,
      tasks: c.tasks,
      leadMs: c.leadUs === undefined ? undefined : c.leadUs / 1000,
      maxLeadMs: c.maxLeadUs / 1000,
      priority: c.priority,
      scheduling: c.scheduling,
      realtimePriority: c.realtimePriority,
      budget: c.budget,
      restarts: this.#restarts,
      values: {
        in: this.values.in === undefined
          ? undefined
          : { buffer: this.values.in.buffer, fields: [...this.values.in.fields] },
        out: this.values.out === undefined
          ? undefined
          : { buffer: this.values.out.buffer, fields: [...this.values.out.fields] },
      },
      rings: {
        in: this.rings.in === undefined
          ? undefined
          : { buffer: this.rings.in.buffer, epoch: this.#epochs.in },
        out: this.rings.out === undefined
          ? undefined
          : { buffer: this.rings.out.buffer, epoch: this.#epochs.out },
      },
      mainTimeOrigin: performance.timeOrigin,
    };
    const pending = Promise.withResolvers<void>();
    this.#pendingStart = pending;
    this.#state = "starting";
    this.#scheduling = "normal";
    try {
      this.#thread = this.#host.spawn(boot, c.maxHeapMb, {
        message: (reply) => this.#onMessage(generation, reply),
        exit: (exit) => this.#onExit(generation, exit),
      });
    } catch (error) {
      this.#crash(
        generation,
        spawnError(c.name, error),
      );
      return pending.promise;
    }
    try {
      this.#startTimer = this.#driver.after(c.startTimeoutMs, () => {
        this.#startTimer = undefined;
        this.#stuck++;
        this.#crash(
          generation,
          startTimeoutError(c.name, c.startTimeoutMs),
        );
      });
    } catch {
      // A closed driver: the start is not timed.
    }
    return pending.promise;
  }

  #onMessage(generation: number, reply: IslandReply): void {
    if (generation !== this.#generation) return;
    switch (reply.t) {
      case "attached":
        this.#epochs = { in: reply.inEpoch, out: reply.outEpoch };
        if (reply.priorityError !== undefined) {
          this.#config.logger.warn(
            `Island "${this.name}" runs at its inherited priority: ${reply.priorityError}`,
          );
        }
        this.#scheduling = reply.scheduling;
        if (reply.schedulingError !== undefined) {
          this.#config.logger.warn(
            `Island "${this.name}" runs under the normal scheduling policy: ${reply.schedulingError}`,
          );
        }
        return;
      case "ready": {
        this.#startTimer?.cancel();
        this.#startTimer = undefined;
        if (this.#state !== "starting") return;
        this.#state = "running";
        this.#armWatch();
        const pending = this.#pendingStart;
        this.#pendingStart = undefined;
        pending?.resolve();
        return;
      }
      case "failed": {
        const error = failureError(this.name, reply.phase, reply.error);
        if (this.#stopped !== undefined) {
          this.#stopped.resolve("exit");
          return;
        }
        this.#crash(generation, error);
        return;
      }
      case "closed":
        this.#stopped?.resolve(reply.disposeError);
        return;
    }
  }

  #onExit(generation: number, exit: ThreadExit): void {
    if (generation !== this.#generation) return;
    this.#thread = undefined;
    if (this.#stopped !== undefined) {
      this.#stopped.resolve("exit");
      return;
    }
    const error = exitError(this.name, exit, this.#config.maxHeapMb);
    this.#crash(generation, error);
  }

  /** A failure of the current thread: kept, logged, the thread ended, restarted by policy. */
  #crash(generation: number, error: IslandError): void {
    if (generation !== this.#generation || this.#state === "closed") return;
    this.#generation++; // later events of this thread are stale
    this.#crashes++;
    this.#lastError = errorRecord(error, this.#now());
    this.#lastCode = error.code;
    // A first start that fails rejects `start()` with the error: its caller
    // reports it (logged here too, it would be said twice).
    if (this.#started) this.#config.logger.error(error.message);
    this.#scheduling = "normal"; // the thread is gone
    this.#startTimer?.cancel();
    this.#startTimer = undefined;
    this.#watch?.cancel();
    this.#watch = undefined;
    this.#thread?.terminate();
    this.#thread = undefined;
    const pending = this.#pendingStart;
    this.#pendingStart = undefined;
    if (!this.#started) {
      this.#state = "failed";
      pending?.reject(error);
      return;
    }
    const c = this.#config;
    if (c.restartPolicy === "never" || this.#restarts >= c.maxRestarts) {
      this.#state = "failed";
      return;
    }
    this.#state = "restarting";
    try {
      this.#backoff = this.#driver.after(c.backoffMs, () => {
        this.#backoff = undefined;
        if (this.#state !== "restarting") return;
        this.#restarts++;
        this.#launch().catch(() => {}); // a failed restart is a crash of its own
      }, { latenessClass: "island-restart" });
    } catch {
      this.#state = "failed"; // no driver left to wait with
    }
  }

  #armWatch(): void {
    const every = Math.min(250, Math.max(1, this.#config.hangMs / 4));
    this.#watchRun = { running: 0, seq: 0, since: this.#now() };
    try {
      this.#watch = this.#driver.every(every, this.#sweep, { latenessClass: "island-watch" });
    } catch {
      // A closed driver: nothing watches for hangs.
    }
  }

  /** The watchdog: hangs, new failures and tier changes, read from shared memory. */
  #sweep = (): void => {
    const now = this.#now();
    const control = this.#control;
    const running = Atomics.load(control, C_RUNNING);
    const seq = Atomics.load(control, C_RUN_SEQ);
    const w = this.#watchRun;
    if (running === 0 || running !== w.running || seq !== w.seq) {
      this.#watchRun = { running, seq, since: now };
    } else if (now - w.since >= this.#config.hangMs) {
      const task = this.#config.tasks[running - 1]?.name;
      this.#stuck++;
      this.#crash(
        this.#generation,
        hangError(this.name, task, this.#config.hangMs),
      );
      return;
    }
    this.#report(now);
  };

  #report(now: number): void {
    for (const reader of this.#readers) {
      const i = reader.index;
      const failures = reader.views.cells[F_FAILURES]!;
      if (failures > this.#seenFailures[i]!) {
        this.#seenFailures[i] = failures;
        const message = readTaskStats(reader, this.#control, false).lastError?.message;
        this.#failureLog.error(
          reader.task.name,
          now,
          `Island "${this.name}" task "${reader.task.name}" failed: ${message}`,
        );
      }
      const tier = reader.views.cells[F_TIER]!;
      if (tier !== this.#seenTiers[i]) {
        const from = BUDGET_TIERS[this.#seenTiers[i]!];
        this.#seenTiers[i] = tier;
        const to = BUDGET_TIERS[tier];
        this.#config.logger.warn(
          `Island "${this.name}" task "${reader.task.name}" exceeded its ${reader.task.budgetMs} ms budget: tier ${from} -> ${to}${
            to === "isolate" ? ", quarantined" : ""
          }`,
        );
      }
    }
  }

  /** Asks the thread to stop; terminates it when it has not within `graceMs`. */
  async #stopThread(graceMs: number): Promise<ThreadStop> {
    let terminated = false;
    let disposeError: ErrorReport | undefined;
    let stoppedCleanly = true;
    if (this.#thread !== undefined) {
      const stopped = Promise.withResolvers<ErrorReport | undefined | "exit">();
      this.#stopped = stopped;
      Atomics.store(this.#control, C_COMMAND, CMD_STOP);
      Atomics.notify(this.#control, C_COMMAND);
      let timer: Timer | undefined;
      try {
        if (graceMs === 0) throw new RangeError("no grace period");
        timer = this.#driver.after(graceMs, () => stopped.resolve("exit"), {
          latenessClass: "island-close",
        });
      } catch {
        stopped.resolve("exit");
      }
      const outcome = await stopped.promise;
      timer?.cancel();
      if (outcome === "exit") {
        stoppedCleanly = false;
        terminated = this.#thread !== undefined;
      } else {
        disposeError = outcome;
      }
      this.#thread?.terminate();
      this.#thread = undefined;
    }
    this.#stopped = undefined;
    return { stoppedCleanly, terminated, disposeError };
  }

  /** Cancels the back-off, start and watchdog timers. */
  #cancelTimers(): void {
    this.#backoff?.cancel();
    this.#backoff = undefined;
    this.#startTimer?.cancel();
    this.#startTimer = undefined;
    this.#watch?.cancel();
    this.#watch = undefined;
  }

  async #close(graceMs: number): Promise<IslandCloseReport> {
    const start = this.#now();
    this.#state = "closing";
    this.#cancelTimers();
    const pending = this.#pendingStart;
    this.#pendingStart = undefined;
    pending?.reject(new ClosedError("Island", "start the island"));
    const { stoppedCleanly, terminated, disposeError } = await this.#stopThread(graceMs);
    this.#report(this.#now());
    this.#metrics?.[Symbol.dispose]();
    this.#metrics = undefined;
    this.rings.in?.close();
    this.rings.out?.close();
    if (this.#ownsDriver) this.#driver.close();
    const stats = this.stats();
    this.#state = "closed";
    this.#scheduling = "normal";
    this.#onClosed?.(this);
    return {
      name: this.name,
      graceful: stoppedCleanly && disposeError === undefined,
      terminated,
      runs: stats.runs,
      failures: stats.failures,
      restarts: this.#restarts,
      disposeError: disposeError === undefined
        ? undefined
        : disposeError.stack === undefined
        ? { message: disposeError.message, atMs: disposeError.atMs }
        : { message: disposeError.message, stack: disposeError.stack, atMs: disposeError.atMs },
      durationMs: this.#now() - start,
    };
  }
}

/**
 * Starts an island with internal seams (a fake thread host in tests, the
 * kernel's close hook).
 *
 * @param options As {@linkcode Island.start}.
 * @param seams The host and the close hook.
 * @returns The running island.
 */
export async function startIsland(
  options: IslandOptions,
  seams: IslandSeams = {},
): Promise<Island> {
  const config = resolveIslandOptions(options);
  if (seams.host === undefined) await loadWorkerThreads();
  return await begin(config, seams);
}
