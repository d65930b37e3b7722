import { type Clock, MONOTONIC_CLOCK } from "../time/clock.ts";
import { Driver } from "../time/driver.ts";
import type { PrecisionProfile } from "../time/precision.ts";
import type { TimerId } from "../time/timer_wheel.ts";
import { LatencyHistogram } from "../time/latency_histogram.ts";
import type { EventBus } from "../bus/event_bus.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import { ClosedError } from "../errors.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import { LogLimiter } from "../internal/log_limiter.ts";
import {
  requireInteger,
  requireLogger,
  requireNonEmptyString,
  requireNonNegative,
  requirePositive,
  show,
} from "../internal/validate.ts";
import {
  BUDGET_TOPIC,
  type BudgetEvent,
  type BudgetPolicy,
  BudgetTracker,
  resolveBudgetPolicy,
  TIER_LEVEL,
} from "./budget.ts";
import type {
  EventTaskOptions,
  ExecutorStats,
  OneShotTaskOptions,
  PeriodicTaskOptions,
  TaskHandle,
  TaskOptions,
} from "./task.ts";
import { RunQueue } from "./_run_queue.ts";
import {
  type Bridge,
  type Job,
  rejectedWithoutReason,
  resolveTaskConfig,
  type TaskKind,
  TaskRecord,
} from "./_task_record.ts";
import { type ExecutorMetrics, registerExecutorMetrics } from "./_executor_metrics.ts";

/** Options of an {@linkcode Executor}. */
export interface ExecutorOptions {
  /**
   * The executor's name: the `executor` label of its metrics, so two
   * executors can share one registry.
   *
   * @default {"executor"}
   */
  name?: string;
  /**
   * Where failed runs (rate-limited, one line per task per second) and
   * budget tier changes are logged.
   *
   * @default {CONSOLE_LOGGER}
   */
  logger?: Logger;
  /**
   * The driver that releases timed tasks; when left out the executor makes
   * its own, with the executor's `name` and `logger`, and closes it on close.
   */
  driver?: Driver;
  /** The clock of a driver the executor makes. @default {MONOTONIC_CLOCK} */
  clock?: Clock;
  /** The precision profile of a driver the executor makes. @default {"balanced"} */
  profile?: PrecisionProfile;
  /** The bus event tasks subscribe to and budget events go to. */
  bus?: EventBus;
  /**
   * Where isolated offloadable tasks run: an `OffloadPool`, or anything
   * that submits a job by name and resolves with its result.
   */
  offload?: { submit(job: string, input: unknown): Promise<unknown> };
  /**
   * The global cap on runnable releases (waiting plus running), all tasks.
   *
   * @default {1024}
   */
  maxRunnable?: number;
  /**
   * How many releases may wait deferred (`overflow: "defer"`), all tasks;
   * past it they are dropped with reason `defer-cap`.
   *
   * @default {4096}
   */
  deferCap?: number;
  /**
   * `"adaptive"`: one timer per task, the driver wakes exactly for the next
   * release. `{ fixedMs }`: a fixed tick every `fixedMs` releases whatever
   * is due (the classic design, for comparison).
   *
   * @default {"adaptive"}
   */
  tick?: "adaptive" | { fixedMs: number };
  /** Thresholds and cooldowns of the budget tiers. */
  budget?: BudgetPolicy;
  /** Registry to export `chronetix_exec_*` metrics into. */
  metrics?: MetricsRegistry;
}

/** What {@linkcode Executor.close} did. */
export interface ExecutorCloseReport {
  /** Tasks cancelled. */
  cancelled: number;
  /** Waiting or deferred releases dropped. */
  dropped: number;
}

