/**
 * Wakes the main thread at a given time without blocking it (the `"near"`
 * mode of a `Driver`). The default is a waker Worker; tests pass a fake.
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
}
