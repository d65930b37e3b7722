// The executor's fixed tick (`tick: { fixedMs }`, the classic design kept for
// comparison): at each tick, every release of a task that fell due since the
// last one. A tick that comes late (a stall) follows the task's missedTicks
// policy, and no tick ever releases more than MAX_BURST_TICKS of one task, so
// catching up after a huge stall stays bounded.

import { MAX_BURST_TICKS } from "../time/timer_wheel.ts";
import type { TaskRecord } from "./_task_record.ts";

/** What a fixed tick calls back into the executor for. */
export interface TickSink {
  /** Releases one run of `task`, due at `release`. */
  release(task: TaskRecord, release: number): void;
  /** Counts releases of `task` skipped after a stall. */
  skipped(task: TaskRecord, count: number): void;
  /** Reports a task whose period no longer advances the time in floating point. */
  stuck(task: TaskRecord, now: number): void;
}

/**
 * Releases what is due of one task at a fixed tick and moves its
 * `nextRelease` on. A release more than one tick old was missed (the tick
 * came late): `skip` skips it, `delay` releases once and restarts the period
 * from now, `burst` releases it, at most `MAX_BURST_TICKS` at once.
 *
 * @param task A task whose `nextRelease` is due (`<= now`).
 * @param now The time of the tick.
 * @param fixedMs The tick's period.
 * @param sink Where releases and skips go.
 */
export function releaseDue(task: TaskRecord, now: number, fixedMs: number, sink: TickSink): void {
  const period = task.periodMs;
  let next = task.nextRelease;
  if (period === 0) {
    task.nextRelease = Infinity;
    sink.release(task, next);
    return;
  }
  const missedBefore = now - fixedMs;
  let skipped = 0;
  if (next <= missedBefore && task.missedTicks !== "burst") {
    if (task.missedTicks === "delay") {
      task.nextRelease = now + period;
      sink.release(task, next);
      return;
    }
    const k = Math.floor((missedBefore - next) / period) + 1;
    next += k * period;
    skipped += k;
  }
  const due = Math.floor((now - next) / period) + 1;
  if (due > MAX_BURST_TICKS) {
    const k = due - MAX_BURST_TICKS;
    next += k * period;
    skipped += k;
  }
  if (skipped > 0) sink.skipped(task, skipped);
  while (next <= now) {
    const after = next + period;
    sink.release(task, next);
    if (!(after > next)) {
      // Far in the clock's future the period no longer moves the time in
      // floating point: stop releasing instead of looping forever.
      sink.stuck(task, now);
      next = Infinity;
      break;
    }
    next = after;
  }
  task.nextRelease = next;
}