/**
 * Runs tasks on time: periodic (released by the driver, drift-free),
 * one-shot, and event-triggered (one release per bus event). Ready runs go
 * earliest deadline first (ties: higher priority, then release order).
 * Every run is timed into pre-allocated per-task histograms: scheduling
 * latency, execution time and lateness (last, EWMA, min, max, percentiles),
 * beside deadline misses, overruns, failures (with the last error), skipped
 * ticks and drops by reason.
 *
 * QoS: a per-task queue cap and a global cap on runnable releases, with a
 * drop or defer policy, every drop counted by reason. Budgets: a task over
 * its budget climbs the tiers monitor, warn, yield, isolate, and steps down
 * after good behaviour. A task that throws is counted, logged (at most one
 * line per task per second) and handled by its error policy; it never
 * breaks the executor.
 *
 * @example EDF order on a virtual clock
 * ```ts
 * import { Executor } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * using executor = new Executor({ clock });
 * const order: string[] = [];
 * executor.periodic({ name: "slow", periodMs: 10, deadlineMs: 10, run: () => void order.push("slow") });
 * executor.periodic({ name: "fast", periodMs: 10, deadlineMs: 2, run: () => void order.push("fast") });
 * clock.advance(10);
 * assertEquals(order, ["fast", "slow"]); // released together, earliest deadline first
 * assertEquals(executor.task("fast")!.stats().runs, 1);
 * ```
 */
export class Executor {
  /** The driver that releases timed tasks. */
  readonly driver: Driver;
  readonly #ownsDriver: boolean;
  readonly #clock: Clock;
  readonly #bus: EventBus | undefined;
  readonly #offload: ExecutorOptions["offload"];
  readonly #maxRunnable: number;
  readonly #deferCap: number;
  readonly #fixedMs: number;
  readonly #budget: BudgetPolicy;
  readonly #logger: Logger;
  readonly #tasks = new Map<string, TaskRecord>();
  readonly #queue: RunQueue;
  readonly #bridge: Bridge;
  #running = 0;
  #runs = 0;
  #misses = 0;
  #failures = 0;
  #overruns = 0;
  #skippedTicks = 0;
  readonly #sched = new LatencyHistogram();
  readonly #exec = new LatencyHistogram();
  #dispatchId: TimerId | undefined;
  #tickTimer: { cancel(): boolean } | undefined;
  #dispatching = false;
  #stopped = false;
  #closed = false;
  #closeReport: ExecutorCloseReport | undefined;
  #idleWaiters: (() => void)[] = [];
  #metrics: ExecutorMetrics | undefined;

