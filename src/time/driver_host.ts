import { show } from "../internal/validate.ts";

/**
 * Wakes the main thread at a given time without blocking it (the `"near"`
 * mode of a `Driver`). The default is a waker Worker; tests pass a fake.
 *
 * If the waker fails (its Worker crashes), it must report `ready: false`
 * from then on and call `onWake` once, so that a driver waiting on it alone
 * wakes up, sees it is no longer ready, and re-arms with `setTimeout`
 * instead of losing the wait.
 */
export interface Waker {
  /** Whether the waker can serve requests yet (a Worker takes ~15 ms to start). */
  readonly ready: boolean;
  /**
   * Asks for one wake-up at `targetMs` (the driver's clock), replacing any
   * earlier request.
   */
  request(targetMs: number): void;
  /** Withdraws the pending request, if any. */
  cancel(): void;
  /** Releases the waker's resources; a later `request` starts it again. */
  close(): void;
  /** How many times it has started its helper thread, when it has one. */
  readonly starts?: number;
}

/**
 * The real-time facilities a `Driver` uses. The default host uses the global
 * `setTimeout` and a waker Worker; tests inject a host with fake timers to
 * check the driver's decisions without real time.
 */
export interface DriverHost {
  /** Like the global `setTimeout`. */
  setTimeout(callback: () => void, delayMs: number): number;
  /** Like the global `clearTimeout`. */
  clearTimeout(id: number): void;
  /**
   * Creates a {@linkcode Waker} that calls `onWake` on the main thread, or
   * returns `undefined` to make near waits fall back to `setTimeout`.
   */
  createWaker(onWake: () => void): Waker | undefined;
  /**
   * Blocks the calling thread for up to `ms` milliseconds (`Atomics.wait`),
   * for profiles that block near a deadline (`blockMs`). A host without it
   * makes the driver wait with its waker there instead.
   */
  block?(ms: number): void;
}

/**
 * Throws a `TypeError` unless `value` is a {@linkcode DriverHost}.
 *
 * @param action What the caller was doing.
 * @param name The parameter as the caller wrote it.
 * @param value The value to check.
 * @returns The host.
 * @throws {TypeError} when `value` lacks one of the host's methods.
 */
export function requireHost(action: string, name: string, value: unknown): DriverHost {
  const host = value as Partial<DriverHost> | null;
  if (
    host === null || typeof host !== "object" || typeof host.setTimeout !== "function" ||
    typeof host.clearTimeout !== "function" || typeof host.createWaker !== "function" ||
    (host.block !== undefined && typeof host.block !== "function")
  ) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a DriverHost with setTimeout, clearTimeout and createWaker methods (and block, when given, a method): current value is ${
        show(value)
      }`,
    );
  }
  return host as DriverHost;
}
