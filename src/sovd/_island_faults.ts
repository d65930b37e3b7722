// The faults of one island, from its stats and its counters at the previous
// evaluation: crashes, stuck threads, a failed island, and its tasks' misses,
// failures, quarantines and error stops (aggregated: codes are per entity).

import type { FaultCondition } from "./fault_monitor.ts";
import { FAULT_CODES } from "./fault_detectors.ts";
import { toSovdId } from "./ids.ts";
import type { IslandStats } from "../island/island_types.ts";
import type { TaskStats } from "../exec/task.ts";

/** The stable codes of the island faults (task faults reuse {@linkcode FAULT_CODES}). */
export interface IslandFaultCodes {
  /** The island's thread crashed (load failure, uncaught error, out of memory) since the last evaluation (WARN). */
  readonly crash: "ISLAND_CRASH";
  /** A thread was terminated while stuck (a run past `hangMs`, a start timeout): it keeps a core busy until the process exits (ERROR; passive until cleared). */
  readonly threadStuck: "ISLAND_THREAD_STUCK";
  /** The island crashed with no restart left (ERROR). */
  readonly failed: "ISLAND_FAILED";
}

/** Stable codes of the island faults (see {@linkcode IslandFaultCodes}). */
export const ISLAND_FAULT_CODES: IslandFaultCodes = Object.freeze({
  crash: "ISLAND_CRASH",
  threadStuck: "ISLAND_THREAD_STUCK",
  failed: "ISLAND_FAILED",
});

/** Counters of one island at the previous evaluation. */
export interface Seen {
  crashes: number;
  stuck: number;
  misses: number;
  failures: number;
}

/** Reports the faults of one island from its stats and the counters at the previous evaluation. */
export function islandFaults(
  s: IslandStats,
  before: Seen,
  report: (condition: FaultCondition) => void,
): void {
  const entityId = toSovdId(s.name);
  const environmentData = {
    state: s.state,
    restarts: s.restarts,
    crashes: s.crashes,
    stuck_threads: s.stuckThreads,
    last_error: s.lastError?.message ?? null,
    last_error_code: s.lastErrorCode ?? null,
  };
  const raise = (
    code: string,
    severity: FaultCondition["severity"],
    name: string,
    description: string,
    newOccurrences = 0,
    healAfterMs?: number,
  ) =>
    report({
      entityId,
      entityType: "app",
      code,
      name,
      description,
      severity,
      newOccurrences,
      environmentData,
      ...(healAfterMs === undefined ? {} : { healAfterMs }),
    });
  const stuck = s.stuckThreads - before.stuck;
  const crashes = s.crashes - before.crashes - Math.max(0, stuck);
  const cause = s.lastError === undefined ? "" : `: ${s.lastError.message}`;
  if (crashes > 0) {
    raise(
      ISLAND_FAULT_CODES.crash,
      3,
      "Island crash",
      `Island "${s.name}" crashed ${crashes} times${cause}`,
      crashes,
    );
  }
  if (stuck > 0) {
    raise(
      ISLAND_FAULT_CODES.threadStuck,
      2,
      "Island thread stuck",
      `Island "${s.name}" had ${stuck} threads stuck (hung or not starting), terminated; they keep a core busy until the process exits${cause}`,
      stuck,
      Infinity,
    );
  }
  if (s.state === "failed") {
    raise(
      ISLAND_FAULT_CODES.failed,
      2,
      "Island failed",
      `Island "${s.name}" crashed with no restart left${cause}`,
    );
  }
  if (s.state === "closed" || s.state === "closing") return;
  const misses = s.deadlineMisses - before.misses;
  if (misses > 0) {
    raise(
      FAULT_CODES.deadlineMiss,
      3,
      "Deadline misses",
      `Island "${s.name}" missed ${misses} deadlines (${
        tasksWith(s.perTask, (t) => t.deadlineMisses > 0)
      })`,
      misses,
    );
  }
  const failures = s.failures - before.failures;
  if (failures > 0) {
    raise(
      FAULT_CODES.taskRunFailures,
      3,
      "Failed runs",
      `Island "${s.name}" had ${failures} failed runs (${
        tasksWith(s.perTask, (t) => t.failures > 0)
      })`,
      failures,
    );
  }
  const quarantined = s.perTask.filter((t) => t.state === "quarantined");
  if (quarantined.length > 0) {
    raise(
      FAULT_CODES.taskQuarantined,
      2,
      "Quarantined",
      `Island "${s.name}" tasks quarantined: ${
        quarantined.map((t) => `${t.name} (${t.reason ?? "quarantined"})`).join(", ")
      }`,
    );
  }
  const failed = s.perTask.filter((t) => t.state === "failed");
  if (failed.length > 0) {
    raise(
      FAULT_CODES.taskFailed,
      2,
      "Task failed",
      `Island "${s.name}" tasks stopped by their error policy: ${
        failed.map((t) => t.name).join(", ")
      }`,
    );
  }
}

function tasksWith(tasks: readonly TaskStats[], test: (t: TaskStats) => boolean): string {
  return tasks.filter(test).map((t) => t.name).join(", ");
}
