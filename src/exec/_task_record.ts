// One task inside the executor: its checked configuration (see
// _task_config.ts), its state and counters, its pre-allocated timing
// histograms, the one context object its runs reuse, and the handle users
// hold. The executor drives it through the Bridge; nothing here schedules on
// its own.

import type { Clock } from "../time/clock.ts";
import type { Driver } from "../time/driver.ts";
import type { Timer } from "../time/timer.ts";
import { LatencyHistogram } from "../time/latency_histogram.ts";
import type { Subscription } from "../bus/topic.ts";
import type { Histogram } from "../metrics/families.ts";
import type { Logger } from "../logger.ts";
import type { LogLimiter } from "../internal/log_limiter.ts";
import { type ErrorRecord, errorRecord } from "../errors.ts";
import { ChronetixError, ClosedError } from "../errors.ts";
import { type MissedTickPolicy, requirePeriod } from "../time/timer_wheel.ts";
import { requireInteger } from "../internal/validate.ts";
import {
  BUDGET_TIERS,
  type BudgetEvent,
  type BudgetTier,
  type BudgetTracker,
  TIER_LEVEL,
} from "./budget.ts";
import type { EdfEntry } from "./_edf_queue.ts";
import {
  DROP_REASONS,
  type DropReason,
  type ErrorPolicy,
  type OverflowPolicy,
  type ReleasePlan,
  type TaskContext,
  type TaskHandle,
  type TaskOffload,
  type TaskState,
  type TaskStats,
} from "./task.ts";
import type { TaskConfig, TaskKind } from "./_task_config.ts";
import type { GuardedHooks } from "./_guarded_hooks.ts";

/** One release of a task, queued or running; pooled by the executor. */
export interface Job extends EdfEntry {
  task: TaskRecord;
  release: number;
  event: unknown;
  attempt: number;
}

/** What a task record may call back into the executor for. */
export interface Bridge {
  release(task: TaskRecord, release: number, event: unknown): void;
  /** A release made by `runNow()`: outside the task's timing. */
  releaseNow(task: TaskRecord, event: unknown): void;
  dropWaiting(task: TaskRecord): number;
  forget(task: TaskRecord): void;
  readonly clock: Clock;
  readonly driver: Driver;
  readonly logger: Logger;
  /** Rate-limits failure lines, one key per task. */
  readonly failureLog: LogLimiter;
  /** The executor's hooks, guarded. */
  readonly hooks: GuardedHooks;
}

/** The metrics a run is observed into, resolved once when the task is added. */
export interface TaskHistograms {
  /** Release to start, seconds. */
  readonly sched: Histogram;
  /** Start to end, seconds. */
  readonly exec: Histogram;
  /** End minus deadline, seconds, early finishes as 0. */
  readonly lateness: Histogram;
}

/** Zero per drop reason. */
export function newDropCounts(): Record<DropReason, number> {
  const counts = {} as Record<DropReason, number>;
  for (const reason of DROP_REASONS) counts[reason] = 0;
  return counts;
}

/**
 * The error a run failed with when it threw or rejected with nothing
 * (`throw undefined`, `Promise.reject()`): still a failure, with a stable code.
 *
 * @param task The task's name.
 * @returns A `ChronetixError` with code `E_REJECTED`.
 */
