import type { ErrorRecord } from "../errors.ts";
import type { Clock } from "../time/clock.ts";
import type { Driver } from "../time/driver.ts";
import type { PrecisionProfile } from "../time/precision.ts";
import type { EventBus } from "../bus/event_bus.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import type { Logger } from "../logger.ts";
import type { MissedTickPolicy } from "../time/timer_wheel.ts";
import type { BudgetPolicy, BudgetTier } from "./budget.ts";
import type { ExecutorHooks } from "./hooks.ts";
import type { LatencySnapshot } from "../time/latency_histogram.ts";

/**
 * Where a task is: `created` (not yet released), `ready` (a release waits
 * to run), `running`, `done` (the last run finished; terminal for a
 * one-shot task), `paused` (`pause()`: not released until `resume()`; a
 * release already waiting still runs, and shows as `ready`/`running`),
 * `failed` (stopped by its error policy), `cancelled`, `quarantined`
 * (stopped by the budget's isolate tier; `resume()` restarts it).
 */
export type TaskState =
  | "created"
  | "ready"
  | "running"
  | "done"
  | "paused"
  | "failed"
  | "cancelled"
  | "quarantined";

/** Every {@linkcode TaskState}. */
export const TASK_STATES: readonly TaskState[] = [
  "created",
  "ready",
  "running",
  "done",
  "paused",
  "failed",
  "cancelled",
  "quarantined",
];

/**
 * What happens to a release over a cap: `drop-newest` drops the new
 * release, `drop-oldest` drops the task's oldest waiting release (the
 * freshest data wins), `defer` keeps a release over the global cap until
 * there is room (bounded by the executor's `deferCap`; deferred releases
 * count against the task's own `queueCap`, and over that cap the new
 * release is dropped).
 */
export type OverflowPolicy = "drop-newest" | "drop-oldest" | "defer";

/** Every {@linkcode OverflowPolicy}. */
export const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ["drop-newest", "drop-oldest", "defer"];

/**
 * After a failed run: `continue` (count it; periodic and event tasks keep
 * being released), `retry` (run again at once, up to `maxRetries`, then as
 * `continue`), `stop` (the task moves to `failed` and is not released again).
 */
export type ErrorPolicy = "continue" | "retry" | "stop";

/** Every {@linkcode ErrorPolicy}. */
export const ERROR_POLICIES: readonly ErrorPolicy[] = ["continue", "retry", "stop"];

/**
 * Why a release was dropped: over the task's `queueCap` (`task-cap`), over
 * the executor's `maxRunnable` (`global-cap`), over its `deferCap`
 * (`defer-cap`), or because the task or executor stopped (`stopped`).
 */
export type DropReason = "task-cap" | "global-cap" | "defer-cap" | "stopped";

/** Every {@linkcode DropReason}. */
export const DROP_REASONS: readonly DropReason[] = [
  "task-cap",
  "global-cap",
  "defer-cap",
  "stopped",
];

/**
 * What a task's body gets on each run. `E` is the type of the event that
 * released the run: an event task ({@linkcode Executor.onEvent}) gets
 * `TaskContext<E>` and reads the event as `ctx.event`; periodic and one-shot
 * tasks get `TaskContext` (`E` is `undefined`), whose `event` is always
 * `undefined`. The executor reuses one context per task (its runs are
 * serial): read it during the run, do not keep it.
 *
 * @example An event task reads its event, typed, without a non-null assertion
 * ```ts
 * import { EventBus, Executor, type TaskContext } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * const bus = new EventBus();
 * using executor = new Executor({ clock, bus });
 * const doubled: number[] = [];
 * executor.onEvent({
 *   name: "double",
 *   topic: "numbers",
 *   run: (ctx: TaskContext<number>) => void doubled.push(ctx.event * 2),
 * });
 * bus.topic<number>("numbers").publish(21);
 * clock.advance(0);
 * assertEquals(doubled, [42]);
 * ```
 */
