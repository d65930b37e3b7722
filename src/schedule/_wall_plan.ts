// The release plan of every wall-clock schedule (cron, aligned interval,
// one-shot at a date): it times its wake-ups on the executor's monotonic
// clock and reads the wall clock at each one to decide which fire is due.
//
// Why this shape: a monotonic timer aimed at a wall-clock instant goes
// wrong when the wall clock steps (NTP, an operator, a suspend: Linux's
// monotonic clock stops while suspended, the wall clock does not). So a
// wake-up never sleeps longer than `checkMs`, and at each one the plan
// compares wall minus monotonic with what it was: a change beyond
// STEP_TOLERANCE_MS is a step. Due-ness is decided on the wall clock alone,
// which makes the policy simple:
//
// - forward step, suspend or stall past one or more fires: one late run,
//   for the latest fire passed, the others counted as skipped (ctx.event
//   .skipped, stats().skippedTicks); a fire later than `maxLateMs` is
//   skipped instead of run.
// - backward step up to RESET_MS (3 h, as Vixie cron): the next fire stays
//   where it was, so nothing that already ran runs again; the schedule waits
//   for the wall clock to come back to it.
// - backward step beyond RESET_MS: the clock was reset; the next fire is
//   derived again from the new wall time (fires may repeat).
//
// DST needs nothing here: the wall clock is UTC, and croner turns local
// fire times into instants per the zone's rules.

import type { WallClock } from "../time/wall_clock.ts";
import type { PlanStep, ReleasePlan } from "../exec/task.ts";
import type { ScheduleRun } from "./schedule_types.ts";

/** Where the fires of a schedule fall on the wall clock. */
export interface Calendar {
  /** The first fire strictly after `afterMs` (epoch ms), or `undefined`: none. */
  next(afterMs: number): number | undefined;
  /** How the schedule was written: the expression, or the ISO date of a one-shot. */
  readonly spec: string;
  /** A one-shot whose time may already have passed when added: it then fires at once. */
  readonly runsPast: boolean;
}

/** Makes a calendar from what `reschedule()` was given; throws on bad input. */
export type CalendarFactory = (action: string, spec: unknown) => Calendar;

/** A change of wall minus monotonic above this is a step, not slew or jitter. */
export const STEP_TOLERANCE_MS = 1_000;
/** A backward step longer than this is a clock reset (Vixie cron's 3 hours). */
export const RESET_MS = 3 * 3_600_000;
/** At most this many passed fires are counted one by one after a step. */
export const MAX_COUNTED_SKIPS = 10_000;

/** The release plan of a wall-clock schedule. */
export class WallPlan implements ReleasePlan<ScheduleRun> {
  readonly #wall: WallClock;
  readonly #factory: CalendarFactory;
  readonly #checkMs: number;
  readonly #maxLateMs: number;
  /** The task's name, for error messages (set once the task is added). */
  name = "";
  #calendar: Calendar;
  #nextWall: number | undefined;
  #lastFired = -Infinity;
  #offset = NaN;
  /** Steps of the wall clock seen (forward or back). */
  wallSteps = 0;

  constructor(
    wall: WallClock,
    calendar: Calendar,
    factory: CalendarFactory,
    checkMs: number,
    maxLateMs: number,
  ) {
    this.#wall = wall;
    this.#calendar = calendar;
    this.#factory = factory;
    this.#checkMs = checkMs;
    this.#maxLateMs = maxLateMs;
  }

  /** The calendar's spec (expression or ISO date). */
  get spec(): string {
    return this.#calendar.spec;
  }

  start(now: number): number {
    const w = this.#wall.now();
    this.#offset = w - now;
    this.#derive(w);
    return this.#wakeFor(now, w);
  }

  wake(now: number): PlanStep<ScheduleRun> {
    const w = this.#wall.now();
    const offset = w - now;
    const step = offset - this.#offset;
    this.#offset = offset;
    if (step > STEP_TOLERANCE_MS || step < -STEP_TOLERANCE_MS) {
      this.wallSteps++;
      if (step < -RESET_MS) {
        this.#lastFired = -Infinity;
        this.#derive(w);
      }
    }
    const due = this.#nextWall;
    if (due === undefined) return { next: Infinity };
    if (w < due) return { next: this.#wakeFor(now, w) };
    // Due: find the latest fire at or before now; the ones before it were passed over.
    const calendar = this.#calendar;
    let latest = due;
    let skipped = 0;
    let next = calendar.next(latest);
    while (next !== undefined && next <= w) {
      if (skipped === MAX_COUNTED_SKIPS) {
        next = calendar.next(w);
        break;
      }
      latest = next;
      skipped++;
      next = calendar.next(latest);
    }
    this.#nextWall = next;
    this.#lastFired = latest;
    const wake = this.#wakeFor(now, w);
    if (w - latest > this.#maxLateMs) return { next: wake, skipped: skipped + 1 };
    return {
      next: wake,
      skipped,
      release: { event: { scheduledMs: latest, skipped, manual: false } },
    };
  }

  upcoming(count: number, now: number): number[] {
    const offset = this.#wall.now() - now;
    return this.dates(count).map((t) => Math.max(now, t - offset));
  }

  /** The next `count` fires on the wall clock (epoch ms). */
  dates(count: number): number[] {
    const out: number[] = [];
    let t = this.#nextWall;
    while (t !== undefined && out.length < count) {
      out.push(t);
      t = this.#calendar.next(t);
    }
    return out;
  }

  manual(): ScheduleRun {
    return { scheduledMs: this.#wall.now(), skipped: 0, manual: true };
  }

  reschedule(spec: unknown): void {
    this.#calendar = this.#factory(`reschedule task "${this.name}"`, spec);
  }

  /** Derives the next fire from the wall time `w`, never repeating one already run. */
  #derive(w: number): void {
    const calendar = this.#calendar;
    this.#nextWall = calendar.runsPast
      ? calendar.next(this.#lastFired)
      : calendar.next(Math.max(w, this.#lastFired));
  }

  #wakeFor(now: number, w: number): number {
    const due = this.#nextWall;
    if (due === undefined) return Infinity;
    return now + Math.max(0, Math.min(due - w, this.#checkMs));
  }
}
