import { Executor } from "../exec/executor.ts";
import type { TaskHandle, TaskState, TaskStats } from "../exec/task.ts";
import type { BudgetTier } from "../exec/budget.ts";
import { isSteppedClock } from "../time/clock.ts";
import {
  linkedWallClock,
  requireWallClock,
  SYSTEM_WALL_CLOCK,
  type WallClock,
} from "../time/wall_clock.ts";
import { requireInteger, requirePositive, show } from "../internal/validate.ts";
import { type Calendar, type CalendarFactory, WallPlan } from "./_wall_plan.ts";
import { atCalendar, cronCalendar } from "./_calendar.ts";
import { localTimeZone, requireTimeZone } from "./_zone.ts";
import type {
  AtTaskOptions,
  CronTaskOptions,
  ScheduleHandle,
  WallScheduleOptions,
} from "./schedule_types.ts";

const DEFAULT_CHECK_MS = 30_000;
const MAX_CHECK_MS = 86_400_000;

/**
 * Adds a cron task to `executor`: released at each fire of a cron
 * expression (5 or 6 fields, or a nickname such as `@hourly`) in an IANA
 * time zone. Croner parses the expression and turns local fire times into
 * instants, DST included; the executor releases the task on its monotonic
 * driver like any other task (deadline, priority, caps, budget, stats and
 * metrics), reading the wall clock at each wake-up so a wall-clock step, a
 * suspend or a DST change moves the next fire where it belongs.
 *
 * DST: a fixed-time job (one value each in seconds, minutes, hours, e.g.
 * `30 2 * * *`) whose time falls in a spring-forward gap runs at the first
 * valid time after the gap, and runs once when fall back repeats its time;
 * an interval job (`*\/15 * * * *`, `0 1,2 * * *`) skips times in the gap
 * and runs on both passes of a repeated hour (real time keeps its pace).
 * Wall-clock steps: see `docs/schedules.md` (one late run after a step
 * forward, no repeat after a step back up to 3 h).
 *
 * @example Every 15 minutes in Berlin, on a virtual clock
 * ```ts
 * import { cron, Executor } from "@chronetix/core";
 * import { VirtualClock, VirtualWallClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * new VirtualWallClock(clock, "2026-06-01T10:07:00+02:00");
 * using executor = new Executor({ clock });
 * const fired: string[] = [];
 * const task = cron(executor, {
 *   name: "report",
 *   cron: "*\/15 * * * *",
 *   timezone: "Europe/Berlin",
 *   run: (ctx) => void fired.push(new Date(ctx.event.scheduledMs).toISOString()),
 * });
 * assertEquals(task.nextDates(1)[0]?.toISOString(), "2026-06-01T08:15:00.000Z");
 * clock.advance(30 * 60_000);
 * assertEquals(fired, ["2026-06-01T08:15:00.000Z", "2026-06-01T08:30:00.000Z"]);
 * ```
 *
 * @param executor The executor to add the task to.
 * @param options The expression, zone, wall clock, and the task's options.
 * @returns The task's handle; `reschedule()` takes a new expression.
 * @throws {TypeError} when `executor` is not an Executor, `options` is not an
 *   object, the expression does not parse, the zone is unknown, the name is
 *   taken, an option has the wrong type, or the executor runs on a virtual
 *   clock with no wall clock (give `wallClock` or create a `VirtualWallClock`).
 * @throws {RangeError} when the expression never fires, or an option is out of range.
 * @throws {ClosedError} when the executor is closed.
 */
export function cron(executor: Executor, options: CronTaskOptions): ScheduleHandle {
  const action = "add a cron task";
  const common = resolveCommon(action, executor, options);
  const factory: CalendarFactory = (act, spec) =>
    cronCalendar(act, act === action ? "cron" : "schedule", spec, common.zone, common.wall.now());
  return addSchedule(executor, options, common, factory(action, read(options, "cron")), factory);
}

/**
 * Adds a wall-clock one-shot to `executor`: released once at `at` (a `Date`,
 * an ISO 8601 string, or a local date-time read in `timezone`), timed on
 * the monotonic driver and re-checked against the wall clock, so a step of
 * the wall clock moves it. A time already past runs at once. `reschedule()`
 * takes a new date while it has not run.
 *
 * @example A one-shot at a local time in New York
 * ```ts
 * import { at, Executor } from "@chronetix/core";
 * import { VirtualClock, VirtualWallClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * new VirtualWallClock(clock, "2026-12-24T12:00:00Z");
 * using executor = new Executor({ clock });
 * let ranAt = "";
 * const task = at(executor, {
 *   name: "gifts",
 *   at: "2026-12-24T18:00",
 *   timezone: "America/New_York",
 *   run: (ctx) => void (ranAt = new Date(ctx.event.scheduledMs).toISOString()),
 * });
 * clock.advance(12 * 3_600_000);
 * assertEquals(ranAt, "2026-12-24T23:00:00.000Z"); // 18:00 EST
 * assertEquals(task.state, "done");
 * ```
 *
 * @param executor The executor to add the task to.
 * @param options The date, zone, wall clock, and the task's options.
 * @returns The task's handle.
 * @throws {TypeError} when `executor` is not an Executor, `options` is not an
 *   object, `at` is not a valid date, the zone is unknown, the name is taken,
 *   an option has the wrong type, or the executor runs on a virtual clock
 *   with no wall clock.
 * @throws {RangeError} when an option is out of range.
 * @throws {ClosedError} when the executor is closed.
 */
