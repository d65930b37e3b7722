// The timer of a schedule task (Executor.schedule): one driver timer per
// task, armed for the wake-up its ReleasePlan names; at each wake-up the
// plan says whether to release and when to wake next. Under a fixed tick
// the wake-up is the task's `nextRelease`, which the tick checks.

import type { PlanStep } from "./task.ts";
import { type Bridge, rejectedWithoutReason, type TaskRecord } from "./_task_record.ts";
import { errorMessage } from "./_executor_options.ts";
import { show } from "../internal/validate.ts";

/** What a schedule task's timer needs from the executor beyond the bridge. */
export interface PlanHost extends Bridge {
  /** The executor's fixed tick, or 0 when adaptive. */
  readonly fixedMs: number;
  /** Counts releases a plan passed over. */
  skipped(task: TaskRecord, count: number): void;
}

/**
 * Arms a schedule task's timer for its plan's next wake-up.
 *
 * @param next The wake-up on the executor's clock; `Infinity` (or `NaN`): the plan is over.
 */
export function armPlan(host: PlanHost, task: TaskRecord, next: number): void {
  if (!(next < Infinity)) {
    task.planDone = true;
    // A plan over before its first release: nothing will run.
    if (task.state === "created") task.state = "done";
    if (task.terminal) host.hooks.stop(task.hookIndex, host.clock.now(), true);
    return;
  }
  const now = host.clock.now();
  const at = Math.min(next >= now ? next : now, host.driver.wheel.maxDeadlineMs);
  if (host.fixedMs > 0) {
    task.nextRelease = at;
  } else {
    task.timer = host.driver.at(at, (deadline) => planWake(host, task, deadline), {
      latenessClass: `task:${task.name}`,
    });
  }
}

/**
 * A schedule task's wake-up: asks its plan, releases if due, re-arms. A plan
 * that throws stops the task (`failed`, the error kept and logged).
 *
 * @param deadline The wake-up's time: the release time of a release made now.
 */
export function planWake(host: PlanHost, task: TaskRecord, deadline: number): void {
  task.timer = undefined;
  task.nextRelease = Infinity;
  if (task.terminal || task.paused) return;
  let next: number;
  let skipped: unknown;
  let release: PlanStep<unknown>["release"];
  try {
    const step = task.plan!.wake(host.clock.now());
    if (step === null || typeof step !== "object") {
      throw new TypeError(`its wake() returned ${show(step)}, not a PlanStep`);
    }
    next = step.next;
    skipped = step.skipped;
    release = step.release;
    if (release !== undefined) release = { event: release.event };
  } catch (error) {
    const failure = task.noteFailure(error ?? rejectedWithoutReason(task.name), deadline);
    task.reason = `stopped as its plan failed: ${failure.message}`;
    task.stop("failed");
    return;
  }
  if (typeof skipped === "number" && skipped > 0 && skipped <= Number.MAX_SAFE_INTEGER) {
    host.skipped(task, skipped);
  }
  if (release !== undefined) host.release(task, deadline, release.event);
  try {
    armPlan(host, task, typeof next === "number" ? next : NaN);
  } catch (error) {
    // Only a driver closed under the executor gets here.
    host.failureLog.error(
      `plan:${task.name}`,
      deadline,
      `Task "${task.name}" stopped releasing: ${errorMessage(error)}`,
    );
  }
}
