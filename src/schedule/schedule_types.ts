// The public types of wall-clock schedules: what `cron()` and `at()` take
// and return, and what a run of a schedule task gets as its event.

import type { TaskHandle, TaskOptions } from "../exec/task.ts";
import type { WallClock } from "../time/wall_clock.ts";

/**
 * What a run of a schedule task gets as `ctx.event`: which fire it is for.
 * A body may compare `scheduledMs` with the wall clock to drop a run it
 * considers too late (or set `maxLateMs`).
 */
export interface ScheduleRun {
  /**
   * The fire this run is for, on the wall clock (ms since the epoch); for a
   * `runNow()` release, the wall clock when it was called.
   */
  scheduledMs: number;
  /**
   * Fires passed over just before this one (a wall-clock step forward, a
   * suspend, a stall): they are not run; also counted in `stats().skippedTicks`.
   * At most 10,000 are counted one by one.
   */
  skipped: number;
  /** Released by `runNow()`. */
  manual: boolean;
}

/** Options every wall-clock schedule takes, beside the task's own. */
export interface WallScheduleOptions extends TaskOptions<ScheduleRun> {
  /**
   * The IANA time zone fire times are read in (`"Europe/Berlin"`, `"UTC"`).
   *
   * @default {the process's own zone (`TZ`), as cron does}
   */
  timezone?: string;
  /**
   * The wall clock to follow.
   *
   * @default {the `VirtualWallClock` of the executor's clock if it has one, else `SYSTEM_WALL_CLOCK`}
   */
  wallClock?: WallClock;
  /**
   * The longest the schedule sleeps without looking at the wall clock, ms:
   * a wall-clock step (or a suspend) is noticed within this time.
   *
   * @default {30_000}
   */
  checkMs?: number;
  /**
   * A fire found more than this late (after a step forward, a suspend or a
   * stall) is skipped rather than run; `Infinity` runs it however late.
   *
   * @default {Infinity}
   */
  maxLateMs?: number;
}

/** Options of `cron()`. */
export interface CronTaskOptions extends WallScheduleOptions {
  /**
   * A cron expression with 5 fields (minute hour day-of-month month
   * day-of-week) or 6 (seconds first), or a nickname: `@yearly`,
   * `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`.
   * `alignedInterval()` writes one for "every 15 minutes at :00, :15, ...".
   * Croner's syntax: `L`, `W`, `#`, names (`MON-FRI`, `JAN`).
   */
  cron: string;
}

/** Options of `at()`. */
export interface AtTaskOptions extends WallScheduleOptions {
  /**
   * When to run: a `Date`, epoch ms, an ISO 8601 string with `Z` or an
   * offset, or a local date-time (`"2026-12-24T18:00"`) read in `timezone`.
   * A time already past runs at once (unless later than `maxLateMs`).
   */
  at: Date | string | number;
}

/**
 * The handle of a wall-clock schedule: a {@linkcode TaskHandle} (pause,
 * resume, runNow, nextRuns, stats, cancel; `reschedule()` takes a new
 * expression, or a new date for a one-shot) plus the calendar view.
 */
export interface ScheduleHandle extends TaskHandle {
  /** The expression (cron) or the ISO date (one-shot) the schedule follows now. */
  readonly schedule: string;
  /** The time zone fire times are read in. */
  readonly timezone: string;
  /** Wall-clock steps seen (forward or back, beyond 1 s). */
  readonly wallSteps: number;
  /**
   * The next fires on the wall clock: empty while paused, stopped or finished.
   *
   * @param count How many (an integer from 1 to 10,000).
   * @returns Up to `count` dates, ascending.
   * @throws {RangeError} when `count` is out of range.
   */
  nextDates(count: number): Date[];
}