export function at(executor: Executor, options: AtTaskOptions): ScheduleHandle {
  const action = "add a one-shot at a date";
  const common = resolveCommon(action, executor, options);
  const factory: CalendarFactory = (act, spec) =>
    atCalendar(act, act === action ? "at" : "schedule", spec, common.zone);
  return addSchedule(executor, options, common, factory(action, read(options, "at")), factory);
}

interface Common {
  zone: string;
  wall: WallClock;
  checkMs: number;
  maxLateMs: number;
}

function read(options: unknown, key: string): unknown {
  return (options as Record<string, unknown>)[key];
}

/** Checks what every schedule takes beside the task's options. */
function resolveCommon(action: string, executor: unknown, options: unknown): Common {
  if (!(executor instanceof Executor)) {
    throw new TypeError(
      `Cannot ${action} as 'executor' must be an Executor: current value is ${show(executor)}`,
    );
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `Cannot ${action} as 'options' must be an object: current value is ${show(options)}`,
    );
  }
  const o = options as WallScheduleOptions;
  const zone = o.timezone === undefined
    ? localTimeZone()
    : requireTimeZone(action, "timezone", o.timezone);
  const clock = executor.driver.clock;
  let wall: WallClock;
  if (o.wallClock !== undefined) {
    wall = requireWallClock(action, "wallClock", o.wallClock);
  } else {
    const linked = linkedWallClock(clock);
    if (linked === undefined && isSteppedClock(clock)) {
      throw new TypeError(
        `Cannot ${action} as 'wallClock' must be given when the executor runs on a virtual clock: create a VirtualWallClock for the clock or pass 'wallClock'`,
      );
    }
    wall = linked ?? SYSTEM_WALL_CLOCK;
  }
  const checkMs = o.checkMs === undefined
    ? DEFAULT_CHECK_MS
    : requireRange(action, "checkMs", o.checkMs, MAX_CHECK_MS);
  const maxLateMs = o.maxLateMs === undefined
    ? Infinity
    : requireNonNegativeOrInfinity(action, "maxLateMs", o.maxLateMs);
  return { zone, wall, checkMs, maxLateMs };
}

function requireRange(action: string, name: string, value: unknown, max: number): number {
  const v = requirePositive(action, name, value);
  if (v < 1 || v > max) {
    throw new RangeError(
      `Cannot ${action} as '${name}' must be in [1, ${max}]: current value is ${v}`,
    );
  }
  return v;
}

function requireNonNegativeOrInfinity(action: string, name: string, value: unknown): number {
  if (typeof value === "number" && value >= 0) return value;
  const Err = typeof value === "number" ? RangeError : TypeError;
  throw new Err(
    `Cannot ${action} as '${name}' must be >= 0 (Infinity: no limit): current value is ${
      show(value)
    }`,
  );
}

function addSchedule(
  executor: Executor,
  options: WallScheduleOptions,
  common: Common,
  calendar: Calendar,
  factory: CalendarFactory,
): ScheduleHandle {
  const plan = new WallPlan(common.wall, calendar, factory, common.checkMs, common.maxLateMs);
  const task = executor.schedule({ ...options, plan });
  plan.name = task.name;
  return new ScheduleHandleImpl(task, plan, common.zone);
}

/** A task handle plus the calendar view; every method is bound. */
class ScheduleHandleImpl implements ScheduleHandle {
  readonly #task: TaskHandle;
  readonly #plan: WallPlan;
  readonly #zone: string;

  constructor(task: TaskHandle, plan: WallPlan, zone: string) {
    this.#task = task;
    this.#plan = plan;
    this.#zone = zone;
  }

  get name(): string {
    return this.#task.name;
  }
  get state(): TaskState {
    return this.#task.state;
  }
  get tier(): BudgetTier {
    return this.#task.tier;
  }
  get schedule(): string {
    return this.#plan.spec;
  }
  get timezone(): string {
    return this.#zone;
  }
  get wallSteps(): number {
    return this.#plan.wallSteps;
  }
  cancel = (): boolean => this.#task.cancel();
  pause = (): boolean => this.#task.pause();
  resume = (): void => this.#task.resume();
  setPeriod = (periodMs: number): void => this.#task.setPeriod(periodMs);
  reschedule = (schedule: string | Date): void => this.#task.reschedule(schedule);
  runNow = (): void => this.#task.runNow();
  nextRuns = (count: number): number[] => this.#task.nextRuns(count);
  nextDates = (count: number): Date[] => {
    requireInteger(`list the next dates of task "${this.name}"`, "count", count, 1, 10_000);
    if (this.#task.nextRuns(1).length === 0) return [];
    return this.#plan.dates(count).map((t) => new Date(t));
  };
  stats = (): TaskStats => this.#task.stats();
  [Symbol.dispose](): void {
    this.#task.cancel();
  }
}
