// What the main thread hands an island's thread at start (its workerData),
// and the few messages the thread sends back: none per tick, only at
// start, on a failure and at the end.

import type { ResolvedBudgetPolicy } from "../exec/budget.ts";
import type { LoopTask } from "./_island_loop.ts";
import type { IslandScheduling, IslandSchedulingState } from "./island_types.ts";

/** A shared values block, as the thread attaches it. */
export interface BootValues {
  buffer: SharedArrayBuffer;
  fields: string[];
}

/** A ring, as the thread attaches its end: `epoch` set means take over that end. */
export interface BootRing {
  buffer: SharedArrayBuffer;
  epoch: number | undefined;
}

/** Everything an island's thread starts from (structured-cloned). */
export interface IslandBoot {
  /** Marks the workerData of an island. */
  chronetixIsland: 1;
  name: string;
  moduleUrl: string;
  control: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  tasks: Omit<LoopTask, "run">[];
  /** The least spin lead; `undefined`: the default of the policy the thread gets. */
  leadMs: number | undefined;
  maxLeadMs: number;
  /** The nice value to set on the thread, if any. */
  priority: number | undefined;
  /** How the thread is to be scheduled, and its SCHED_FIFO priority. */
  scheduling: IslandScheduling;
  realtimePriority: number;
  budget: ResolvedBudgetPolicy;
  restarts: number;
  values: { in: BootValues | undefined; out: BootValues | undefined };
  rings: { in: BootRing | undefined; out: BootRing | undefined };
  /** The main thread's `performance.timeOrigin`: the island's clock is moved onto its time line. */
  mainTimeOrigin: number;
}

/** An error as the thread reports it. */
export interface ErrorReport {
  name: string;
  message: string;
  stack?: string;
  /** When, on the island's clock. */
  atMs: number;
}

/** Where a failure happened. */
export type FailurePhase = "load" | "init" | "loop" | "uncaught";

/** Messages from the island's thread. */
export type IslandReply =
  | {
    t: "attached";
    inEpoch: number | undefined;
    outEpoch: number | undefined;
    /** Why the thread could not set the priority asked for. */
    priorityError: string | undefined;
    /** The policy the thread runs under. */
    scheduling: IslandSchedulingState;
    /** Why it could not have the real-time policy it was asked for explicitly. */
    schedulingError: string | undefined;
    /** The thread's OS id, when it runs under the real-time policy (to demote it if it gets stuck). */
    threadId: number | undefined;
  }
  | { t: "ready" }
  | { t: "failed"; phase: FailurePhase; error: ErrorReport }
  | { t: "closed"; disposeError: ErrorReport | undefined };

/** Describes anything thrown, for a message. */
export function reportOf(error: unknown, atMs: number): ErrorReport {
  try {
    if (error instanceof Error) {
      return typeof error.stack === "string"
        ? { name: error.name, message: String(error.message), stack: error.stack, atMs }
        : { name: error.name, message: String(error.message), atMs };
    }
    return { name: "Error", message: String(error), atMs };
  } catch {
    return { name: "Error", message: "a value that cannot be described", atMs };
  }
}
