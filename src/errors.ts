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
 * @example
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
