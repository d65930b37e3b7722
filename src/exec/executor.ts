import type { Clock } from "../time/clock.ts";
import { Driver } from "../time/driver.ts";
import type { TimerId } from "../time/timer_wheel.ts";
import { LatencyHistogram } from "../time/latency_histogram.ts";
import type { EventBus } from "../bus/event_bus.ts";
import { ClosedError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { LogLimiter } from "../internal/log_limiter.ts";
import {
  BUDGET_TOPIC,
  type BudgetEvent,
  type BudgetPolicy,
  BudgetTracker,
  TIER_LEVEL,
} from "./budget.ts";
import type {
  EventTaskOptions,
  ExecutorCloseReport,
  ExecutorOptions,
  ExecutorStats,
  OneShotTaskOptions,
  PeriodicTaskOptions,
  ScheduleTaskOptions,
  TaskHandle,
} from "./task.ts";
import { RunQueue } from "./_run_queue.ts";
import { releaseDue, type TickSink } from "./_fixed_tick.ts";
import { type Bridge, type Job, rejectedWithoutReason, TaskRecord } from "./_task_record.ts";
import { resolveTaskConfig, type TaskConfig, type TaskKind } from "./_task_config.ts";
import { type ExecutorMetrics, registerExecutorMetrics } from "./_executor_metrics.ts";
import { GuardedHooks } from "./_guarded_hooks.ts";
import { armPlan, type PlanHost, planWake } from "./_plan_timer.ts";
import type { ExecutorHooks } from "./hooks.ts";
import {
  containedLogger,
  errorMessage,
  type Offload,
  resolveExecutorOptions,
  subscribe,
} from "./_executor_options.ts";

export type { ExecutorCloseReport, ExecutorOptions } from "./task.ts";

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
  readonly #offload: Offload | undefined;
  readonly #maxRunnable: number;
  readonly #deferCap: number;
  readonly #fixedMs: number;
  readonly #budget: BudgetPolicy;
  readonly #name: string;
  readonly #logger: Logger;
  readonly #failureLog: LogLimiter;
  readonly #tasks = new Map<string, TaskRecord>();
  readonly #queue: RunQueue;
  readonly #bridge: Bridge;
  readonly #planHost: PlanHost;
  readonly #hooks: GuardedHooks;
  readonly #hooksGiven: ExecutorHooks | undefined;
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
   * Creates an executor. Every option is checked before anything is made,
   * so a bad one leaves nothing behind (no driver, timer or metrics series).
   *
   * @param options Name, logger, driver or clock, bus, offload pool, caps, tick, budget policy, metrics.
   * @throws {TypeError} when `options` is not an object, an option has the
   *   wrong type, or an injected `driver`, `clock`, `bus`, `offload` or
   *   `metrics` does not have the shape it needs.
   * @throws {RangeError} when a cap, a budget field or the fixed tick is out
   *   of range (the tick must be at least `MIN_PERIOD_MS`, 0.001 ms).
   * @throws {ClosedError} when an injected driver is closed and a fixed tick is asked for.
   */
  constructor(options: ExecutorOptions = {}) {
    const o = resolveExecutorOptions(options);
    // Every option is valid: from here on, only a fixed tick beyond the
    // driver's horizon, a closed injected driver or the metrics registry
    // itself can fail, and each is undone below.
    const name = o.name;
    this.#name = name;
    this.#bus = o.bus;
    this.#offload = o.offload;
    this.#maxRunnable = o.maxRunnable;
    this.#deferCap = o.deferCap;
    this.#fixedMs = o.fixedMs;
    this.#budget = o.budget;
    this.#logger = containedLogger(o.logger);
    this.#failureLog = new LogLimiter(this.#logger);
    this.#hooksGiven = o.hooks;
    this.#hooks = new GuardedHooks(o.hooks, this.#failureLog, name);
    this.#queue = new RunQueue(this.#maxRunnable, this.#deferCap, () => this.#scheduleDispatch());
    this.#ownsDriver = o.driver === undefined;
    this.driver = o.driver ??
      new Driver({ name, logger: o.logger, clock: o.clock, profile: o.profile });
    this.#clock = this.driver.clock;
    this.#bridge = {
      release: (task, release, event) => this.#releaseRun(task, release, event),
      releaseNow: (task, event) => this.#releaseNow(task, event),
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
      failureLog: this.#failureLog,
      hooks: this.#hooks,
    };
    this.#planHost = {
      ...this.#bridge,
      fixedMs: this.#fixedMs,
      skipped: (task, count) => {
        task.skippedTicks += count;
        this.#skippedTicks += count;
      },
    };
    try {
      if (this.#fixedMs > 0) {
        const horizon = this.driver.wheel.maxDeadlineMs - this.#clock.now();
        if (!(this.#fixedMs <= horizon)) {
          throw new RangeError(
            `Cannot create an Executor as 'tick.fixedMs' must be at most ${horizon} (the driver's horizon): current value is ${this.#fixedMs}`,
          );
        }
        this.#tickTimer = this.driver.every(this.#fixedMs, this.#fixedTick, {
          latenessClass: "exec-tick",
        });
      }
      if (o.metrics !== undefined) {
        this.#metrics = registerExecutorMetrics(o.metrics, name, () => ({
          runnable: this.#queue.runnable,
          deferred: this.#queue.deferredCount,
          running: this.#running,
        }));
      }
    } catch (error) {
      this.#tickTimer?.cancel();
      if (this.#ownsDriver) this.driver.close();
      throw error;
    }
  }

  /**
   * Adds a periodic task, released every `periodMs` without drift. After a
   * stall, `missedTicks: "skip"` (the default) skips the ticks whose time
   * passed and counts them in the task's `skippedTicks`; `"burst"` runs at
   * most `MAX_BURST_TICKS` (10,000) of them and skips the rest.
   *
   * Every option is checked before the task is registered: a bad one leaves
   * no task, timer or taken name behind.
   *
   * @param options Name, body, period, deadline, priority, budget, caps, policies.
   * @returns The task's handle.
   * @throws {TypeError} when `options` is not an object, the name is taken or
   *   an option has the wrong type.
   * @throws {RangeError} when the period (at least `MIN_PERIOD_MS`, 0.001 ms,
   *   and large enough to advance the clock's time), delay, deadline, budget
   *   or a cap is out of range.
   * @throws {ClosedError} when the executor is closed.
   */
  periodic(options: PeriodicTaskOptions): TaskHandle {
    const config = this.#configure("add a periodic task", "periodic", options);
    const task = this.#record(config);
    if (this.#fixedMs > 0) {
      task.attach = (delayMs) => {
        task.nextRelease = this.#clock.now() + delayMs;
        task.anchor = task.nextRelease;
      };
    } else {
      // Under "skip" the wheel jumps a stalled timer's deadline past the
      // ticks it missed (under "burst", past all but the last
      // MAX_BURST_TICKS); a gap of more than one period between releases is
      // how the executor sees them per task. The period is read at each
      // attach: setPeriod() re-attaches.
      const missedTicks = config.missedTicks;
      task.attach = (delayMs) => {
        const period = task.periodMs;
        task.skipGap = missedTicks === "delay" ? Infinity : period * 1.5;
        task.timer = this.driver.every(period, task.releaseTimer, {
          delayMs,
          missedTicks,
          latenessClass: `task:${task.name}`,
        });
        task.anchor = task.timer.deadline;
      };
    }
    return this.#register(task, config.delayMs);
  }

  /**
   * Adds a one-shot task, released once after `delayMs`. Every option is
   * checked before the task is registered.
   *
   * @param options Name, body, delay, deadline, priority, budget, policies.
   * @returns The task's handle.
   * @throws {TypeError} when `options` is not an object, the name is taken or
   *   an option has the wrong type.
   * @throws {RangeError} when the delay, deadline, budget or a cap is out of range.
   * @throws {ClosedError} when the executor is closed.
   */
  once(options: OneShotTaskOptions): TaskHandle {
    const config = this.#configure("add a one-shot task", "once", options);
    const task = this.#record(config);
    task.attach = (delayMs) => {
      task.anchor = this.#clock.now() + delayMs;
      if (this.#fixedMs > 0) {
        task.nextRelease = task.anchor;
      } else {
        task.timer = this.driver.after(delayMs, task.releaseTimer, {
          latenessClass: `task:${task.name}`,
        });
      }
    };
    return this.#register(task, config.delayMs);
  }

  /**
   * Adds a schedule task: released when its {@linkcode ReleasePlan} says so.
   * The executor keeps one timer per task and asks the plan at each wake-up;
   * a wake-up need not release (a plan that follows the wall clock wakes to
   * check it). This is what `cron()` and `at()` from `@chronetix/core` build
   * on; the run's `ctx.event` is what the plan released it with. A plan that
   * throws stops the task (`failed`, the error in `reason`).
   *
   * @example A plan that releases at 5 and 15
   * ```ts
   * import { Executor, type ReleasePlan } from "@chronetix/core";
   * import { VirtualClock } from "@chronetix/core/testing";
   * import { assertEquals } from "@std/assert";
   *
   * const clock = new VirtualClock();
   * using executor = new Executor({ clock });
   * const times = [5, 15];
   * const plan: ReleasePlan<string> = {
   *   start: () => times[0] ?? Infinity,
   *   wake: (now) => {
   *     times.shift();
   *     return { next: times[0] ?? Infinity, release: { event: `at ${now}` } };
   *   },
   *   upcoming: (count) => times.slice(0, count),
   *   manual: (now) => `by hand at ${now}`,
   *   reschedule: () => {},
   * };
   * const seen: string[] = [];
   * const task = executor.schedule({ name: "plan", plan, run: (ctx) => void seen.push(ctx.event) });
   * assertEquals(task.nextRuns(5), [5, 15]);
   * clock.advance(20);
   * assertEquals(seen, ["at 5", "at 15"]);
   * assertEquals(task.state, "done");
   * ```
   *
   * @param options Name, body, plan, deadline, priority, budget, caps, policies.
   * @returns The task's handle.
   * @throws {TypeError} when `options` is not an object, the name is taken,
   *   `plan` is not a ReleasePlan or an option has the wrong type.
   * @throws {RangeError} when the deadline, budget or a cap is out of range.
   * @throws {ClosedError} when the executor is closed.
   */
  schedule<E>(options: ScheduleTaskOptions<E>): TaskHandle {
    const config = this.#configure("add a schedule task", "schedule", options);
    const task = this.#record(config);
    task.attach = () => {
      const next: unknown = task.plan!.start(this.#clock.now());
      armPlan(this.#planHost, task, typeof next === "number" ? next : NaN);
    };
    return this.#register(task, 0);
  }

  /**
   * Adds an event-triggered task: each event on `topic` releases one run,
   * with the event in `ctx.event`. Every option is checked before the task
   * subscribes or is registered.
   *
   * @param options Name, body, topic, deadline, priority, budget, caps, policies.
   * @returns The task's handle.
   * @throws {TypeError} when the executor has no bus, `options` is not an
   *   object, the name is taken or an option has the wrong type.
   * @throws {RangeError} when the deadline, budget or a cap is out of range.
   * @throws {ClosedError} when the executor (or its bus) is closed.
   */
  onEvent<E>(options: EventTaskOptions<E>): TaskHandle {
    const action = "add an event task";
    const bus = this.#bus;
    if (bus === undefined) {
      throw new TypeError(`Cannot ${action} as the Executor has no 'bus'`);
    }
    const config = this.#configure(action, "event", options);
    const task = this.#record(config);
    task.attach = () => {
      task.subscription = subscribe(action, bus, config.topic, task.releaseEvent);
    };
    return this.#register(task, 0);
  }

  /**
   * The handle of a live task.
   *
   * @param name The task's name.
   * @returns Its handle, or `undefined` (also for a name that is not a string).
   */
  task(name: string): TaskHandle | undefined {
    return this.#tasks.get(name)?.handle;
  }

  /**
   * The hooks the executor was created with (`ExecutorOptions.hooks`), e.g.
   * a `TaskSink` the diagnostics server reads; `undefined` without.
   */
  get hooks(): ExecutorHooks | undefined {
    return this.#hooksGiven;
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
   * when the executor closes: a body that never settles holds it until
   * {@linkcode Executor.close}.
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
      hookErrors: this.#hooks.errors,
      schedulingLatency: this.#sched.snapshot(),
      execution: this.#exec.snapshot(),
      perTask: [...this.#tasks.values()].map((t) => t.stats()),
    };
  }

  /**
   * Cancels every task at once: waiting releases are dropped, running async
   * bodies see their signals abort (a pending `ctx.checkpoint()` resolves).
   * The driver, if the executor made it, is closed. It never waits for a
   * body: a run still in flight is counted when it ends, or never. Calling
   * it again (also from inside a body or an abort listener) returns the
   * same report.
   *
   * @returns What was cancelled and dropped.
   */
  close(): ExecutorCloseReport {
    if (this.#closeReport !== undefined) return this.#closeReport;
    const tasks = [...this.#tasks.values()];
    const report: ExecutorCloseReport = { cancelled: tasks.length, dropped: 0 };
    this.#closeReport = report;
    this.#closed = true;
    this.#stopped = true;
    this.#tickTimer?.cancel();
    for (const task of tasks) report.dropped += task.cancel();
    if (this.#dispatchId !== undefined) this.driver.wheel.cancel(this.#dispatchId);
    this.#dispatchId = undefined;
    this.#metrics?.[Symbol.dispose]();
    this.#metrics = undefined;
    if (this.#ownsDriver) this.driver.close();
    this.#notifyIdle();
    return report;
  }

  /** Same as {@linkcode Executor.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #releaseRun(task: TaskRecord, release: number, event: unknown): void {
    // A release racing the task's stop (same instant) is not one of its releases.
    if (task.terminal) return;
    task.releases++;
    if (task.kind === "once") task.fired = true;
    const gap = release - task.lastRelease;
    task.lastRelease = release;
    if (gap > task.skipGap) {
      const skipped = Math.round(gap / task.periodMs) - 1;
      task.skippedTicks += skipped;
      this.#skippedTicks += skipped;
    }
    if (this.#stopped) {
      this.#queue.countDrop(task, "stopped");
      return;
    }
    this.#queue.admit(this.#queue.job(task, release, event, 0));
  }

  /** A release by `runNow()`: outside the task's timing (no gap, no skip count). */
  #releaseNow(task: TaskRecord, event: unknown): void {
    if (task.terminal) return;
    task.releases++;
    if (this.#stopped) {
      this.#queue.countDrop(task, "stopped");
      return;
    }
    this.#queue.admit(this.#queue.job(task, this.#clock.now(), event, 0));
  }

  /** Checks a task's options; nothing is registered yet. */
  #configure(action: string, kind: TaskKind, options: unknown): TaskConfig {
    if (this.#closed) throw new ClosedError("Executor", action);
    const config = resolveTaskConfig(action, kind, options, {
      now: this.#clock.now(),
      maxReleaseMs: this.driver.wheel.maxDeadlineMs,
      canOffload: this.#offload !== undefined,
    });
    if (this.#tasks.has(config.name)) {
      throw new TypeError(`Cannot ${action} as a task named "${config.name}" already exists`);
    }
    return config;
  }

  #record(config: TaskConfig): TaskRecord {
    const task = new TaskRecord(this.#bridge, config, new BudgetTracker(this.#budget));
    task.periodMs = config.periodMs;
    task.missedTicks = config.missedTicks;
    return task;
  }

  /**
   * Attaches a checked task, then registers it: if attaching fails (a closed
   * injected driver or bus) nothing is left behind.
   */
  #register(task: TaskRecord, delayMs: number): TaskHandle {
    try {
      task.attach(delayMs);
      task.histograms = this.#metrics?.taskAdded(task);
    } catch (error) {
      task.detach();
      throw error;
    }
    this.#tasks.set(task.name, task);
    task.hookIndex = this.#hooks.attach(task.name, this.#clock.now());
    return task.handle;
  }

  #scheduleDispatch(): void {
    if (this.#dispatching || this.#dispatchId !== undefined || this.#fixedMs > 0) return;
    try {
      this.#dispatchId = this.driver.wheel.schedule(this.#clock.now(), this.#dispatch);
    } catch {
      // The injected driver was closed under the executor: still run what was admitted.
      queueMicrotask(this.#dispatch);
    }
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
      if (task.nextRelease <= now && !task.terminal) {
        if (task.plan !== undefined) planWake(this.#planHost, task, task.nextRelease);
        else releaseDue(task, now, this.#fixedMs, this.#tickSink);
      }
    }
    this.#dispatch();
  };

  readonly #tickSink: TickSink = {
    release: (task, release) => this.#releaseRun(task, release, undefined),
    skipped: (task, count) => {
      task.skippedTicks += count;
      this.#skippedTicks += count;
    },
    stuck: (task, now) => {
      this.#failureLog.error(
        `period:${task.name}`,
        now,
        `Task "${task.name}" stopped releasing: its period ${task.periodMs} ms no longer advances the time ${now}`,
      );
    },
  };

  #start(job: Job): void {
    const task = job.task;
    task.ready = undefined;
    const start = this.#clock.now();
    task.running = true;
    task.state = "running";
    task.runs++;
    this.#runs++;
    this.#hooks.start(task.hookIndex, start);
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
    try {
      const result = task.run(task.ctx);
      if (result instanceof Promise) {
        this.#await(job, start, result);
        return;
      }
    } catch (error) {
      this.#finish(job, start, error ?? rejectedWithoutReason(task.name));
      return;
    }
    this.#finish(job, start, undefined);
  }

  /**
   * Ends the run when `promise` settles. The built-in `then` is used, so a
   * promise whose own `then` was replaced still settles the run; anything
   * that throws before the handlers are attached (a hostile species) fails it.
   */
  #await(job: Job, start: number, promise: Promise<unknown>): void {
    try {
      PROMISE_THEN.call(
        promise,
        () => this.#settle(job, start, undefined),
        (error: unknown) => this.#settle(job, start, error ?? rejectedWithoutReason(job.task.name)),
      );
    } catch (error) {
      this.#finish(job, start, error ?? rejectedWithoutReason(job.task.name));
    }
  }

  /**
   * Ends a run from a promise continuation: whatever goes wrong there would
   * be an unhandled rejection, which ends the process, so it is logged instead.
   */
  #settle(job: Job, start: number, error: unknown): void {
    try {
      this.#finish(job, start, error);
    } catch (internal) {
      this.#logger.error(
        `Executor "${this.#name}" could not finish a run of task "${job.task.name}": ${
          errorMessage(internal)
        }`,
      );
    }
  }

  #startOffloaded(job: Job, start: number): void {
    const task = job.task;
    task.offloaded++;
    const offload = task.offload!;
    let submitted: unknown;
    try {
      const input = offload.input === undefined ? job.event : offload.input(task.ctx);
      submitted = this.#offload!.submit(offload.job, input);
    } catch (error) {
      this.#finish(job, start, error ?? rejectedWithoutReason(task.name));
      return;
    }
    // A pool that returns no promise (or a thenable) is adopted like `await` would.
    this.#await(job, start, submitted instanceof Promise ? submitted : Promise.resolve(submitted));
  }

  /**
   * Ends a run; `error` is `undefined` for a run that succeeded. It never
   * throws (it may run in a promise continuation, where a throw would be an
   * unhandled rejection): the logger is contained and the budget event's
   * publish is guarded.
   */
  #finish(job: Job, start: number, error: unknown): void {
    const task = job.task;
    const end = this.#clock.now();
    const exec = end - start;
    const lateness = end - job.deadline;
    task.exec.record(exec);
    this.#exec.record(exec);
    // A task without a deadline (Infinity) has no lateness to record.
    if (lateness > -Infinity) task.lateness.record(lateness);
    const histograms = task.histograms;
    if (histograms !== undefined) {
      histograms.exec.observe(exec / 1000);
      histograms.lateness.observe(lateness > 0 ? lateness / 1000 : 0);
    }
    if (lateness > 0) {
      task.misses++;
      this.#misses++;
    }
    // Before the budget block: a quarantine there stops the task (onStop
    // after onEnd, as for a stop by the error policy below).
    this.#hooks.end(task.hookIndex, end, error === undefined);
    let budgetEvent: BudgetEvent | undefined;
    const budget = task.budgetMs;
    if (budget !== undefined) {
      if (exec > budget) {
        task.overruns++;
        this.#overruns++;
      }
      const step = task.budget.observe(exec, budget, end);
      if (step !== 0) budgetEvent = task.tierChanged(step, exec);
    }
    task.running = false;
    this.#running--;
    const queue = this.#queue;
    queue.runnable--;
    const retried = error !== undefined && this.#failed(task, job, error, end);
    if (task.state === "running") {
      task.state = "done";
      // A one-shot task is done (terminal) unless a retry is queued.
      // A one-shot or a finished schedule is over (terminal) unless a retry is queued.
      if (task.terminal && !retried) this.#hooks.stop(task.hookIndex, end, true);
    }
    queue.free(job);
    if (budgetEvent !== undefined) this.#publishBudget(budgetEvent, end);
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

  #publishBudget(event: BudgetEvent, now: number): void {
    const bus = this.#bus;
    if (bus === undefined) return;
    try {
      bus.topic<BudgetEvent>(BUDGET_TOPIC).publish(event);
    } catch (error) {
      this.#failureLog.error(
        `budget:${event.task}`,
        now,
        `Cannot publish the budget event of task "${event.task}" on the bus: ${
          errorMessage(error)
        }`,
      );
    }
  }

  /** Handles a failed run by the task's error policy; `true` when a retry was queued. */
  #failed(task: TaskRecord, job: Job, error: unknown, now: number): boolean {
    task.failures++;
    this.#failures++;
    const failure = task.noteFailure(error, now);
    // Cancelled, stopped or quarantined meanwhile (the body may have closed
    // the executor before it threw): the failure is counted, nothing more.
    if (task.terminal) return false;
    if (task.onError === "retry" && job.attempt < task.maxRetries) {
      task.retries++;
      const retry = this.#queue.job(task, now, job.event, job.attempt + 1);
      retry.deadline = job.deadline;
      this.#queue.requeue(retry);
      return true;
    }
    if (task.onError === "stop") {
      task.reason = `stopped after a failed run: ${failure.message}`;
      task.stop("failed");
    }
    return false;
  }

  #notifyIdle(): void {
    const queue = this.#queue;
    if ((queue.runnable !== 0 || queue.deferredCount !== 0) && !this.#closed) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const waiter of waiters) waiter();
  }
}

const PROMISE_THEN = Promise.prototype.then;