export interface TaskContext<E = undefined> {
  /** The task's name. */
  readonly name: string;
  /** When this run was released (ms, the executor's clock). */
  readonly release: number;
  /** Its absolute deadline (ms): release plus the relative deadline. */
  readonly deadline: number;
  /** The event that released the run; `undefined` for periodic and one-shot tasks. */
  readonly event: E;
  /** 0 on a first run, then 1, 2, ... for retries. */
  readonly attempt: number;
  /** Aborts when the task is cancelled or the executor stops. */
  readonly signal: AbortSignal;
  /**
   * A cooperative preemption point for long async bodies: resolves at once,
   * unless the task is at the `yield` tier (or above) and this run has spent
   * its budget; then it yields through a timer, so timers and other tasks run.
   * It is bound (`const { checkpoint } = ctx` works); outside a run or once
   * the task is cancelled it resolves at once, and a pending yield resolves
   * when the task is cancelled or the executor closes, so a body looping
   * `while (!ctx.signal.aborted) await ctx.checkpoint()` always ends.
   *
   * @returns A promise that resolves when the body may go on.
   */
  checkpoint(): Promise<void>;
}

/**
 * A task body; sync or async. A returned promise makes the run last until it
 * settles; any other return value is ignored, so `(ctx) => topic.publish(x)`
 * is a body.
 */
export type TaskBody<E = undefined> = (ctx: TaskContext<E>) => unknown;

/** How an offloadable task runs in the offload pool once isolated. */
export interface TaskOffload<E = undefined> {
  /** The registered job to submit. */
  job: string;
  /** Builds the job's input from the run's context. @default {the context's event} */
  input?: (ctx: TaskContext<E>) => unknown;
}

/**
 * What every kind of task is given. Every option is checked when the task is
 * added, before anything is registered: a bad one throws a `TypeError` or
 * `RangeError` naming it and leaves no task, timer or taken name behind. An
 * option given as `null` is an error, not the default.
 */
export interface TaskOptions<E = undefined> {
  /** Unique among the executor's live tasks. */
  name: string;
  /** The body. */
  run: TaskBody<E>;
  /**
   * Relative deadline in ms, `> 0`: a run should finish by release + this.
   * `Infinity` means no deadline (such runs have no lateness).
   *
   * @default {the period for periodic tasks, else Infinity}
   */
  deadlineMs?: number;
  /**
   * Breaks deadline ties: higher runs first.
   *
   * @default {0}
   */
  priority?: number;
  /** Execution budget per run in ms; enables the budget tiers. */
  budgetMs?: number;
  /**
   * Releases of this task that may wait to run (the running one not counted).
   *
   * @default {2}
   */
  queueCap?: number;
  /**
   * What happens to a release over `queueCap` or the executor's `maxRunnable`.
   *
   * @default {"drop-oldest"}
   */
  overflow?: OverflowPolicy;
  /**
   * What happens when a run throws.
   *
   * @default {"continue"}
   */
  onError?: ErrorPolicy;
  /**
   * Retries per release with `onError: "retry"`.
   *
   * @default {3}
   */
  maxRetries?: number;
  /** Makes the task offloadable: at the isolate tier its runs go to the offload pool. */
  offload?: TaskOffload<E>;
}

/** Options of {@linkcode Executor.periodic}. */
export interface PeriodicTaskOptions extends TaskOptions<undefined> {
  /**
   * The period in ms; releases are drift-free (`first + k * period`). At
   * least `MIN_PERIOD_MS` (0.001 ms, 1 µs), and large enough to advance the
   * clock's time in floating point.
   */
  periodMs: number;
  /**
   * Delay before the first release, ms.
   *
   * @default {periodMs}
   */
  delayMs?: number;
  /**
   * Releases missed during a stall: see {@linkcode MissedTickPolicy}.
   *
   * @default {"skip"}
   */
  missedTicks?: MissedTickPolicy;
}

