// The executor binding without hooks: the same liveness and timing as the
// TaskSink, derived by polling an executor's stats().

import type { ExecutorStats, TaskStats } from "../exec/task.ts";
import type { Clock } from "../time/clock.ts";
import type { LivenessState, TaskBinding } from "./task_sink.ts";
import { show } from "../internal/validate.ts";

interface Sample {
  runs: number;
  atMs: number;
  periodMs: number;
}

/**
 * Derives {@linkcode TaskBinding}s from an executor's `stats()`, for an
 * executor that does not call {@linkcode ExecutorHooks}. Liveness follows
 * the sink's rules as far as the stats show them: `unknown` before the
 * first run, `error` once a run failed or the task was stopped for an error,
 * `stopped` when cancelled or finished (a one-shot or schedule with no release left), else `running`. It
 * cannot see a resume (errors stay latched for the task's life; `starts` is
 * 1) nor a task once removed. The period is the time between two polls over
 * the runs started in between, kept from the last poll that saw runs.
 *
 * @example Polling an executor
 * ```ts
 * import { Executor } from "@chronetix/core";
 * import { TaskPoller } from "@chronetix/core/sovd";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * using executor = new Executor({ clock });
 * executor.periodic({ name: "tick", periodMs: 10, run: () => {} });
 * const poller = new TaskPoller(executor, clock);
 * poller.poll();
 * clock.advance(100);
 * const [tick] = poller.poll();
 * assertEquals(tick!.liveness.state, "running");
 * assertEquals([tick!.timing.executions, tick!.timing.periodMs, tick!.timing.rateHz], [10, 10, 100]);
 * ```
 */
export class TaskPoller {
  readonly #executor: { stats(): ExecutorStats };
  readonly #clock: Clock;
  #samples = new Map<string, Sample>();

  /**
   * Creates a poller.
   *
   * @param executor Anything with an executor's `stats()`.
   * @param clock The executor's clock: polls are timed on it.
   * @throws {TypeError} when `executor` has no `stats()` or `clock` no `now()`.
   */
  constructor(executor: { stats(): ExecutorStats }, clock: Clock) {
    const action = "create a TaskPoller";
    if (executor === null || typeof executor?.stats !== "function") {
      throw new TypeError(
        `Cannot ${action} as 'executor' must have a stats() method: current value is ${
          show(executor)
        }`,
      );
    }
    if (clock === null || typeof clock?.now !== "function") {
      throw new TypeError(
        `Cannot ${action} as 'clock' must be a Clock: current value is ${show(clock)}`,
      );
    }
    this.#executor = executor;
    this.#clock = clock;
  }

  /**
   * Reads the executor once.
   *
   * @returns One binding per live task, in the order they were added.
   */
  poll(): TaskBinding[] {
    return this.bind(this.#executor.stats().perTask);
  }

  /**
   * Derives bindings from task stats already read (`executor.stats().perTask`).
   *
   * @param tasks The task stats.
   * @returns One binding per task.
   */
  bind(tasks: readonly TaskStats[]): TaskBinding[] {
    const now = this.#clock.now();
    const samples = new Map<string, Sample>();
    const out: TaskBinding[] = [];
    for (const t of tasks) {
      const before = this.#samples.get(t.name);
      let periodMs = before?.periodMs ?? NaN;
      if (before !== undefined && t.runs > before.runs && now > before.atMs) {
        periodMs = (now - before.atMs) / (t.runs - before.runs);
      }
      // A poll that saw no new run keeps the older sample, so the next
      // period spans every run since.
      const keep = before !== undefined && t.runs === before.runs;
      samples.set(t.name, keep ? { ...before, periodMs } : { runs: t.runs, atMs: now, periodMs });
      out.push(bindingOf(t, periodMs));
    }
    this.#samples = samples;
    return out;
  }
}

/** Liveness and timing of one task from its stats. */
function bindingOf(t: TaskStats, periodMs: number): TaskBinding {
  const errorStop = t.state === "failed" || t.state === "quarantined";
  const stopped = errorStop || t.state === "cancelled" || t.finished;
  const errors = t.failures + (errorStop ? 1 : 0);
  const state: LivenessState = errors > 0
    ? "error"
    : stopped
    ? "stopped"
    : t.runs > 0
    ? "running"
    : "unknown";
  const e = t.execution;
  return {
    name: t.name,
    liveness: { state, starts: 1, stops: stopped ? 1 : 0, errors },
    timing: {
      executions: e.count,
      lastMs: e.last,
      ewmaMs: e.ewma,
      minMs: e.min,
      maxMs: e.max,
      periodMs,
      rateHz: periodMs > 0 ? 1000 / periodMs : NaN,
    },
  };
}