export function rejectedWithoutReason(task: string): ChronetixError {
  return new ChronetixError(
    "E_REJECTED",
    `Cannot finish the run of task "${task}" as it threw or rejected without a reason`,
  );
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * The record of a failure, whatever was thrown: a value whose description
 * itself throws (a hostile getter, a revoked proxy) is still counted, with a
 * message that says so.
 */
function describeFailure(error: unknown, now: number): ErrorRecord {
  try {
    const record = errorRecord(error, now);
    if (typeof record.message === "string") return record;
  } catch {
    // Described below.
  }
  return { message: "a value that cannot be described (its properties throw)", atMs: now };
}

/** One task's configuration, state, counters and pre-allocated timing histograms. */
export class TaskRecord {
  readonly name: string;
  readonly kind: TaskKind;
  readonly run: (ctx: TaskContext<unknown>) => unknown;
  /** Relative deadline; follows `setPeriod()` when it defaulted to the period. */
  deadlineMs: number;
  readonly deadlineFromPeriod: boolean;
  readonly priority: number;
  readonly budgetMs: number | undefined;
  readonly queueCap: number;
  readonly overflow: OverflowPolicy;
  readonly onError: ErrorPolicy;
  readonly maxRetries: number;
  readonly offload: TaskOffload<unknown> | undefined;
  /** What releases a schedule task. */
  readonly plan: ReleasePlan<unknown> | undefined;
  readonly budget: BudgetTracker;
  readonly sched: LatencyHistogram = new LatencyHistogram();
  readonly exec: LatencyHistogram = new LatencyHistogram();
  readonly lateness: LatencyHistogram = new LatencyHistogram();
  readonly dropped: Record<DropReason, number> = newDropCounts();
  readonly pending: Job[] = [];
  readonly ctx: TaskContextImpl;
  readonly handle: TaskHandle;
  readonly #bridge: Bridge;
  /** The metrics runs are observed into, when the executor exports metrics. */
  histograms: TaskHistograms | undefined;
  /** (Re)creates the task's timer or subscription; set by the executor. */
  attach: (delayMs: number) => void = () => {};
  state: TaskState = "created";
  ready: Job | undefined;
  running = false;
  timer: Timer | undefined;
  subscription: Subscription | undefined;
  nextRelease = Infinity;
  periodMs = 0;
  /** A release time on a periodic task's grid (its first), or a one-shot's release time. */
  anchor = NaN;
  /** `pause()` was called and `resume()` not yet. */
  paused = false;
  /** A schedule task's plan said it is over. */
  planDone = false;
  /** A one-shot task's own release came (a `runNow()` release does not count). */
  fired = false;
  /** What a periodic task does about releases missed in a stall. */
  missedTicks: MissedTickPolicy = "skip";
  /**
   * A gap between two timer releases above this means ticks were skipped:
   * 1.5 periods for periodic tasks with the `skip` policy, else `Infinity`.
   */
  skipGap = Infinity;
  /** The previous timer release, `NaN` after (re)attaching. */
  lastRelease = NaN;
  releases = 0;
  runs = 0;
  failures = 0;
  retries = 0;
  misses = 0;
  overruns = 0;
  skippedTicks = 0;
  deferred = 0;
  /** Releases of this task in the deferred queue now. */
  deferredNow = 0;
  offloaded = 0;
  reason: string | undefined;
  lastError: ErrorRecord | undefined;
  /** What the executor's `attach` hook returned for the task (-1: no slot, no hooks). */
  hookIndex = -1;
  #controller = new AbortController();

  constructor(bridge: Bridge, config: TaskConfig, budget: BudgetTracker) {
    this.#bridge = bridge;
    this.name = config.name;
    this.kind = config.kind;
    this.run = config.run;
    this.deadlineMs = config.deadlineMs;
    this.deadlineFromPeriod = config.deadlineFromPeriod;
    this.plan = config.plan;
    this.priority = config.priority;
    this.budgetMs = config.budgetMs;
    this.queueCap = config.queueCap;
    this.overflow = config.overflow;
    this.onError = config.onError;
    this.maxRetries = config.maxRetries;
    this.offload = config.offload;
    this.budget = budget;
    this.ctx = new TaskContextImpl(this, bridge);
    this.handle = new TaskHandleImpl(this);
  }

  get terminal(): boolean {
    return this.state === "cancelled" || this.state === "failed" ||
      this.state === "quarantined" || (this.fired && this.state === "done" && this.#idle) ||
      (this.planDone && (this.state === "done" || this.state === "created") && this.#idle);
  }

  /** Nothing of the task waits: a finished one-shot with a `runNow()` release queued is not over. */
  get #idle(): boolean {
    return this.pending.length === 0 && this.ready === undefined && this.deferredNow === 0;
  }

  /** The state users see: `paused` while paused and idle. */
  get publicState(): TaskState {
    const state = this.state;
    return this.paused && (state === "done" || state === "created") ? "paused" : state;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Waiting releases: queued (ready or pending) and deferred. */
  get queued(): number {
    return this.pending.length + (this.ready === undefined ? 0 : 1) + this.deferredNow;
  }

  releaseTimer = (deadline: number): void => {
    this.#bridge.release(this, deadline, undefined);
  };

  releaseEvent = (event: unknown): void => {
    this.#bridge.release(this, this.#bridge.clock.now(), event);
  };

  prepare(job: Job, start: number): void {
    const ctx = this.ctx;
    ctx.release = job.release;
    ctx.deadline = job.deadline;
    ctx.event = job.event;
    ctx.attempt = job.attempt;
    ctx.sliceEnd = this.budgetMs === undefined ? Infinity : start + this.budgetMs;
  }

  /**
   * Keeps a failure as `lastError` and logs it, at most one line per task per
   * second of the executor's clock; the next line says how many were not logged.
   *
   * @param error What the run threw or rejected with (never `undefined`).
   * @param now The executor's clock.
   * @returns The failure kept.
   */
  noteFailure(error: unknown, now: number): ErrorRecord {
    const failure = describeFailure(error, now);
    this.lastError = failure;
    this.#bridge.failureLog.error(this.name, now, `Task "${this.name}" failed: ${failure.message}`);
    return failure;
  }

  /**
   * Acts on a budget tier change: a task that climbs to `isolate` and cannot
   * be offloaded is quarantined; a climb is logged as a warning.
   *
   * @param step +1 up a tier, -1 down.
   * @param execMs The run that caused it.
   * @returns The event to publish.
   */
  tierChanged(step: 1 | -1, execMs: number): BudgetEvent {
    const to = this.budget.tier;
    const from = BUDGET_TIERS[this.budget.level - step]!;
    const budgetMs = this.budgetMs!;
    let action: BudgetEvent["action"];
    if (step < 0) action = "recover";
    else if (to !== "isolate") action = to === "warn" ? "warn" : "yield";
    else action = this.offload !== undefined ? "offload" : "quarantine";
    const ms = execMs.toFixed(3);
    if (action === "quarantine" && !this.terminal) {
      this.reason =
        `quarantined: ${this.overruns} runs over its ${budgetMs} ms budget (last ${ms} ms)`;
      this.stop("quarantined");
    }
    if (step > 0) {
      const what = action === "quarantine"
        ? ", quarantined"
        : action === "offload"
        ? ", offloaded"
        : "";
      this.#bridge.logger.warn(
        `Task "${this.name}" exceeded its ${budgetMs} ms budget (${ms} ms): tier ${from} -> ${to}${what}`,
      );
    }
    return { task: this.name, from, to, execMs, budgetMs, action };
  }

  /** Cancels timers and subscriptions only. */
  detach(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.nextRelease = Infinity;
    this.lastRelease = NaN;
  }

  /**
   * Moves the task to a terminal state: no more releases, waiting releases
   * dropped, a pending checkpoint yield resolved.
   *
   * @returns How many waiting releases were dropped.
   */
  stop(state: "failed" | "quarantined" | "cancelled"): number {
    if (!this.terminal) {
      this.#bridge.hooks.stop(this.hookIndex, this.#bridge.clock.now(), state === "cancelled");
    }
    this.state = state;
    this.detach();
    this.ctx.endYield();
    return this.#bridge.dropWaiting(this);
  }

  cancel(): number {
    if (this.state === "cancelled") return 0;
    this.#controller.abort(new ClosedError("task", "run"));
    const dropped = this.stop("cancelled");
    this.#bridge.forget(this);
    return dropped;
  }

  resume(): void {
    if (this.paused && !this.terminal) {
      // Attach first: if that throws (a closed injected driver or bus), the
      // task stays paused as it was.
      this.attach(this.#resumeDelay());
      this.paused = false;
      return;
    }
    if (this.state !== "quarantined") {
      throw new TypeError(
        `Cannot resume task "${this.name}" as it is ${this.publicState}, not paused or quarantined`,
      );
    }
    // Attach first: if that throws (a closed injected driver or bus), the
    // task stays quarantined as it was.
    this.attach(this.kind === "periodic" ? this.periodMs : 0);
    this.paused = false;
    this.budget.reset("monitor", this.#bridge.clock.now());
    this.reason = undefined;
    this.state = "done";
    this.hookIndex = this.#bridge.hooks.attach(this.name, this.#bridge.clock.now());
  }

  pause(): boolean {
    this.#requireLive("pause");
    if (this.paused) return false;
    this.paused = true;
    this.detach();
    return true;
  }

  setPeriod(periodMs: unknown): void {
    const action = `set the period of task "${this.name}"`;
    if (this.kind !== "periodic") {
      throw new TypeError(
        `Cannot ${action} as it is ${article(this.kind)} task, not a periodic one${
          this.kind === "schedule" ? ": use reschedule()" : ""
        }`,
      );
    }
    this.#requireLive("set the period of");
    const now = this.#bridge.clock.now();
    const period = requirePeriod(action, "periodMs", periodMs, now);
    const base = Number.isFinite(this.lastRelease) ? this.lastRelease : now;
    const next = Math.max(now, base + period);
    requirePeriod(action, "periodMs", period, next);
    const horizon = this.#bridge.driver.wheel.maxDeadlineMs;
    if (!(next <= horizon)) {
      throw new RangeError(
        `Cannot ${action} as 'periodMs' must be at most ${
          horizon - base
        } (the driver's horizon): current value is ${period}`,
      );
    }
    this.periodMs = period;
    if (this.deadlineFromPeriod) this.deadlineMs = period;
    if (this.paused) {
      this.anchor = next;
      return;
    }
    this.detach();
    this.attach(next - now);
  }

  reschedule(schedule: unknown): void {
    const plan = this.plan;
    if (plan === undefined) {
      throw new TypeError(
        `Cannot reschedule task "${this.name}" as it is ${article(this.kind)} task, not a schedule${
          this.kind === "periodic" ? ": use setPeriod()" : ""
        }`,
      );
    }
    this.#requireLive("reschedule");
    plan.reschedule(schedule);
    this.planDone = false;
    if (this.paused) return;
    this.detach();
    this.attach(0);
  }

  runNow(): void {
    this.#requireLive("run");
    if (this.kind === "event") {
      throw new TypeError(
        `Cannot run task "${this.name}" now as it is an event task: publish an event on its topic`,
      );
    }
    const plan = this.plan;
    this.#bridge.releaseNow(
      this,
      plan === undefined ? undefined : plan.manual(this.#bridge.clock.now()),
    );
  }

  nextRuns(count: unknown): number[] {
    const n = requireInteger(
      `list the next runs of task "${this.name}"`,
      "count",
      count,
      1,
      10_000,
    );
    if (this.paused || this.terminal || this.kind === "event") return [];
    const now = this.#bridge.clock.now();
    if (this.plan !== undefined) return this.planDone ? [] : this.plan.upcoming(n, now);
    const timer = this.timer;
    const next = timer?.active === true ? timer.deadline : this.nextRelease;
    if (!Number.isFinite(next)) return [];
    if (this.kind === "once") return [next];
    const runs: number[] = [];
    for (let k = 0; k < n; k++) runs.push(next + k * this.periodMs);
    return runs;
  }

  /** How long after now a paused task's next release comes when resumed. */
  #resumeDelay(): number {
    const now = this.#bridge.clock.now();
    if (this.kind === "periodic") {
      const anchor = this.anchor;
      const period = this.periodMs;
      if (!(anchor <= now)) return Number.isFinite(anchor) ? anchor - now : period;
      const next = anchor + (Math.floor((now - anchor) / period) + 1) * period;
      return next > now ? next - now : period;
    }
    if (this.kind === "once") return Math.max(0, this.anchor - now);
    return 0;
  }

  #requireLive(what: string): void {
    if (this.terminal) {
      throw new TypeError(`Cannot ${what} task "${this.name}" as it is ${this.state}`);
    }
  }

  stats(): TaskStats {
    const lastError = this.lastError;
    return {
      name: this.name,
      kind: this.kind,
      finished: this.terminal,
      state: this.publicState,
      tier: this.budget.tier,
      reason: this.reason,
      releases: this.releases,
      runs: this.runs,
      failures: this.failures,
      lastError: lastError === undefined ? undefined : { ...lastError },
      retries: this.retries,
      deadlineMisses: this.misses,
      overruns: this.overruns,
      dropped: { ...this.dropped },
      skippedTicks: this.skippedTicks,
      deferred: this.deferred,
      queued: this.queued,
      yields: this.ctx.yields,
      offloaded: this.offloaded,
      schedulingLatency: this.sched.snapshot(),
      execution: this.exec.snapshot(),
      lateness: this.lateness.snapshot(),
    };
  }
}

/** "a periodic", "an event", ... */
function article(kind: TaskKind): string {
  return kind === "once" ? "a one-shot" : kind === "event" ? "an event" : `a ${kind}`;
}

/**
 * The public face of a task record. Its methods are bound, so
 * `const { cancel } = executor.periodic(...)` works.
 */
class TaskHandleImpl implements TaskHandle {
  readonly #task: TaskRecord;
  constructor(task: TaskRecord) {
    this.#task = task;
  }
  get name(): string {
    return this.#task.name;
  }
  get state(): TaskState {
    return this.#task.publicState;
  }
  get tier(): BudgetTier {
    return this.#task.budget.tier;
  }
  cancel = (): boolean => {
    const was = this.#task.state === "cancelled";
    this.#task.cancel();
    return !was;
  };
  resume = (): void => {
    this.#task.resume();
  };
  pause = (): boolean => this.#task.pause();
  setPeriod = (periodMs: number): void => {
    this.#task.setPeriod(periodMs);
  };
  reschedule = (schedule: string | Date): void => {
    this.#task.reschedule(schedule);
  };
  runNow = (): void => {
    this.#task.runNow();
  };
  nextRuns = (count: number): number[] => this.#task.nextRuns(count);
  stats = (): TaskStats => this.#task.stats();
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
  #yield: PromiseWithResolvers<void> | undefined;
  #yieldTimer: { cancel(): boolean } | undefined;

  constructor(task: TaskRecord, bridge: Bridge) {
    this.name = task.name;
    this.#task = task;
    this.#bridge = bridge;
  }

  get signal(): AbortSignal {
    return this.#task.signal;
  }

  // Bound, so a body may pass `ctx.checkpoint` around. Outside a run, once
  // the task is cancelled, or when the driver is closed it resolves at once;
  // a pending yield resolves when the task stops or the executor closes.
  checkpoint = (): Promise<void> => {
    const task = this.#task;
    if (task.budget.level < TIER_LEVEL.yield || !task.running || task.signal.aborted) {
      return RESOLVED;
    }
    const pending = this.#yield;
    if (pending !== undefined) return pending.promise;
    if (this.#bridge.clock.now() < this.sliceEnd) return RESOLVED;
    const yielded = Promise.withResolvers<void>();
    try {
      this.#yieldTimer = this.#bridge.driver.after(0, this.#endSlice, {
        latenessClass: "exec-yield",
      });
    } catch {
      return RESOLVED; // the driver is closed: nothing left to yield to
    }
    this.yields++;
    this.#yield = yielded;
    return yielded.promise;
  };

  /** Resolves a pending yield now (the task stopped or the executor closed). */
  endYield(): void {
    this.#yieldTimer?.cancel();
    this.#yieldTimer = undefined;
    const pending = this.#yield;
    this.#yield = undefined;
    pending?.resolve();
  }

  #endSlice = (): void => {
    this.#yieldTimer = undefined;
    this.sliceEnd = this.#bridge.clock.now() + (this.#task.budgetMs ?? Infinity);
    const pending = this.#yield;
    this.#yield = undefined;
    pending?.resolve();
  };
}
