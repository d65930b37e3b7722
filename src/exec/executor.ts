import { type Clock, MONOTONIC_CLOCK } from "../time/clock.ts";
import { Driver } from "../time/driver.ts";
import type { PrecisionProfile } from "../time/precision.ts";
import type { TimerId } from "../time/timer_wheel.ts";
import type { EventBus } from "../bus/event_bus.ts";
import type { Subscription } from "../bus/topic.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import { ClosedError } from "../errors.ts";
import {
  requireFunction,
  requireInteger,
  requireNonEmptyString,
  requireNonNegative,
  requireOneOf,
  requirePositive,
  show,
} from "../internal/validate.ts";
import { BUDGET_TIERS, type BudgetPolicy, BudgetTracker, resolveBudgetPolicy } from "./budget.ts";
import { LatencyHistogram, type LatencySnapshot } from "../time/latency_histogram.ts";
import {
  DROP_REASONS,
  type DropReason,
  ERROR_POLICIES,
  type EventTaskOptions,
  type OneShotTaskOptions,
  OVERFLOW_POLICIES,
  type PeriodicTaskOptions,
  type TaskContext,
  type TaskHandle,
  type TaskOptions,
  type TaskStats,
} from "./task.ts";
import { registerExecutorMetrics } from "./_executor_metrics.ts";

/** What the executor needs of an offload pool to isolate a task. */
export interface OffloadTarget {
  /** Submits a job; resolves with its result. */
  submit(job: string, input: unknown): Promise<unknown>;
}

/** A budget tier change, published on the bus topic {@linkcode BUDGET_TOPIC}. */
export interface BudgetEvent {
  /** The task. */
  task: string;
  /** The tier it left. */
  from: string;
  /** The tier it entered. */
  to: string;
  /** The run that caused the change, ms. */
  execMs: number;
  /** The task's budget, ms. */
  budgetMs: number;
  /** What the executor did: `warn`, `yield`, `offload`, `quarantine` or `recover`. */
  action: string;
}

/** The bus topic budget tier changes are published on. */
export const BUDGET_TOPIC = "chronetix.exec.budget";

/** Options of an {@linkcode Executor}. */
export interface ExecutorOptions {
  /** The driver that releases timed tasks; the executor makes its own when left out. */
  driver?: Driver;
  /** The clock of a driver the executor makes. @default {MONOTONIC_CLOCK} */
  clock?: Clock;
  /** The precision profile of a driver the executor makes. @default {"balanced"} */
  profile?: PrecisionProfile;
  /** The bus event tasks subscribe to and budget events go to. */
  bus?: EventBus;
  /** Where isolated offloadable tasks run. */
  offload?: OffloadTarget;
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
  /** Where warn lines go. @default {console.warn} */
  logger?: (line: string) => void;
  /** Registry to export `chronetix_exec_*` metrics into. */
  metrics?: MetricsRegistry;
}

/** A snapshot of the executor. */
export interface ExecutorStats {
  /** Tasks added and not cancelled. */
  tasks: number;
  /** Releases queued plus running: what `maxRunnable` caps. */
  runnable: number;
  /** Releases queued to run. */
  queued: number;
  /** Releases deferred (waiting for room under `maxRunnable`). */
  deferred: number;
  /** Async bodies running. */
  running: number;
  /** Runs started. */
  runs: number;
  /** Runs that finished after their deadline. */
  deadlineMisses: number;
  /** Runs that threw. */
  failures: number;
  /** Runs longer than their task's budget. */
  overruns: number;
  /** Dropped releases, by reason. */
  drops: Record<DropReason, number>;
  /** Release to start over all tasks, ms. */
  schedulingLatency: LatencySnapshot;
  /** Execution time over all tasks, ms. */
  execution: LatencySnapshot;
  /** Every task. */
  perTask: TaskStats[];
}

const QUEUE_CAP_MAX = 1 << 20;

interface Job {
  task: TaskRecord;
  release: number;
  deadline: number;
  event: unknown;
  attempt: number;
  seq: number;
  heapIndex: number;
}

