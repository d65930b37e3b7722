// A task's options, checked once at the boundary and with the defaults
// filled in, before the executor registers anything: a bad option throws
// here and leaves no trace.

import {
  requireFinite,
  requireFunction,
  requireInteger,
  requireName,
  requireNonEmptyString,
  requireNonNegative,
  requireOneOf,
  requirePositive,
  show,
} from "../internal/validate.ts";
import { MISSED_TICK_POLICIES, type MissedTickPolicy, requirePeriod } from "../time/timer_wheel.ts";
import {
  ERROR_POLICIES,
  type ErrorPolicy,
  type EventTaskOptions,
  OVERFLOW_POLICIES,
  type OverflowPolicy,
  type PeriodicTaskOptions,
  type ReleasePlan,
  type ScheduleTaskOptions,
  type TaskContext,
  type TaskOffload,
  type TaskStats,
} from "./task.ts";

/** The kinds of task. */
export type TaskKind = TaskStats["kind"];

/** A task's options, checked and with the defaults filled in. */
export interface TaskConfig {
  name: string;
  kind: TaskKind;
  run: (ctx: TaskContext<unknown>) => unknown;
  deadlineMs: number;
  priority: number;
  budgetMs: number | undefined;
  queueCap: number;
  overflow: OverflowPolicy;
  onError: ErrorPolicy;
  maxRetries: number;
  offload: TaskOffload<unknown> | undefined;
  /** The period of a periodic task, else 0. */
  periodMs: number;
  /** Delay before the first release. */
  delayMs: number;
  /** The missed-tick policy of a periodic task. */
  missedTicks: MissedTickPolicy;
  /** The topic of an event task, else "". */
  topic: string;
  /** Whether the deadline defaulted to the period (it then follows `setPeriod()`). */
  deadlineFromPeriod: boolean;
  /** The plan of a schedule task. */
  plan: ReleasePlan<unknown> | undefined;
}

const PLAN_METHODS = ["start", "wake", "upcoming", "manual", "reschedule"] as const;

/** What the executor tells {@linkcode resolveTaskConfig} about itself. */
export interface TaskLimits {
  /** The executor's clock now: a period must advance the first release. */
  readonly now: number;
  /** The latest release the driver can schedule (a delay is checked against it). */
  readonly maxReleaseMs: number;
  /** Whether the executor has an offload pool. */
  readonly canOffload: boolean;
}

const QUEUE_CAP_MAX = 1 << 20;
const MAX_RETRIES = 1e6;

/**
 * Checks every option of a task and fills in the defaults, before anything
 * is registered: a bad option throws here and leaves no trace. An option
 * present with the value `null` is an error, not the default.
 *
 * @param action What the caller was doing, for error messages.
 * @param kind The kind of task.
 * @param options The options as given.
 * @param limits The executor's clock, schedule horizon and offload pool.
 * @returns The checked configuration.
 * @throws {TypeError} when an option has the wrong type.
 * @throws {RangeError} when an option is out of range.
 */
