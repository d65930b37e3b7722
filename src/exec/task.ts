import type { MissedTickPolicy } from "../time/timer_wheel.ts";
import type { BudgetTier } from "./budget.ts";
import type { LatencySnapshot } from "../time/latency_histogram.ts";

/** The lifecycle states of a task. */
export const TASK_STATES: readonly [
  "created",
  "ready",
  "running",
  "done",
  "failed",
  "cancelled",
  "quarantined",
] = ["created", "ready", "running", "done", "failed", "cancelled", "quarantined"];

/**
 * Where a task is: `created` (not yet released), `ready` (a release waits
 * to run), `running`, `done` (the last run finished; terminal for a
 * one-shot task), `failed` (stopped by its error policy), `cancelled`,
 * `quarantined` (stopped by the budget's isolate tier; `resume()` restarts it).
 */
export type TaskState = typeof TASK_STATES[number];

/** What happens to a release over a queue cap. */
export const OVERFLOW_POLICIES: readonly ["drop-newest", "drop-oldest", "defer"] = [
  "drop-newest",
  "drop-oldest",
  "defer",
];

/**
 * Over a cap: `drop-newest` drops the new release, `drop-oldest` drops the
 * task's oldest waiting release (the freshest data wins), `defer` keeps a
 * release over the global cap until there is room (bounded by the
 * executor's `deferCap`; deferred releases count against the task's own
 * `queueCap`, and over that cap the new release is dropped).
 */
export type OverflowPolicy = typeof OVERFLOW_POLICIES[number];

/** What happens when a run throws. */
export const ERROR_POLICIES: readonly ["continue", "retry", "stop"] = ["continue", "retry", "stop"];

/**
 * After a failed run: `continue` (count it; periodic and event tasks keep
 * being released), `retry` (run again at once, up to `maxRetries`, then as
 * `continue`), `stop` (the task moves to `failed` and is not released again).
 */
export type ErrorPolicy = typeof ERROR_POLICIES[number];

/** Why a release is dropped: over the task's cap, over the global cap, over `deferCap`, or stopped. */
export const DROP_REASONS: readonly ["task-cap", "global-cap", "defer-cap", "stopped"] = [
  "task-cap",
  "global-cap",
  "defer-cap",
  "stopped",
];

/** One of {@linkcode DROP_REASONS}. */
export type DropReason = typeof DROP_REASONS[number];

/** What a task's body gets on each run. */
export interface TaskContext<E = unknown> {
  /** The task's name. */
  readonly name: string;
  /** When this run was released (ms, the executor's clock). */
  readonly release: number;
  /** Its absolute deadline (ms): release plus the relative deadline. */
  readonly deadline: number;
  /** The event that released it (event-triggered tasks), else `undefined`. */
  readonly event: E | undefined;
  /** 0 on a first run, then 1, 2, ... for retries. */
  readonly attempt: number;
  /** Aborts when the task is cancelled or the executor stops. */
  readonly signal: AbortSignal;
  /**
   * A cooperative preemption point for long async bodies: resolves at once,
   * unless the task is at the `yield` tier (or above) and this run has spent
   * its budget; then it yields through a timer, so timers and other tasks run.
   */
  checkpoint(): Promise<void>;
}

/** A task body; sync or async. */
export type TaskBody<E = unknown> = (ctx: TaskContext<E>) => void | Promise<void>;

/** How an offloadable task runs in the offload pool once isolated. */
export interface TaskOffload<E = unknown> {
  /** The registered job to submit. */
  job: string;
  /** Builds the job's input from the run's context. @default {the context's event} */
  input?: (ctx: TaskContext<E>) => unknown;
}

/** What every kind of task is given. */
export interface TaskOptions<E = unknown> {
  /** Unique among the executor's live tasks. */
  name: string;
  /** The body. */
  run: TaskBody<E>;
  /**
   * Relative deadline in ms: a run should finish by release + this.
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
  /** The period in ms; releases are drift-free (`first + k * period`). */
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

/** Options of {@linkcode Executor.onEvent}. */
export interface EventTaskOptions<E> extends TaskOptions<E> {
  /** The bus topic whose events release the task (one release per event). */
  topic: string;
}

/** A snapshot of one task. */
export interface TaskStats {
  /** The task's name. */
  name: string;
  /** `periodic`, `once` or `event`. */
  kind: "periodic" | "once" | "event";
  /** Its lifecycle state. */
  state: TaskState;
  /** Its budget tier. */
  tier: BudgetTier;
  /** Why it was quarantined or failed, when it was. */
  reason: string | undefined;
  /** Releases (timer fires or events), including dropped ones. */
  releases: number;
  /** Runs started. */
  runs: number;
  /** Runs that threw or rejected. */
  failures: number;
  /** Retries run. */
  retries: number;
  /** Runs that finished after their deadline. */
  deadlineMisses: number;
  /** Runs longer than the budget. */
  overruns: number;
  /** Dropped releases, by reason. */
  drops: Record<DropReason, number>;
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
  /** End minus deadline, ms (negative: early). */
  lateness: LatencySnapshot;
}

/** A handle on a task added to an {@linkcode Executor}. */
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
  /** Restarts a quarantined task at the `monitor` tier. */
  resume(): void;
  /** Takes a snapshot of the task's figures. */
  stats(): TaskStats;
}