/**
 * Runs tasks on time: periodic (released by the driver, drift-free),
 * one-shot, and event-triggered (one release per bus event). Ready runs go
 * earliest deadline first (ties: higher priority, then release order).
 * Every run is timed into pre-allocated per-task slots: scheduling latency,
 * execution time and lateness (last, EWMA, min, max, percentiles), deadline
 * misses, overruns, failures and drops by reason.
 *
 * QoS: a per-task queue cap and a global cap on runnable releases, with a
 * drop or defer policy, every drop counted by reason. Budgets: a task over
 * its budget climbs the tiers monitor, warn, yield, isolate (see
 * {@linkcode BudgetTracker}), and steps down after good behaviour. A task
 * that throws is counted and handled by its error policy; it never breaks
 * the executor.
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
  readonly #offload: OffloadTarget | undefined;
  readonly #maxRunnable: number;
  readonly #deferCap: number;
  readonly #fixedMs: number;
  readonly #budget: BudgetPolicy;
  readonly #logger: (line: string) => void;
  readonly #tasks = new Map<string, TaskRecord>();
  readonly #heap: Job[] = [];
  readonly #jobPool: Job[] = [];
  readonly #deferred: Job[] = [];
  #seq = 0;
  #runnable = 0;
  #running = 0;
  #runs = 0;
  #misses = 0;
  #failures = 0;
  #overruns = 0;
  readonly #drops: Record<DropReason, number> = newDrops();
  readonly #sched = new LatencyHistogram();
  readonly #exec = new LatencyHistogram();
  #dispatchId: TimerId | undefined;
  #tickTimer: { cancel(): boolean } | undefined;
  #dispatching = false;
  #stopped = false;
  #closed = false;
  #idleWaiters: (() => void)[] = [];
  #collector: Disposable | undefined;

  /**
   * Creates an executor.
   *
   * @param options Driver or clock, bus, offload pool, caps, tick, budget policy, metrics.
   * @throws {RangeError} when a cap or the fixed tick is out of range.
   */
  constructor(options: ExecutorOptions = {}) {
    const action = "create an Executor";
    this.#ownsDriver = options.driver === undefined;
    this.driver = options.driver ??
      new Driver({ clock: options.clock ?? MONOTONIC_CLOCK, profile: options.profile });
    this.#clock = this.driver.clock;
    this.#bus = options.bus;
    this.#offload = options.offload;
    this.#maxRunnable = requireInteger(
      action,
      "maxRunnable",
      options.maxRunnable ?? 1024,
      1,
      2 ** 30,
    );
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
    this.#budget = resolveBudgetPolicy(options.budget);
    this.#logger = options.logger ?? ((line) => console.warn(line));
    if (this.#fixedMs > 0) {
      this.#tickTimer = this.driver.every(this.#fixedMs, this.#fixedTick, {
        latenessClass: "exec-tick",
      });
    }
    if (options.metrics !== undefined) {
      this.#collector = registerExecutorMetrics(options.metrics, this);
    }
  }

  /**
   * Adds a periodic task, released every `periodMs` without drift.
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
    task.attach = (delayMs) => {
      if (this.#fixedMs > 0) {
        task.nextRelease = this.#clock.now() + delayMs;
      } else {
        task.timer = this.driver.every(period, task.releaseTimer, {
          delayMs,
          missedTicks,
          latenessClass: `task:${task.name}`,
        });
      }
    };
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
    const dropped = this.#deferred.length;
    for (const job of this.#deferred.splice(0)) {
      job.task.deferredNow--;
      this.#drop(job.task, "stopped", job);
    }
    this.#notifyIdle();
    return dropped;
  }

  /**
   * Resolves when nothing is waiting or running.
   *
   * @returns A promise that resolves once the executor is idle.
   */
  whenIdle(): Promise<void> {
    if (this.#runnable === 0 && this.#deferred.length === 0) return Promise.resolve();
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
      runnable: this.#runnable,
      queued: this.#runnable - this.#running,
      deferred: this.#deferred.length,
      running: this.#running,
      runs: this.#runs,
      deadlineMisses: this.#misses,
      failures: this.#failures,
      overruns: this.#overruns,
      drops: { ...this.#drops },
      schedulingLatency: this.#sched.snapshot(),
      execution: this.#exec.snapshot(),
      perTask: [...this.#tasks.values()].map((t) => t.stats()),
    };
  }

  /**
   * Cancels every task at once: waiting releases are dropped, running async
   * bodies see their signals abort. The driver, if the executor made it, is
   * closed.
   *
   * @returns How many waiting or deferred releases were dropped.
   */
  close(): number {
    if (this.#closed) return 0;
    this.#closed = true;
    this.#stopped = true;
    this.#tickTimer?.cancel();
    let dropped = 0;
    for (const task of [...this.#tasks.values()]) dropped += task.cancel();
    if (this.#dispatchId !== undefined) this.driver.wheel.cancel(this.#dispatchId);
    this.#dispatchId = undefined;
    this.#collector?.[Symbol.dispose]();
    this.#collector = undefined;
    if (this.#ownsDriver) this.driver.close();
    this.#notifyIdle();
    return dropped;
  }

  /** Same as {@linkcode Executor.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** What task records may call back into. */
  readonly #bridge: Bridge = {
    release: (task, release, event) => this.#releaseRun(task, release, event),
    dropWaiting: (task) => this.#dropWaiting(task),
    forget: (task) => {
      if (this.#tasks.get(task.name) === task) this.#tasks.delete(task.name);
    },
    clock: () => this.#clock,
    driver: () => this.driver,
  };

  #releaseRun(task: TaskRecord, release: number, event: unknown): void {
    task.releases++;
    if (this.#stopped || task.terminal) {
      if (!task.terminal) this.#countDrop(task, "stopped");
      return;
    }
    this.#admit(this.#job(task, release, event, 0));
  }

  #dropWaiting(task: TaskRecord): number {
    let dropped = 0;
    if (task.ready !== undefined) {
      this.#heapRemove(task.ready);
      this.#runnable--;
      this.#drop(task, "stopped", task.ready);
      task.ready = undefined;
      dropped++;
    }
    for (const job of task.pending.splice(0)) {
      this.#runnable--;
      this.#drop(task, "stopped", job);
      dropped++;
    }
    for (let i = this.#deferred.length - 1; i >= 0; i--) {
      const job = this.#deferred[i]!;
      if (job.task === task) {
        this.#deferred.splice(i, 1);
        task.deferredNow--;
        this.#drop(task, "stopped", job);
        dropped++;
      }
    }
    this.#notifyIdle();
    return dropped;
  }

  #add(
    action: string,
    kind: TaskRecord["kind"],
    options: TaskOptions<unknown>,
    period: number,
  ): TaskRecord {
    if (this.#closed) throw new ClosedError("Executor", action);
    if (options === null || typeof options !== "object") {
      throw new TypeError(
        `Cannot ${action} as 'options' must be an object: current value is ${show(options)}`,
      );
    }
    const name = requireNonEmptyString(action, "name", options.name);
    if (name === "*") {
      throw new TypeError(`Cannot ${action} as the name "*" is reserved for the executor's totals`);
    }
    if (this.#tasks.has(name)) {
      throw new TypeError(`Cannot ${action} as a task named "${name}" already exists`);
    }
    requireFunction(action, "run", options.run);
    const deadlineMs = options.deadlineMs ?? period;
    if (!(deadlineMs > 0)) requirePositive(action, "deadlineMs", deadlineMs);
    if (options.budgetMs !== undefined) requirePositive(action, "budgetMs", options.budgetMs);
    const priority = options.priority ?? 0;
    if (typeof priority !== "number" || !Number.isFinite(priority)) {
      throw new TypeError(
        `Cannot ${action} as 'priority' must be a finite number: current value is ${
          show(priority)
        }`,
      );
    }
    const queueCap = requireInteger(action, "queueCap", options.queueCap ?? 2, 1, QUEUE_CAP_MAX);
    const overflow = requireOneOf(
      action,
      "overflow",
      options.overflow ?? "drop-oldest",
      OVERFLOW_POLICIES,
    );
    const onError = requireOneOf(action, "onError", options.onError ?? "continue", ERROR_POLICIES);
    const maxRetries = requireInteger(action, "maxRetries", options.maxRetries ?? 3, 0, 1e6);
    if (options.offload !== undefined) {
      requireNonEmptyString(action, "offload.job", options.offload?.job);
      if (this.#offload === undefined) {
        throw new TypeError(
          `Cannot ${action} as 'offload' needs an Executor with an 'offload' pool`,
        );
      }
    }
    const task = new TaskRecord(this.#bridge, {
      name,
      kind,
      run: options.run,
      deadlineMs,
      priority,
      budgetMs: options.budgetMs,
      queueCap,
      overflow,
      onError,
      maxRetries,
      offload: options.offload,
      budget: new BudgetTracker(this.#budget),
    });
    this.#tasks.set(name, task);
    return task;
  }

  #job(task: TaskRecord, release: number, event: unknown, attempt: number): Job {
    const job = this.#jobPool.pop() ??
      { task, release: 0, deadline: 0, event: undefined, attempt: 0, seq: 0, heapIndex: -1 };
    job.task = task;
    job.release = release;
    job.deadline = release + task.deadlineMs;
    job.event = event;
    job.attempt = attempt;
    job.seq = this.#seq++;
    job.heapIndex = -1;
    return job;
  }

  #free(job: Job): void {
    job.event = undefined;
    this.#jobPool.push(job);
  }

  /** Queues a job if the caps allow, else applies the task's overflow policy. */
  #admit(job: Job): void {
    const task = job.task;
    const queued = task.pending.length + (task.ready === undefined ? 0 : 1);
    const overTask = queued + task.deferredNow >= task.queueCap;
    const overGlobal = !overTask && this.#runnable >= this.#maxRunnable;
    if (overTask || overGlobal) {
      const reason: DropReason = overTask ? "task-cap" : "global-cap";
      if (task.overflow === "defer" && overGlobal) {
        if (this.#deferred.length >= this.#deferCap) {
          this.#drop(task, "defer-cap", job);
          return;
        }
        task.deferred++;
        task.deferredNow++;
        this.#deferred.push(job);
        return;
      }
      if (task.overflow === "drop-oldest" && queued > 0) {
        this.#drop(task, reason, this.#removeOldest(task));
      } else {
        this.#drop(task, reason, job);
        return;
      }
    }
    this.#runnable++;
    this.#enqueue(job);
  }

  #enqueue(job: Job): void {
    const task = job.task;
    if (task.ready === undefined && !task.running) {
      task.ready = job;
      task.state = "ready";
      this.#heapPush(job);
      this.#scheduleDispatch();
    } else {
      task.pending.push(job);
      if (!task.running) task.state = "ready";
    }
  }

  /** Removes and returns the task's oldest waiting job. */
  #removeOldest(task: TaskRecord): Job {
    const ready = task.ready;
    if (ready !== undefined) {
      this.#heapRemove(ready);
      task.ready = undefined;
      this.#runnable--;
      const next = task.pending.shift();
      if (next !== undefined) {
        task.ready = next;
        this.#heapPush(next);
      }
      return ready;
    }
    this.#runnable--;
    return task.pending.shift()!;
  }

  #drop(task: TaskRecord, reason: DropReason, job: Job): void {
    this.#countDrop(task, reason);
    this.#free(job);
  }

  #countDrop(task: TaskRecord, reason: DropReason): void {
    task.drops[reason]++;
    this.#drops[reason]++;
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
      while (this.#heap.length > 0) this.#start(this.#heapPop());
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
    task.prepare(job.release, job.deadline, job.event, job.attempt, start);
    if (task.budget.level === 3 && task.offload !== undefined) {
      this.#startOffloaded(job, start);
      return;
    }
    let result: void | Promise<void>;
    try {
      result = task.run(task.ctx);
    } catch (error) {
      this.#finish(job, start, error);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        () => this.#finish(job, start, undefined),
        (error) => this.#finish(job, start, error ?? new Error("rejected")),
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
      this.#finish(job, start, error);
      return;
    }
    this.#offload!.submit(offload.job, input).then(
      () => this.#finish(job, start, undefined),
      (error) => this.#finish(job, start, error ?? new Error("rejected")),
    );
  }

  #finish(job: Job, start: number, error: unknown): void {
    const task = job.task;
    const end = this.#clock.now();
    const exec = end - start;
    task.exec.record(exec);
    this.#exec.record(exec);
    task.lateness.record(end - job.deadline);
    if (end > job.deadline) {
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
      if (step !== 0) this.#tierChanged(task, step, exec);
    }
    task.running = false;
    this.#running--;
    this.#runnable--;
    if (error !== undefined) this.#failed(task, job, error);
    if (task.state === "running") task.state = "done";
    this.#free(job);
    if (!task.terminal && task.ready === undefined) {
      const next = task.pending.shift();
      if (next !== undefined) {
        task.ready = next;
        task.state = "ready";
        this.#heapPush(next);
      }
    }
    this.#admitDeferred();
    if (this.#heap.length > 0) {
      // An async run ended in a promise continuation: nothing is dispatching,
      // so the next run starts now (a fixed tick waits for its tick).
      if (!this.#dispatching && this.#fixedMs === 0) this.#dispatch();
    } else {
      this.#notifyIdle();
    }
  }

  #failed(task: TaskRecord, job: Job, error: unknown): void {
    task.failures++;
    this.#failures++;
    if (task.onError === "retry" && job.attempt < task.maxRetries && !task.terminal) {
      task.retries++;
      const retry = this.#job(task, this.#clock.now(), job.event, job.attempt + 1);
      retry.deadline = job.deadline;
      this.#runnable++;
      this.#enqueue(retry);
      return;
    }
    if (task.onError === "stop") {
      task.reason = `stopped after a failed run: ${errorText(error)}`;
      task.stop("failed");
    }
  }

  #tierChanged(task: TaskRecord, step: 1 | -1, execMs: number): void {
    const to = task.budget.tier;
    const from = BUDGET_TIERS[task.budget.level - step]!;
    let action: string = step < 0 ? "recover" : to;
    if (to === "isolate" && step > 0) {
      if (task.offload !== undefined) {
        action = "offload";
      } else {
        action = "quarantine";
        task.reason =
          `quarantined: ${task.overruns} runs over its ${task.budgetMs} ms budget (last ${
            execMs.toFixed(3)
          } ms)`;
        task.stop("quarantined");
      }
    }
    const budgetMs = task.budgetMs!;
    if (step > 0) {
      this.#logger(
        `Task "${task.name}" exceeded its ${budgetMs} ms budget (${
          execMs.toFixed(3)
        } ms): tier ${from} -> ${to}${
          action === "quarantine" ? ", quarantined" : action === "offload" ? ", offloaded" : ""
        }`,
      );
    }
    const event: BudgetEvent = { task: task.name, from, to, execMs, budgetMs, action };
    this.#bus?.topic<BudgetEvent>(BUDGET_TOPIC).publish(event);
  }

  /** Moves deferred releases, oldest first, into the queue while there is room. */
  #admitDeferred(): void {
    while (this.#deferred.length > 0 && this.#runnable < this.#maxRunnable) {
      const job = this.#deferred.shift()!;
      const task = job.task;
      task.deferredNow--;
      if (task.terminal) {
        this.#drop(task, "stopped", job);
        continue;
      }
      this.#runnable++;
      this.#enqueue(job);
    }
  }

  #notifyIdle(): void {
    if ((this.#runnable !== 0 || this.#deferred.length !== 0) && !this.#closed) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const waiter of waiters) waiter();
  }

  // ---- EDF heap with positions ----

  #heapPush(job: Job): void {
    job.heapIndex = this.#heap.length;
    this.#heap.push(job);
    this.#siftUp(job.heapIndex);
  }

  #heapPop(): Job {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      last.heapIndex = 0;
      this.#siftDown(0);
    }
    top.heapIndex = -1;
    return top;
  }

  #heapRemove(job: Job): void {
    const heap = this.#heap;
    const i = job.heapIndex;
    if (i < 0) return;
    const last = heap.pop()!;
    if (i < heap.length) {
      heap[i] = last;
      last.heapIndex = i;
      this.#siftDown(i);
      this.#siftUp(last.heapIndex);
    }
    job.heapIndex = -1;
  }

  #siftUp(i: number): void {
    const heap = this.#heap;
    const job = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!earlier(job, p)) break;
      heap[i] = p;
      p.heapIndex = i;
      i = parent;
    }
    heap[i] = job;
    job.heapIndex = i;
  }

  #siftDown(i: number): void {
    const heap = this.#heap;
    const job = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const c = r < heap.length && earlier(heap[r]!, heap[l]!) ? r : l;
      const child = heap[c]!;
      if (!earlier(child, job)) break;
      heap[i] = child;
      child.heapIndex = i;
      i = c;
    }
    heap[i] = job;
    job.heapIndex = i;
  }
}

