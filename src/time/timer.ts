// The handle of a Driver timer and the options it is scheduled with: the
// public types of `Driver.after`, `Driver.at` and `Driver.every`.
import type { MissedTickPolicy, TimerId } from "./timer_wheel.ts";

/**
 * Called when a {@linkcode Driver} timer fires, with the exact deadline it
 * fires for. It may be async: a promise it returns that rejects is contained
 * and counted like a throw (`DriverStats.wheel.callbackErrors`).
 */
export type DriverCallback = (deadline: number) => void;

/** Options shared by {@linkcode Driver.after}, {@linkcode Driver.at} and {@linkcode Driver.every}. */
export interface TimerOptions {
  /**
   * The lateness class this timer records into; see {@linkcode Driver.lateness}.
   *
   * @default {"oneshot" for after/at, "periodic" for every}
   */
  latenessClass?: string;
}

/** Options for {@linkcode Driver.every}. */
export interface EveryOptions extends TimerOptions {
  /**
   * Delay before the first fire in milliseconds; deadlines are then
   * `first + k * periodMs`.
   *
   * @default {periodMs}
   */
  delayMs?: number;
  /**
   * The absolute time (on the driver's clock) of the first deadline, to
   * align several loops to one phase; excludes `delayMs`.
   */
  firstAtMs?: number;
  /**
   * What to do after a stall.
   *
   * @default {"skip"}
   */
  missedTicks?: MissedTickPolicy;
}

/**
 * A scheduled timer, returned by the {@linkcode Driver}. Cancel it, or let a
 * `using` declaration dispose of it at the end of a scope.
 */
export interface Timer extends Disposable {
  /** The underlying wheel id. */
  readonly id: TimerId;
  /** The period in milliseconds, or `0` for a one-shot timer. */
  readonly periodMs: number;
  /** The lateness class it records into. */
  readonly latenessClass: string;
  /** Whether it is still pending. */
  readonly active: boolean;
  /** Its next deadline in milliseconds, or `NaN` once inactive. */
  readonly deadline: number;
  /**
   * How many times it has fired (a fire counts, and its lateness is
   * recorded, once its callback returns).
   */
  readonly fires: number;
  /**
   * Cancels it; cancelling twice is a no-op.
   *
   * @returns `true` when it was pending.
   */
  cancel(): boolean;
}
