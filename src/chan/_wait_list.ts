// The waits of one condition of a channel ("an item is waiting", "there is
// room", "nothing is pending"), each with its own timeout (on the channel's
// clock) and abort signal. `settle()` ends every wait at once.

import { requireNonNegative, requireOptions, show } from "../internal/validate.ts";
import type { Clock } from "../time/clock.ts";
import type { WaitOptions, WaitResult } from "../data/backpressure.ts";
import { type Deadline, startDeadline } from "./_deadlines.ts";

/** A wait's options, checked: the timeout (`Infinity` when none) and the signal. */
export interface CheckedWait {
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

const NO_WAIT_OPTIONS: CheckedWait = { timeoutMs: Infinity, signal: undefined };

/**
 * Checks the options of a wait.
 *
 * @param action For error messages, e.g. "receive an item".
 * @param options The caller's options.
 * @returns The timeout and signal.
 * @throws {TypeError} when `options` is not an object or `signal` not an AbortSignal.
 * @throws {RangeError} when `timeoutMs` is negative or `NaN`.
 */
export function checkWait(action: string, options: WaitOptions | undefined): CheckedWait {
  if (options === undefined) return NO_WAIT_OPTIONS;
  requireOptions(action, "options", options);
  const { timeoutMs, signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(
      `Cannot ${action} as 'signal' must be an AbortSignal: current value is ${show(signal)}`,
    );
  }
  if (timeoutMs === undefined || timeoutMs === Infinity) return { timeoutMs: Infinity, signal };
  return { timeoutMs: requireNonNegative(action, "timeoutMs", timeoutMs), signal };
}

/** One pending wait: how to end it, and what to release when it ends. */
export interface Pending<R> {
  resolve(result: R): void;
  reject(reason: unknown): void;
  deadline: Deadline | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Whether it ended (a timeout, an abort, or its condition). */
  ended: boolean;
}

/**
 * Arms a wait's timeout and abort signal; `onTimeout` / the abort end it.
 * The caller keeps the wait wherever it belongs (a queue, a set).
 */
export function arm<R>(
  clock: Clock,
  wait: CheckedWait,
  resolve: (result: R) => void,
  reject: (reason: unknown) => void,
  onTimeout: (pending: Pending<R>) => void,
  onAbort: (pending: Pending<R>) => void,
): Pending<R> {
  const pending: Pending<R> = {
    resolve,
    reject,
    deadline: undefined,
    signal: wait.signal,
    onAbort: undefined,
    ended: false,
  };
  if (wait.timeoutMs !== Infinity) {
    pending.deadline = startDeadline(clock, wait.timeoutMs, () => onTimeout(pending));
  }
  if (wait.signal !== undefined) {
    pending.onAbort = () => onAbort(pending);
    wait.signal.addEventListener("abort", pending.onAbort, { once: true });
  }
  return pending;
}

/**
 * Marks a wait ended and releases its timer and listener.
 *
 * @returns `false` when it had already ended.
 */
export function end<R>(pending: Pending<R>): boolean {
  if (pending.ended) return false;
  pending.ended = true;
  pending.deadline?.cancel();
  if (pending.onAbort !== undefined) {
    pending.signal!.removeEventListener("abort", pending.onAbort);
  }
  return true;
}

/** The waits of one condition. */
export class WaitList {
  readonly #clock: Clock;
  readonly #waits = new Set<Pending<WaitResult>>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** How many waits are pending. */
  get size(): number {
    return this.#waits.size;
  }

  /**
   * Waits until {@linkcode WaitList.settle}, the timeout or the abort. The
   * caller has handled a condition that holds now, a zero timeout and an
   * aborted signal.
   */
  wait(wait: CheckedWait): Promise<WaitResult> {
    const { promise, resolve, reject } = Promise.withResolvers<WaitResult>();
    const pending = arm<WaitResult>(
      this.#clock,
      wait,
      resolve,
      reject,
      (p) => this.#end(p, "timed-out"),
      (p) => this.#end(p, undefined),
    );
    this.#waits.add(pending);
    return promise;
  }

  /** Ends every wait with `result`. */
  settle(result: WaitResult): void {
    if (this.#waits.size === 0) return;
    for (const pending of [...this.#waits]) this.#end(pending, result);
  }

  /** Ends one wait with `result`, or rejects it with its signal's reason when `undefined`. */
  #end(pending: Pending<WaitResult>, result: WaitResult | undefined): void {
    this.#waits.delete(pending);
    if (!end(pending)) return;
    if (result === undefined) pending.reject(pending.signal!.reason);
    else pending.resolve(result);
  }
}