/** Options of {@linkcode Executor.once}. */
export interface OneShotTaskOptions extends TaskOptions<undefined> {
  /**
   * Delay before the release, ms.
   *
   * @default {0}
   */
  delayMs?: number;
}

/**
 * What one wake-up of a {@linkcode ReleasePlan} decided: when to wake next
 * and, when the task is due, the release.
 */
export interface PlanStep<E> {
  /** The next wake-up on the executor's clock (ms); `Infinity`: the plan is over. */
  next: number;
  /** Releases passed over since the last wake-up (counted in `skippedTicks`). @default {0} */
  skipped?: number;
  /** The release to make now, if the task is due. */
  release?: {
    /** The run's `ctx.event`. */
    event: E;
  };
}

/**
 * Decides when a planned task ({@linkcode Executor.schedule}) is released:
 * the executor keeps one timer per task, wakes at the time the plan names
 * and asks it again. A wake-up need not release: a plan that follows
 * another clock (the wall clock, for cron tasks) wakes to check it.
 * `@chronetix/core`'s `cron()` and `at()` are built on it.
 */
export interface ReleasePlan<E> {
  /**
   * Called when the task is added, resumed or rescheduled.
   *
   * @param now The executor's clock.
   * @returns The first wake-up on the executor's clock (`Infinity`: none).
   */
  start(now: number): number;
  /**
   * Called at each wake-up.
   *
   * @param now The executor's clock now (at or after the wake-up asked for).
   * @returns The release, if any, and the next wake-up.
   */
  wake(now: number): PlanStep<E>;
  /**
   * The next releases, without changing the plan.
   *
   * @param count How many (at least 1).
   * @param now The executor's clock.
   * @returns Up to `count` times on the executor's clock, ascending.
   */
  upcoming(count: number, now: number): number[];
  /**
   * The event of a release made by `runNow()`.
   *
   * @param now The executor's clock.
   * @returns The run's `ctx.event`.
   */
  manual(now: number): E;
  /**
   * Replaces what the plan follows (a cron expression, a date), checked first:
   * a bad value throws and changes nothing. The executor calls
   * {@linkcode ReleasePlan.start} next.
   *
   * @param spec What `TaskHandle.reschedule()` was given.
   * @throws {TypeError} when `spec` has the wrong type.
   * @throws {RangeError} when `spec` is out of range.
   */
  reschedule(spec: unknown): void;
}

/** Options of {@linkcode Executor.schedule}. */
export interface ScheduleTaskOptions<E> extends TaskOptions<E> {
  /** What releases the task. */
  plan: ReleasePlan<E>;
}

/** Options of {@linkcode Executor.onEvent}. */
export interface EventTaskOptions<E> extends TaskOptions<E> {
  /** The bus topic whose events release the task (one release per event). */
  topic: string;
}

/**
 * A snapshot of one task: its counts, its timing as {@linkcode LatencySnapshot}s
 * and its last error. A failure (a run that threw or rejected, an offload job
 * that failed, a job the offload pool does not have) is kept as `lastError` and
 * logged through the executor's logger, at most one line per task per second
 * (the next line says how many were left out).
 *
 * @example A failing task keeps its last error and logs it
 * ```ts
 * import { Executor, type Logger } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * const lines: string[] = [];
 * const logger: Logger = { error: (m) => void lines.push(m), warn: () => {}, info: () => {} };
 * using executor = new Executor({ clock, logger });
 * const sensor = executor.periodic({
 *   name: "sensor",
 *   periodMs: 10,
 *   run: () => {
 *     throw new Error("no reading");
 *   },
 * });
 * clock.advance(30);
 * assertEquals(sensor.stats().failures, 3);
 * assertEquals(sensor.stats().lastError?.message, "no reading");
 * assertEquals(lines, ['Task "sensor" failed: no reading']); // at most one line per task per second
 * ```
 */
