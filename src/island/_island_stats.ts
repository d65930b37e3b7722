// Reads an island's task slots (shared memory written by its thread) into
// TaskStats, the shape of the main executor's task figures.

import type { TaskStats } from "../exec/task.ts";
import { BUDGET_TIERS } from "../exec/budget.ts";
import type { LoopTask } from "./_island_loop.ts";
import {
  C_RUNNING,
  errorText,
  F_ERROR_AT,
  F_FAILURES,
  F_MISSES,
  F_OVERRUNS,
  F_QUARANTINE_EXEC,
  F_QUARANTINE_OVERRUNS,
  F_RELEASES,
  F_RUNS,
  F_SKIPPED,
  F_STATE,
  F_TIER,
  H_EXEC,
  H_LATE,
  H_SCHED,
  newSlotCopy,
  readSlot,
  SLOT_STATES,
  type SlotCopy,
  type SlotViews,
  slotViews,
} from "./_island_layout.ts";
import { snapshotOf } from "../internal/histogram_cells.ts";

/** One task's slot and the copy it is read into. */
export interface SlotReader {
  readonly task: Omit<LoopTask, "run">;
  readonly index: number;
  readonly views: SlotViews;
  readonly copy: SlotCopy;
}

/** The readers of every task slot in `slots`. */
export function slotReaders(
  slots: SharedArrayBuffer,
  tasks: readonly Omit<LoopTask, "run">[],
): SlotReader[] {
  return tasks.map((task, index) => ({
    task,
    index,
    views: slotViews(slots, index),
    copy: newSlotCopy(),
  }));
}

/**
 * A task's figures from a consistent copy of its slot.
 *
 * @param reader The slot.
 * @param control The control block (which task runs now).
 * @param alive Whether the island's thread runs its tasks (else a task is not `running`).
 */
export function readTaskStats(reader: SlotReader, control: Int32Array, alive: boolean): TaskStats {
  const copy = readSlot(reader.views, reader.copy);
  const c = copy.cells;
  let state: TaskStats["state"] = SLOT_STATES[c[F_STATE]!] ?? "created";
  if (alive && Atomics.load(control, C_RUNNING) === reader.index + 1) state = "running";
  const tier = BUDGET_TIERS[c[F_TIER]!] ?? "monitor";
  let reason: string | undefined;
  if (state === "quarantined") {
    reason = `quarantined: ${
      c[F_QUARANTINE_OVERRUNS]
    } runs over its ${reader.task.budgetMs} ms budget (last ${
      c[F_QUARANTINE_EXEC]!.toFixed(3)
    } ms)`;
  } else if (state === "failed") {
    reason = 'failed: a run threw with onError "stop"';
  }
  let lastError: TaskStats["lastError"];
  if (c[F_FAILURES]! > 0 && !Number.isNaN(c[F_ERROR_AT]!)) {
    const { message, stack } = errorText(copy);
    lastError = stack === undefined
      ? { message, atMs: c[F_ERROR_AT]! }
      : { message, stack, atMs: c[F_ERROR_AT]! };
  }
  return {
    name: reader.task.name,
    kind: "periodic",
    state,
    finished: state === "cancelled" || state === "failed" || state === "quarantined",
    tier,
    reason,
    releases: c[F_RELEASES]!,
    runs: c[F_RUNS]!,
    failures: c[F_FAILURES]!,
    lastError,
    retries: 0,
    deadlineMisses: c[F_MISSES]!,
    overruns: c[F_OVERRUNS]!,
    dropped: { "task-cap": 0, "global-cap": 0, "defer-cap": 0, stopped: 0 },
    skippedTicks: c[F_SKIPPED]!,
    deferred: 0,
    queued: 0,
    yields: 0,
    offloaded: 0,
    schedulingLatency: snapshotOf(c, H_SCHED),
    execution: snapshotOf(c, H_EXEC),
    lateness: snapshotOf(c, H_LATE),
  };
}
