import { ChronetixError } from "../errors.ts";

/**
 * Why an island's thread failed: {@linkcode IslandError.code}.
 *
 * - `E_ISLAND_LOAD_FAILED`: the task module could not be imported, or does
 *   not export a function for every task.
 * - `E_ISLAND_INIT_FAILED`: attaching the shared values or rings, or the
 *   module's `init()`, threw.
 * - `E_ISLAND_START_TIMEOUT`: loading and `init()` took longer than `startTimeoutMs`.
 * - `E_ISLAND_CRASHED`: an error no task caught (a timer, a promise started
 *   in `init()`), or the thread ended by itself.
 * - `E_ISLAND_OUT_OF_MEMORY`: the thread reached its heap cap (`maxHeapMb`).
 * - `E_ISLAND_HUNG`: a run stayed in progress past `hangMs`; the thread was
 *   terminated (stuck in synchronous code, it may spin until the process exits).
 */
export type IslandErrorCode =
  | "E_ISLAND_LOAD_FAILED"
  | "E_ISLAND_INIT_FAILED"
  | "E_ISLAND_START_TIMEOUT"
  | "E_ISLAND_CRASHED"
  | "E_ISLAND_OUT_OF_MEMORY"
  | "E_ISLAND_HUNG";

/**
 * An island's thread failed: the island's `start()` rejects with it, and
 * after a start it is kept (as `stats().lastError` and `lastErrorCode`) and
 * logged. What the thread saw, when there is something, is the `cause`.
 *
 * @example Reading an island failure
 * ```ts
 * import { IslandError } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const error = new IslandError("E_ISLAND_HUNG", "control", "Cannot run island \"control\" as it hung", { task: "loop" });
 * assertEquals([error.code, error.island, error.task], ["E_ISLAND_HUNG", "control", "loop"]);
 * assertEquals(error.name, "IslandError");
 * ```
 */
export class IslandError extends ChronetixError {
  /** Why the island failed. */
  declare readonly code: IslandErrorCode;
  /** The island's name. */
  readonly island: string;
  /** The task that was running (a hang), if one was. */
  readonly task: string | undefined;

  /**
   * Creates the error.
   *
   * @param code Why the island failed.
   * @param island The island's name.
   * @param message What happened, in Deno style.
   * @param options The task that was running, and the `cause`.
   */
  constructor(
    code: IslandErrorCode,
    island: string,
    message: string,
    options: ErrorOptions & { task?: string } = {},
  ) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "IslandError";
    this.island = island;
    this.task = options.task;
  }
}