export interface TaskStats {
  /** The task's name. */
  name: string;
  /**
   * `periodic`, `once`, `event`, or `schedule` (released by a
   * {@linkcode ReleasePlan}: cron and wall-clock tasks).
   */
  kind: "periodic" | "once" | "event" | "schedule";
  /** Its lifecycle state. */
  state: TaskState;
  /**
   * No release will come any more: cancelled, failed, quarantined, or a
   * one-shot or schedule whose last release ran (and nothing queued).
   */
  finished: boolean;
  /** Its budget tier. */
  tier: BudgetTier;
  /** Why it was quarantined or failed, when it was. */
  reason: string | undefined;
  /** Releases (timer fires or events), including dropped ones. */
  releases: number;
  /** Runs started. */
  runs: number;
  /** Runs that threw or rejected (and offloaded runs that failed). */
  failures: number;
  /** The last failure, kept until the next one; `undefined` if it never failed. */
  lastError: ErrorRecord | undefined;
  /** Retries run. */
  retries: number;
  /** Runs that finished after their deadline. */
  deadlineMisses: number;
  /** Runs longer than the budget. */
  overruns: number;
  /** Dropped releases, by reason. */
  dropped: Record<DropReason, number>;
  /**
   * Periodic releases skipped after a stall (`missedTicks: "skip"`): ticks
   * whose time passed while the thread was blocked, so they never ran.
   */
  skippedTicks: number;
  /** Releases deferred (later run or dropped at `deferCap`). */
  deferred: number;
  /** Releases waiting now (queued or deferred). */
  queued: number;
  /** Checkpoints that yielded through a timer. */
  yields: number;
  /** Runs sent to the offload pool. */
  offloaded: number;
  /** Release to start, ms. */
  schedulingLatency: LatencySnapshot;
  /** Start to end, ms (for async bodies, until the promise settles). */
  execution: LatencySnapshot;
  /** End minus deadline, ms (negative: early); only runs with a finite deadline. */
  lateness: LatencySnapshot;
}

/** A snapshot of an {@linkcode Executor} and its tasks. */
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
  /** Runs started, all tasks. */
  runs: number;
  /** Runs that finished after their deadline, all tasks. */
  deadlineMisses: number;
  /** Runs that failed, all tasks. */
  failures: number;
  /** Runs longer than their task's budget, all tasks. */
  overruns: number;
  /** Dropped releases by reason, all tasks. */
  dropped: Record<DropReason, number>;
  /** Periodic releases skipped after stalls, all tasks. */
  skippedTicks: number;
  /** Calls of `ExecutorOptions.hooks` that threw (caught, counted, logged). */
  hookErrors: number;
  /** Release to start over all tasks, ms. */
  schedulingLatency: LatencySnapshot;
  /** Execution time over all tasks, ms. */
  execution: LatencySnapshot;
  /** Every live task. */
  perTask: TaskStats[];
}

/**
 * A handle on a task added to an {@linkcode Executor}. Its methods are bound:
 * `const { cancel } = executor.periodic(...)` works.
 */