export function resolveTaskConfig(
  action: string,
  kind: TaskKind,
  options: unknown,
  limits: TaskLimits,
): TaskConfig {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `Cannot ${action} as 'options' must be an object: current value is ${show(options)}`,
    );
  }
  const o = options as Partial<
    EventTaskOptions<unknown> & PeriodicTaskOptions & ScheduleTaskOptions<unknown>
  >;
  const name = requireName(action, "name", o.name);
  const run = requireFunction<TaskConfig["run"]>(action, "run", o.run);
  let periodMs = 0;
  let missedTicks: MissedTickPolicy = "skip";
  let topic = "";
  let delayMs: number;
  if (kind === "periodic") {
    periodMs = requirePeriod(action, "periodMs", o.periodMs, limits.now);
    delayMs = o.delayMs === undefined ? periodMs : requireNonNegative(action, "delayMs", o.delayMs);
    if (o.missedTicks !== undefined) {
      missedTicks = requireOneOf(action, "missedTicks", o.missedTicks, MISSED_TICK_POLICIES);
    }
  } else {
    delayMs = kind === "once" && o.delayMs !== undefined
      ? requireNonNegative(action, "delayMs", o.delayMs)
      : 0;
    if (kind === "event") topic = requireName(action, "topic", o.topic);
  }
  const plan = kind === "schedule" ? requirePlan(action, o.plan) : undefined;
  const first = limits.now + delayMs;
  if (!(first <= limits.maxReleaseMs)) {
    // A periodic task's first release defaults to one period from now.
    const param = kind === "periodic" && o.delayMs === undefined ? "periodMs" : "delayMs";
    throw new RangeError(
      `Cannot ${action} as '${param}' must be at most ${
        limits.maxReleaseMs - limits.now
      } (the driver's horizon): current value is ${delayMs}`,
    );
  }
  if (kind === "periodic") requirePeriod(action, "periodMs", periodMs, first);
  const deadlineMs = o.deadlineMs === undefined
    ? (kind === "periodic" ? periodMs : Infinity)
    : requireDeadline(action, o.deadlineMs);
  const priority = o.priority === undefined ? 0 : requireFinite(action, "priority", o.priority);
  const budgetMs = o.budgetMs === undefined
    ? undefined
    : requirePositive(action, "budgetMs", o.budgetMs);
  const queueCap = o.queueCap === undefined
    ? 2
    : requireInteger(action, "queueCap", o.queueCap, 1, QUEUE_CAP_MAX);
  const overflow = o.overflow === undefined
    ? "drop-oldest"
    : requireOneOf(action, "overflow", o.overflow, OVERFLOW_POLICIES);
  const onError = o.onError === undefined
    ? "continue"
    : requireOneOf(action, "onError", o.onError, ERROR_POLICIES);
  const maxRetries = o.maxRetries === undefined
    ? 3
    : requireInteger(action, "maxRetries", o.maxRetries, 0, MAX_RETRIES);
  const offload = o.offload === undefined
    ? undefined
    : resolveOffload(action, o.offload, limits.canOffload);
  return {
    name,
    kind,
    run,
    deadlineMs,
    priority,
    budgetMs,
    queueCap,
    overflow,
    onError,
    maxRetries,
    offload,
    periodMs,
    delayMs,
    missedTicks,
    topic,
    deadlineFromPeriod: kind === "periodic" && o.deadlineMs === undefined,
    plan,
  };
}

/** A release plan: an object with the {@linkcode ReleasePlan} methods. */
function requirePlan(action: string, value: unknown): ReleasePlan<unknown> {
  const ok = value !== null && typeof value === "object" &&
    PLAN_METHODS.every((m) => typeof (value as Record<string, unknown>)[m] === "function");
  if (!ok) {
    throw new TypeError(
      `Cannot ${action} as 'plan' must be a ReleasePlan with ${
        PLAN_METHODS.join(", ")
      } methods: current value is ${show(value)}`,
    );
  }
  return value as ReleasePlan<unknown>;
}

/** A relative deadline: a number `> 0`; `Infinity` means none. */
function requireDeadline(action: string, value: unknown): number {
  if (typeof value === "number" && value > 0) return value;
  const Err = typeof value === "number" ? RangeError : TypeError;
  throw new Err(
    `Cannot ${action} as 'deadlineMs' must be > 0 (Infinity for no deadline): current value is ${
      show(value)
    }`,
  );
}

/** Checks a task's `offload` and copies it, so later changes by the caller do not reach it. */
function resolveOffload(
  action: string,
  value: unknown,
  canOffload: boolean,
): TaskOffload<unknown> {
  if (value === null || typeof value !== "object") {
    throw new TypeError(
      `Cannot ${action} as 'offload' must be an object with a 'job' name: current value is ${
        show(value)
      }`,
    );
  }
  const given = value as Partial<TaskOffload<unknown>>;
  const job = requireNonEmptyString(action, "offload.job", given.job);
  const input = given.input;
  if (input !== undefined) requireFunction(action, "offload.input", input);
  if (!canOffload) {
    throw new TypeError(`Cannot ${action} as 'offload' needs an Executor with an 'offload' pool`);
  }
  return input === undefined ? { job } : { job, input };
}
