// The IslandErrors an island keeps for each way its thread can fail, with
// their Deno-style messages and causes.

import { IslandError, type IslandErrorCode } from "./island_error.ts";
import type { ErrorReport, FailurePhase } from "./_island_protocol.ts";
import type { ThreadExit } from "./_island_host.ts";

const PHASE_CODE: Record<FailurePhase, IslandErrorCode> = {
  load: "E_ISLAND_LOAD_FAILED",
  init: "E_ISLAND_INIT_FAILED",
  loop: "E_ISLAND_CRASHED",
  uncaught: "E_ISLAND_CRASHED",
};

const PHASE_WHAT: Record<FailurePhase, string> = {
  load: "its module failed to load",
  init: "its init() (or attaching its values and rings) threw",
  loop: "an error escaped its tasks",
  uncaught: "an error escaped its tasks",
};

/** The thread reported a failure. */
export function failureError(
  island: string,
  phase: FailurePhase,
  report: ErrorReport,
): IslandError {
  const cause = new Error(report.message);
  cause.name = report.name;
  if (report.stack !== undefined) cause.stack = report.stack;
  return new IslandError(
    PHASE_CODE[phase] ?? "E_ISLAND_CRASHED",
    island,
    `Cannot run island "${island}" as ${PHASE_WHAT[phase] ?? "it failed"}: ${report.message}`,
    { cause },
  );
}

/** The thread ended without being asked. */
export function exitError(island: string, exit: ThreadExit, maxHeapMb: number): IslandError {
  return exit.oom
    ? new IslandError(
      "E_ISLAND_OUT_OF_MEMORY",
      island,
      `Cannot run island "${island}" as its thread ran out of heap (the limit is ${maxHeapMb} MB)`,
    )
    : new IslandError(
      "E_ISLAND_CRASHED",
      island,
      `Cannot run island "${island}" as its thread ended (exit code ${exit.code})${
        exit.message === undefined ? "" : `: ${exit.message}`
      }`,
    );
}

/** The thread could not start. */
export function spawnError(island: string, error: unknown): IslandError {
  return new IslandError(
    "E_ISLAND_CRASHED",
    island,
    `Cannot start island "${island}" as its thread did not start: ${
      error instanceof Error ? error.message : String(error)
    }`,
    { cause: error },
  );
}

/** Loading and init() took too long. */
export function startTimeoutError(island: string, startTimeoutMs: number): IslandError {
  return new IslandError(
    "E_ISLAND_START_TIMEOUT",
    island,
    `Cannot start island "${island}" as loading its module and init() took over ${startTimeoutMs} ms: its thread was terminated`,
  );
}

/** A run stayed in progress past hangMs. */
export function hangError(island: string, task: string | undefined, hangMs: number): IslandError {
  return new IslandError(
    "E_ISLAND_HUNG",
    island,
    `Cannot run island "${island}" as task "${task}" stayed in one run for over ${hangMs} ms: its thread was terminated (stuck in synchronous code, it keeps a core busy until the process exits)`,
    { task },
  );
}
