import { show } from "./internal/validate.ts";

/**
 * The base class of every domain error Chronetix throws.
 *
 * Caller mistakes (a wrong type, a value out of range) are built-in
 * `TypeError` / `RangeError`; a `ChronetixError` is a condition a caller is
 * expected to catch, identified by its stable {@linkcode ChronetixError.code}.
 *
 * @example Catching a Chronetix error by code
 * ```ts
 * import { ChronetixError } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const error = new ChronetixError("E_EXAMPLE", "Cannot run the example: it is only an example");
 * assertEquals(error.code, "E_EXAMPLE");
 * assertEquals(error.name, "ChronetixError");
 * ```
 */
export class ChronetixError extends Error {
  /** Stable, machine-readable error code such as `E_CLOSED`. */
  readonly code: string;

  /**
   * Creates an error with a stable code.
   *
   * @param code Stable, machine-readable code.
   * @param message Deno-style message: action first, no final period.
   * @param options Standard error options; `cause` is forwarded.
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ChronetixError";
    this.code = code;
  }
}

/**
 * Thrown when an operation is attempted on a component that has been closed.
 *
 * @example Reading a closed error
 * ```ts
 * import { ClosedError } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const error = new ClosedError("Driver", "schedule a timer");
 * assertEquals(error.code, "E_CLOSED");
 * assertEquals(error.message, "Cannot schedule a timer as the Driver is closed");
 * ```
 */
export class ClosedError extends ChronetixError {
  /** Name of the component that is closed. */
  readonly component: string;

  /**
   * Creates the error.
   *
   * @param component Name of the closed component, e.g. `"Driver"`.
   * @param action What the caller tried to do, e.g. `"schedule a timer"`.
   */
  constructor(component: string, action: string) {
    super("E_CLOSED", `Cannot ${action} as the ${component} is closed`);
    this.name = "ClosedError";
    this.component = component;
  }
}

/**
 * The last error a component kept for people to read (in its stats): what
 * failed, where, and when.
 */
export interface ErrorRecord {
  /** The error's message. */
  message: string;
  /** Its stack trace, when there is one. */
  stack?: string;
  /** When it happened, in milliseconds on the component's clock. */
  atMs: number;
}

/**
 * Makes an {@linkcode ErrorRecord} of any thrown value.
 *
 * @param error What was thrown or rejected with.
 * @param atMs When, on the component's clock.
 * @returns The record.
 */
export function errorRecord(error: unknown, atMs: number): ErrorRecord {
  if (error instanceof Error) {
    return error.stack === undefined
      ? { message: error.message, atMs }
      : { message: error.message, stack: error.stack, atMs };
  }
  return { message: typeof error === "string" ? error : show(error), atMs };
}

/**
 * Rejects an {@linkcode OffloadPool} submit when the queue is full:
 * backpressure, not a bug. Retry later, shed the job, or raise `queueCap`.
 *
 * @example Telling a full queue apart
 * ```ts
 * import { OffloadQueueFullError } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const error = new OffloadQueueFullError("render", 4);
 * assertEquals(error.code, "E_QUEUE_FULL");
 * assertEquals([error.pool, error.queueCap], ["render", 4]);
 * assertEquals(
 *   error.message,
 *   'Cannot submit a job as the queue of offload pool "render" is full: 4 jobs are waiting',
 * );
 * ```
 */
export class OffloadQueueFullError extends ChronetixError {
  /** The pool's name. */
  readonly pool: string;
  /** The queue cap that was reached. */
  readonly queueCap: number;

  /**
   * Creates the error.
   *
   * @param pool The pool's name.
   * @param queueCap The cap that was reached.
   */
  constructor(pool: string, queueCap: number) {
    super(
      "E_QUEUE_FULL",
      `Cannot submit a job as the queue of offload pool "${pool}" is full: ${queueCap} jobs are waiting`,
    );
    this.name = "OffloadQueueFullError";
    this.pool = pool;
    this.queueCap = queueCap;
  }
}

/**
 * Rejects an {@linkcode OffloadPool} job that ran past the pool's
 * `timeoutMs`; the job was aborted (or its worker replaced).
 *
 * @example Reading a timeout
 * ```ts
 * import { OffloadTimeoutError } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const error = new OffloadTimeoutError("resize", 500);
 * assertEquals(error.code, "E_TIMEOUT");
 * assertEquals([error.job, error.timeoutMs], ["resize", 500]);
 * assertEquals(error.message, 'Cannot finish job "resize" as it ran over its 500 ms timeout');
 * ```
 */
export class OffloadTimeoutError extends ChronetixError {
  /** The job's name. */
  readonly job: string;
  /** The timeout it ran over, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * Creates the error.
   *
   * @param job The job's name.
   * @param timeoutMs The timeout it ran over.
   */
  constructor(job: string, timeoutMs: number) {
    super("E_TIMEOUT", `Cannot finish job "${job}" as it ran over its ${timeoutMs} ms timeout`);
    this.name = "OffloadTimeoutError";
    this.job = job;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Why an offload job failed: {@linkcode OffloadJobError.code}.
 *
 * - `E_JOB_FAILED`: the job threw or rejected in its worker.
 * - `E_JOB_LOAD_FAILED`: the job's module could not be imported or has no
 *   default export function.
 * - `E_WORKER_CRASHED`: the worker died while running the job (an error no
 *   job caught, or the worker ended itself with `self.close()` or
 *   `Deno.exit()`).
 * - `E_WORKER_OUT_OF_MEMORY`: the worker reached its heap limit (the pool's
 *   `resourceLimits.maxHeapMb`) while running the job; only that worker
 *   died, and it was replaced.
 */
export type OffloadJobErrorCode =
  | "E_JOB_FAILED"
  | "E_JOB_LOAD_FAILED"
  | "E_WORKER_CRASHED"
  | "E_WORKER_OUT_OF_MEMORY";

/**
 * Rejects an {@linkcode OffloadPool} job that threw in its worker, whose
 * module failed to load, whose worker crashed or ran out of heap. The error
 * the worker saw, when there is one, is the `cause` (with the worker's stack).
 *
 * @example Reading a job failure
 * ```ts
 * import { OffloadJobError } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const error = new OffloadJobError("E_JOB_FAILED", "parse", "Cannot run job \"parse\" as it threw: bad input");
 * assertEquals(error.code, "E_JOB_FAILED");
 * assertEquals(error.job, "parse");
 * assertEquals(error.name, "OffloadJobError");
 * ```
 */
export class OffloadJobError extends ChronetixError {
  /** Why the job failed. */
  declare readonly code: OffloadJobErrorCode;
  /** The job's name. */
  readonly job: string;

  /**
   * Creates the error.
   *
   * @param code Why the job failed.
   * @param job The job's name.
   * @param message What happened, in Deno style.
   * @param options Standard error options; `cause` is forwarded.
   */
  constructor(code: OffloadJobErrorCode, job: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = "OffloadJobError";
    this.job = job;
  }
}