  /**
   * Creates an executor.
   *
   * @param options Name, logger, driver or clock, bus, offload pool, caps, tick, budget policy, metrics.
   * @throws {TypeError} when an option has the wrong type.
   * @throws {RangeError} when a cap or the fixed tick is out of range.
   */
  constructor(options: ExecutorOptions = {}) {
    const action = "create an Executor";
    const name = requireNonEmptyString(action, "name", options.name ?? "executor");
    const maxRunnable = options.maxRunnable ?? 1024;
    this.#maxRunnable = requireInteger(action, "maxRunnable", maxRunnable, 1, 2 ** 30);
    this.#deferCap = requireInteger(action, "deferCap", options.deferCap ?? 4096, 0, 2 ** 30);
    const tick = options.tick ?? "adaptive";
    if (tick === "adaptive") {
      this.#fixedMs = 0;
    } else if (tick !== null && typeof tick === "object") {
      this.#fixedMs = requirePositive(action, "tick.fixedMs", tick.fixedMs);
    } else {
      throw new TypeError(
        `Cannot ${action} as 'tick' must be "adaptive" or { fixedMs }: current value is ${
          show(tick)
        }`,
      );
    }
    this.#queue = new RunQueue(this.#maxRunnable, this.#deferCap, () => this.#scheduleDispatch());
    this.#budget = resolveBudgetPolicy(options.budget);
    this.#logger = requireLogger(action, "logger", options.logger ?? CONSOLE_LOGGER);
    this.#bus = options.bus;
    this.#offload = options.offload;
    this.#ownsDriver = options.driver === undefined;
    this.driver = options.driver ?? new Driver({
      name,
      logger: this.#logger,
      clock: options.clock ?? MONOTONIC_CLOCK,
      profile: options.profile,
    });
    this.#clock = this.driver.clock;
    this.#bridge = {
      release: (task, release, event) => this.#releaseRun(task, release, event),
      dropWaiting: (task) => {
        const dropped = this.#queue.dropWaiting(task);
        this.#notifyIdle();
        return dropped;
      },
      forget: (task) => {
        if (this.#tasks.get(task.name) === task) this.#tasks.delete(task.name);
        this.#metrics?.taskRemoved(task);
      },
      clock: this.#clock,
      driver: this.driver,
      logger: this.#logger,
      failureLog: new LogLimiter(this.#logger),
    };
    if (this.#fixedMs > 0) {
      this.#tickTimer = this.driver.every(this.#fixedMs, this.#fixedTick, {
        latenessClass: "exec-tick",
      });
    }
    if (options.metrics !== undefined) {
      this.#metrics = registerExecutorMetrics(options.metrics, name, () => ({
        runnable: this.#queue.runnable,
        deferred: this.#queue.deferredCount,
        running: this.#running,
      }));
    }
  }

  /**
   * Adds a periodic task, released every `periodMs` without drift. After a
   * stall, `missedTicks: "skip"` (the default) skips the ticks whose time
   * passed and counts them in the task's `skippedTicks`.
   *
   * @param options Name, body, period, deadline, priority, budget, caps, policies.
   * @returns The task's handle.
   * @throws {TypeError} when the name is taken or an option has the wrong type.
   * @throws {RangeError} when the period, deadline, budget or a cap is out of range.
   */
  periodic(options: PeriodicTaskOptions): TaskHandle {
    const action = "add a periodic task";
    const period = requirePositive(action, "periodMs", options?.periodMs);
    const delay = requireNonNegative(action, "delayMs", options.delayMs ?? period);
    const task = this.#add(action, "periodic", options as TaskOptions<unknown>, period);
    const missedTicks = options.missedTicks ?? "skip";
    task.periodMs = period;
    if (this.#fixedMs > 0) {
      task.attach = (delayMs) => {
        task.nextRelease = this.#clock.now() + delayMs;
      };
    } else {
      // Under "skip" the wheel jumps a stalled timer's deadline past the
      // ticks it missed; a gap of more than one period between releases is
      // how the executor sees them per task.
      if (missedTicks === "skip") task.skipGap = period * 1.5;
      task.attach = (delayMs) => {
        task.timer = this.driver.every(period, task.releaseTimer, {
          delayMs,
          missedTicks,
          latenessClass: `task:${task.name}`,
        });
      };
    }
    task.attach(delay);
    return task.handle;
  }

  /**
   * Adds a one-shot task, released once after `delayMs`.
   *
   * @param options Name, body, delay, deadline, priority, budget, policies.
   * @returns The task's handle.
   * @throws {TypeError} when the name is taken or an option has the wrong type.
   * @throws {RangeError} when the delay, deadline or budget is out of range.
   */
  once(options: OneShotTaskOptions): TaskHandle {
    const action = "add a one-shot task";
    const delay = requireNonNegative(action, "delayMs", options?.delayMs ?? 0);
    const task = this.#add(action, "once", options as TaskOptions<unknown>, Infinity);
    task.attach = (delayMs) => {
      if (this.#fixedMs > 0) {
        task.nextRelease = this.#clock.now() + delayMs;
      } else {
        task.timer = this.driver.after(delayMs, task.releaseTimer, {
          latenessClass: `task:${task.name}`,
        });
      }
    };
    task.attach(delay);
    return task.handle;
  }

  /**
   * Adds an event-triggered task: each event on `topic` releases one run,
   * with the event in `ctx.event`.
   *
   * @param options Name, body, topic, deadline, priority, budget, caps, policies.
   * @returns The task's handle.
   * @throws {TypeError} when the executor has no bus, the name is taken or
   *   an option has the wrong type.
   */
  onEvent<E>(options: EventTaskOptions<E>): TaskHandle {
    const action = "add an event task";
    if (this.#bus === undefined) {
      throw new TypeError(`Cannot ${action} as the Executor has no 'bus'`);
    }
    const topic = requireNonEmptyString(action, "topic", options?.topic);
    const task = this.#add(action, "event", options as TaskOptions<unknown>, Infinity);
    const bus = this.#bus;
    task.attach = () => {
      task.subscription = bus.topic<unknown>(topic).subscribe(task.releaseEvent);
    };
    task.attach(0);
    return task.handle;
  }

  /**
   * The handle of a live task.
   *
   * @param name The task's name.
   * @returns Its handle, or `undefined`.
   */
  task(name: string): TaskHandle | undefined {
    return this.#tasks.get(name)?.handle;
  }

  /** Names of the live tasks, in the order added. */
  get taskNames(): string[] {
    return [...this.#tasks.keys()];
  }

  /**
   * Stops releasing tasks (timers and subscriptions are cancelled); what is
   * waiting still runs. Used by the kernel's graceful shutdown.
   *
   * @returns How many deferred releases were dropped.
   */
  stopReleasing(): number {
    this.#stopped = true;
    this.#tickTimer?.cancel();
    for (const task of this.#tasks.values()) task.detach();
    const dropped = this.#queue.dropDeferred();
    this.#notifyIdle();
    return dropped;
  }

  /**
   * Resolves once nothing is waiting or running (at once if so now), or
   * when the executor closes.
   *
   * @returns A promise that resolves once the executor is idle.
   */
  whenIdle(): Promise<void> {
    if ((this.#queue.runnable === 0 && this.#queue.deferredCount === 0) || this.#closed) {
      return Promise.resolve();
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#idleWaiters.push(resolve);
    return promise;
  }

  /**
   * Takes a snapshot of the executor and every task.
   *
   * @returns The current figures.
   */
  stats(): ExecutorStats {
    return {
      tasks: this.#tasks.size,
      runnable: this.#queue.runnable,
      queued: this.#queue.runnable - this.#running,
      deferred: this.#queue.deferredCount,
      running: this.#running,
      runs: this.#runs,
      deadlineMisses: this.#misses,
      failures: this.#failures,
      overruns: this.#overruns,
      dropped: { ...this.#queue.dropped },
      skippedTicks: this.#skippedTicks,
      schedulingLatency: this.#sched.snapshot(),
      execution: this.#exec.snapshot(),
      perTask: [...this.#tasks.values()].map((t) => t.stats()),
    };
  }

  /**
   * Cancels every task at once: waiting releases are dropped, running async
   * bodies see their signals abort. The driver, if the executor made it, is
   * closed. Calling it again returns the same report.
   *
   * @returns What was cancelled and dropped.
   */
  close(): ExecutorCloseReport {
    if (this.#closeReport !== undefined) return this.#closeReport;
    this.#closed = true;
    this.#stopped = true;
    this.#tickTimer?.cancel();
    const tasks = [...this.#tasks.values()];
    let dropped = 0;
    for (const task of tasks) dropped += task.cancel();
    if (this.#dispatchId !== undefined) this.driver.wheel.cancel(this.#dispatchId);
    this.#dispatchId = undefined;
    this.#metrics?.[Symbol.dispose]();
    this.#metrics = undefined;
    if (this.#ownsDriver) this.driver.close();
    this.#notifyIdle();
    this.#closeReport = { cancelled: tasks.length, dropped };
    return this.#closeReport;
  }

  /** Same as {@linkcode Executor.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #releaseRun(task: TaskRecord, release: number, event: unknown): void {
    task.releases++;
    const gap = release - task.lastRelease;
    task.lastRelease = release;
    if (gap > task.skipGap) {
      const skipped = Math.round(gap / task.periodMs) - 1;
      task.skippedTicks += skipped;
      this.#skippedTicks += skipped;
    }
    if (this.#stopped || task.terminal) {
      if (!task.terminal) this.#queue.countDrop(task, "stopped");
      return;
    }
    this.#queue.admit(this.#queue.job(task, release, event, 0));
  }

  #add(action: string, kind: TaskKind, options: TaskOptions<unknown>, period: number): TaskRecord {
    if (this.#closed) throw new ClosedError("Executor", action);
    const config = resolveTaskConfig(action, kind, options, period, this.#offload !== undefined);
    if (this.#tasks.has(config.name)) {
      throw new TypeError(`Cannot ${action} as a task named "${config.name}" already exists`);
    }
    const task = new TaskRecord(this.#bridge, config, new BudgetTracker(this.#budget));
    task.histograms = this.#metrics?.taskAdded(task);
    this.#tasks.set(config.name, task);
    return task;
  }

  #scheduleDispatch(): void {
    if (this.#dispatching || this.#dispatchId !== undefined || this.#fixedMs > 0) return;
    this.#dispatchId = this.driver.wheel.schedule(this.#clock.now(), this.#dispatch);
  }

  #dispatch = (): void => {
    if (this.#dispatchId !== undefined) {
      this.driver.wheel.cancel(this.#dispatchId);
      this.#dispatchId = undefined;
    }
    this.#dispatching = true;
    try {
      const queue = this.#queue;
      for (let job = queue.pop(); job !== undefined; job = queue.pop()) this.#start(job);
    } finally {
      this.#dispatching = false;
    }
  };

  #fixedTick = (): void => {
    const now = this.#clock.now();
    for (const task of this.#tasks.values()) {
      while (task.nextRelease <= now && !task.terminal) {
        const release = task.nextRelease;
        task.nextRelease = task.periodMs > 0 ? release + task.periodMs : Infinity;
        this.#releaseRun(task, release, undefined);
      }
    }
    this.#dispatch();
  };

  #start(job: Job): void {
    const task = job.task;
    task.ready = undefined;
    const start = this.#clock.now();
    task.running = true;
    task.state = "running";
    task.runs++;
    this.#runs++;
    this.#running++;
    const latency = start - job.release;
    task.sched.record(latency);
    this.#sched.record(latency);
    task.histograms?.sched.observe(latency / 1000);
    task.prepare(job, start);
    if (task.budget.level === TIER_LEVEL.isolate && task.offload !== undefined) {
      this.#startOffloaded(job, start);
      return;
    }
    let result: unknown;
    try {
      result = task.run(task.ctx);
    } catch (error) {
      this.#finish(job, start, error ?? rejectedWithoutReason(task.name));
      return;
    }
    if (result instanceof Promise) {
      result.then(
        () => this.#finish(job, start, undefined),
        (error) => this.#finish(job, start, error ?? rejectedWithoutReason(task.name)),
      );
    } else {
      this.#finish(job, start, undefined);
    }
  }

  #startOffloaded(job: Job, start: number): void {
    const task = job.task;
    task.offloaded++;
    const offload = task.offload!;
    let input: unknown;
    try {
      input = offload.input === undefined ? job.event : offload.input(task.ctx);
    } catch (error) {
      this.#finish(job, start, error ?? rejectedWithoutReason(task.name));
      return;
    }
    this.#offload!.submit(offload.job, input).then(
      () => this.#finish(job, start, undefined),
      (error) => this.#finish(job, start, error ?? rejectedWithoutReason(task.name)),
    );
  }

  /** Ends a run; `error` is `undefined` for a run that succeeded. */
  #finish(job: Job, start: number, error: unknown): void {
    const task = job.task;
    const end = this.#clock.now();
    const exec = end - start;
    const lateness = end - job.deadline;
    task.exec.record(exec);
    this.#exec.record(exec);
    task.lateness.record(lateness);
    const histograms = task.histograms;
    if (histograms !== undefined) {
      histograms.exec.observe(exec / 1000);
      histograms.lateness.observe(lateness > 0 ? lateness / 1000 : 0);
    }
    if (lateness > 0) {
      task.misses++;
      this.#misses++;
    }
    const budget = task.budgetMs;
    if (budget !== undefined) {
      if (exec > budget) {
        task.overruns++;
        this.#overruns++;
      }
      const step = task.budget.observe(exec, budget, end);
      if (step !== 0) {
        const event = task.tierChanged(step, exec);
        this.#bus?.topic<BudgetEvent>(BUDGET_TOPIC).publish(event);
      }
    }
    task.running = false;
    this.#running--;
    const queue = this.#queue;
    queue.runnable--;
    if (error !== undefined) this.#failed(task, job, error, end);
    if (task.state === "running") task.state = "done";
    queue.free(job);
    queue.promote(task);
    queue.admitDeferred();
    if (queue.readyCount > 0) {
      // An async run ended in a promise continuation: nothing is dispatching,
      // so the next run starts now (a fixed tick waits for its tick).
      if (!this.#dispatching && this.#fixedMs === 0) this.#dispatch();
    } else {
      this.#notifyIdle();
    }
  }

  #failed(task: TaskRecord, job: Job, error: unknown, now: number): void {
    task.failures++;
    this.#failures++;
    const failure = task.noteFailure(error, now);
    if (task.onError === "retry" && job.attempt < task.maxRetries && !task.terminal) {
      task.retries++;
      const retry = this.#queue.job(task, now, job.event, job.attempt + 1);
      retry.deadline = job.deadline;
      this.#queue.requeue(retry);
      return;
    }
    if (task.onError === "stop") {
      task.reason = `stopped after a failed run: ${failure.message}`;
      task.stop("failed");
    }
  }

  #notifyIdle(): void {
    const queue = this.#queue;
    if ((queue.runnable !== 0 || queue.deferredCount !== 0) && !this.#closed) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const waiter of waiters) waiter();
  }
}