export interface TaskHandle extends Disposable {
  /** The task's name. */
  readonly name: string;
  /** Its lifecycle state. */
  readonly state: TaskState;
  /** Its budget tier. */
  readonly tier: BudgetTier;
  /**
   * Stops releasing the task; waiting releases are dropped, a running async
   * body sees its signal abort.
   *
   * @returns `false` if it was already cancelled.
   */
  cancel(): boolean;
  /**
   * Stops releasing the task until {@linkcode TaskHandle.resume}: its timer
   * or subscription is cancelled; a release already waiting still runs.
   *
   * @returns `false` if it was already paused.
   * @throws {TypeError} when the task is cancelled, failed, quarantined or a finished one-shot.
   */
  pause(): boolean;
  /**
   * Releases a paused task again, or restarts a quarantined one at the
   * `monitor` tier. A paused periodic task keeps its phase (the next release
   * is the first `first + k * period` after now); a paused one-shot is
   * released at its time, or at once if that passed; a paused schedule
   * re-derives its next fire from the wall clock (the fires it missed while
   * paused are not run). A quarantined periodic task restarts one period
   * from now.
   *
   * @throws {TypeError} when the task is neither paused nor quarantined.
   */
  resume(): void;
  /**
   * Changes a periodic task's period. The next release is one new period
   * after the previous release (at once if that passed); a deadline that
   * defaulted to the period follows it.
   *
   * @param periodMs The new period, ms (at least `MIN_PERIOD_MS`).
   * @throws {TypeError} when the task is not periodic, or is cancelled, failed or quarantined.
   * @throws {RangeError} when `periodMs` is out of range.
   */
  setPeriod(periodMs: number): void;
  /**
   * Changes what a schedule task follows: a cron expression or nickname for
   * a cron task, a `Date` or ISO string for a wall-clock one-shot. The next
   * fire is derived from the wall clock now; a fire already run is not run again.
   *
   * @param schedule The new expression or date.
   * @throws {TypeError} when the task is not a schedule task, is stopped, or
   *   `schedule` has the wrong type or does not parse.
   * @throws {RangeError} when `schedule` is out of range.
   */
  reschedule(schedule: string | Date): void;
  /**
   * Releases one run now, outside the task's timing (its next releases do not
   * move). It works while paused, and follows the task's caps.
   *
   * @throws {TypeError} when the task is cancelled, failed or quarantined,
   *   or is an event task (it has no event to run with).
   */
  runNow(): void;
  /**
   * The next releases, on the executor's clock: empty for an event task and
   * for a paused, stopped or finished task.
   *
   * @param count How many (an integer from 1 to 10,000).
   * @returns Up to `count` times in ms, ascending.
   * @throws {RangeError} when `count` is out of range.
   */
  nextRuns(count: number): number[];
  /** Takes a snapshot of the task's figures. */
  stats(): TaskStats;
}

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
   * The driver that releases timed tasks (a {@linkcode Driver} instance);
   * when left out the executor makes its own, with the executor's `name` and
   * `logger`, and closes it on close. With a driver, `clock` and `profile`
   * are checked but not used.
   */
  driver?: Driver;
  /**
   * The clock of a driver the executor makes: an object whose `now()`
   * returns a finite number of milliseconds.
   *
   * @default {MONOTONIC_CLOCK}
   */
  clock?: Clock;
  /** The precision profile of a driver the executor makes. @default {"balanced"} */
  profile?: PrecisionProfile;
  /**
   * The bus event tasks subscribe to and budget events go to: an
   * `EventBus`, or any object with a `topic(name)` method returning a topic
   * that can be subscribed to and published on.
   */
  bus?: EventBus;
  /**
   * Where isolated offloadable tasks run: an `OffloadPool`, or any object
   * with a `submit(job, input)` method that returns a promise of the result.
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
   * release. `{ fixedMs }`: a fixed tick every `fixedMs` (at least
   * `MIN_PERIOD_MS`, 0.001) releases whatever is due (the classic design,
   * for comparison); a release more than one tick late counts as missed and
   * follows the task's `missedTicks` policy.
   *
   * @default {"adaptive"}
   */
  tick?: "adaptive" | { fixedMs: number };
  /** Thresholds and cooldowns of the budget tiers. */
  budget?: BudgetPolicy;
  /** Registry to export `chronetix_exec_*` metrics into. */
  metrics?: MetricsRegistry;
  /**
   * Called as tasks are added, run and stop (see {@linkcode ExecutorHooks}):
   * e.g. a `TaskSink` from `@chronetix/core/sovd`, which the diagnostics
   * server then reads liveness and timing from. A hook that throws is
   * counted in `hookErrors`, never breaks a run.
   */
  hooks?: ExecutorHooks;
}

/** What `Executor.close()` did. */
export interface ExecutorCloseReport {
  /** Tasks cancelled. */
  cancelled: number;
  /** Waiting or deferred releases dropped. */
  dropped: number;
}