/** EDF: earlier deadline, then higher priority, then earlier release. */
function earlier(a: Job, b: Job): boolean {
  if (a.deadline !== b.deadline) return a.deadline < b.deadline;
  if (a.task.priority !== b.task.priority) return a.task.priority > b.task.priority;
  return a.seq < b.seq;
}

function newDrops(): Record<DropReason, number> {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface Bridge {
  release(task: TaskRecord, release: number, event: unknown): void;
  dropWaiting(task: TaskRecord): number;
  forget(task: TaskRecord): void;
  clock(): Clock;
  driver(): Driver;
}

interface TaskConfig {
  name: string;
  kind: "periodic" | "once" | "event";
  run: (ctx: TaskContext<unknown>) => void | Promise<void>;
  deadlineMs: number;
  priority: number;
  budgetMs: number | undefined;
  queueCap: number;
  overflow: "drop-newest" | "drop-oldest" | "defer";
  onError: "continue" | "retry" | "stop";
  maxRetries: number;
  offload: TaskOptions<unknown>["offload"];
  budget: BudgetTracker;
}

const RESOLVED: Promise<void> = Promise.resolve();

/** One task's configuration, state and pre-allocated timing slots. */
class TaskRecord {
  readonly name: string;
  readonly kind: "periodic" | "once" | "event";
  readonly run: (ctx: TaskContext<unknown>) => void | Promise<void>;
  readonly deadlineMs: number;
  readonly priority: number;
  readonly budgetMs: number | undefined;
  readonly queueCap: number;
  readonly overflow: "drop-newest" | "drop-oldest" | "defer";
  readonly onError: "continue" | "retry" | "stop";
  readonly maxRetries: number;
  readonly offload: TaskOptions<unknown>["offload"];
  readonly budget: BudgetTracker;
  readonly sched = new LatencyHistogram();
  readonly exec = new LatencyHistogram();
  readonly lateness = new LatencyHistogram();
  readonly drops: Record<DropReason, number> = newDrops();
  readonly pending: Job[] = [];
  readonly ctx: TaskContextImpl;
  readonly handle: TaskHandle;
  readonly #bridge: Bridge;
  /** (Re)creates the task's timer or subscription; set by the executor. */
  attach: (delayMs: number) => void = () => {};
  state: TaskStats["state"] = "created";
  ready: Job | undefined;
  running = false;
  timer: { cancel(): boolean } | undefined;
  subscription: Subscription | undefined;
  nextRelease = Infinity;
  periodMs = 0;
  releases = 0;
  runs = 0;
  failures = 0;
  retries = 0;
  misses = 0;
  overruns = 0;
  deferred = 0;
  /** Releases of this task in the deferred queue now. */
  deferredNow = 0;
  offloaded = 0;
  reason: string | undefined;
  #controller = new AbortController();

  constructor(bridge: Bridge, config: TaskConfig) {
    this.#bridge = bridge;
    this.name = config.name;
    this.kind = config.kind;
    this.run = config.run;
    this.deadlineMs = config.deadlineMs;
    this.priority = config.priority;
    this.budgetMs = config.budgetMs;
    this.queueCap = config.queueCap;
    this.overflow = config.overflow;
    this.onError = config.onError;
    this.maxRetries = config.maxRetries;
    this.offload = config.offload;
    this.budget = config.budget;
    this.ctx = new TaskContextImpl(this, bridge);
    this.handle = new TaskHandleImpl(this);
  }

  get terminal(): boolean {
    return this.state === "cancelled" || this.state === "failed" ||
      this.state === "quarantined" || (this.kind === "once" && this.state === "done");
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  releaseTimer = (deadline: number): void => {
    this.#bridge.release(this, deadline, undefined);
  };

  releaseEvent = (event: unknown): void => {
    this.#bridge.release(this, this.#bridge.clock().now(), event);
  };

  prepare(release: number, deadline: number, event: unknown, attempt: number, start: number): void {
    const ctx = this.ctx;
    ctx.release = release;
    ctx.deadline = deadline;
    ctx.event = event;
    ctx.attempt = attempt;
    ctx.sliceEnd = this.budgetMs === undefined ? Infinity : start + this.budgetMs;
  }

  /** Cancels timers and subscriptions only. */
  detach(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.nextRelease = Infinity;
  }

  stop(state: "failed" | "quarantined" | "cancelled"): number {
    this.state = state;
    this.detach();
    return this.#bridge.dropWaiting(this);
  }

  cancel(): number {
    if (this.state === "cancelled") return 0;
    const dropped = this.stop("cancelled");
    this.#controller.abort(new ClosedError("task", "run"));
    this.#bridge.forget(this);
    return dropped;
  }

  resume(): void {
    if (this.state !== "quarantined") {
      throw new TypeError(
        `Cannot resume task "${this.name}" as it is ${this.state}, not quarantined`,
      );
    }
    this.budget.reset("monitor", this.#bridge.clock().now());
    this.reason = undefined;
    this.state = "done";
    this.attach(this.kind === "periodic" ? this.periodMs : 0);
  }

  stats(): TaskStats {
    return {
      name: this.name,
      kind: this.kind,
      state: this.state,
      tier: this.budget.tier,
      reason: this.reason,
      releases: this.releases,
      runs: this.runs,
      failures: this.failures,
      retries: this.retries,
      deadlineMisses: this.misses,
      overruns: this.overruns,
      drops: { ...this.drops },
      deferred: this.deferred,
      queued: this.pending.length + (this.ready === undefined ? 0 : 1) + this.deferredNow,
      yields: this.ctx.yields,
      offloaded: this.offloaded,
      schedulingLatency: this.sched.snapshot(),
      execution: this.exec.snapshot(),
      lateness: this.lateness.snapshot(),
    };
  }
}

/** The public face of a task record. */
class TaskHandleImpl implements TaskHandle {
  readonly #task: TaskRecord;
  constructor(task: TaskRecord) {
    this.#task = task;
  }
  get name(): string {
    return this.#task.name;
  }
  get state(): TaskStats["state"] {
    return this.#task.state;
  }
  get tier(): TaskStats["tier"] {
    return this.#task.budget.tier;
  }
  cancel(): boolean {
    const was = this.#task.state === "cancelled";
    this.#task.cancel();
    return !was;
  }
  resume(): void {
    this.#task.resume();
  }
  stats(): TaskStats {
    return this.#task.stats();
  }
  [Symbol.dispose](): void {
    this.#task.cancel();
  }
}

/** The reused context of one task: its runs are serial, so one object serves all. */
class TaskContextImpl implements TaskContext<unknown> {
  readonly name: string;
  release = 0;
  deadline = 0;
  event: unknown = undefined;
  attempt = 0;
  sliceEnd = Infinity;
  yields = 0;
  readonly #task: TaskRecord;
  readonly #bridge: Bridge;

  constructor(task: TaskRecord, bridge: Bridge) {
    this.name = task.name;
    this.#task = task;
    this.#bridge = bridge;
  }

  get signal(): AbortSignal {
    return this.#task.signal;
  }

  checkpoint(): Promise<void> {
    if (this.#task.budget.level < 2) return RESOLVED;
    const clock = this.#bridge.clock();
    if (clock.now() < this.sliceEnd) return RESOLVED;
    this.yields++;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#bridge.driver().after(0, () => {
      this.sliceEnd = clock.now() + (this.#task.budgetMs ?? Infinity);
      resolve();
    }, { latenessClass: "exec-yield" });
    return promise;
  }
}
