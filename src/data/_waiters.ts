// The waits of one condition on one thread ("the port is writable"), each
// with its own timeout and abort signal. Waits without either share one
// promise; the others are kept in a set and leave it when they time out or
// are aborted, so a producer that polls with short timeouts on a blocked
// port does not pile up callbacks.

import { requireNonNegative, requireOptions, show } from "../internal/validate.ts";
import type { WaitOptions, WaitResult } from "./backpressure.ts";

/** The longest delay `setTimeout` takes; longer timeouts wait without a timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Waiter {
  resolve(result: WaitResult): void;
  reject(reason: unknown): void;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * Reads and checks a wait's timeout.
 *
 * @param action For error messages, e.g. "wait for credit".
 * @param options The caller's options.
 * @returns The timeout in milliseconds, `Infinity` when none.
 */
export function waitTimeout(action: string, options: WaitOptions | undefined): number {
  if (options === undefined) return Infinity;
  requireOptions(action, "options", options);
  const timeoutMs = options.timeoutMs;
  if (timeoutMs === undefined || timeoutMs === Infinity) return Infinity;
  return requireNonNegative(action, "timeoutMs", timeoutMs);
}

/**
 * Reads and checks a wait's abort signal.
 *
 * @param action For error messages.
 * @param options The caller's options, already checked by {@linkcode waitTimeout}.
 * @returns The signal, if any.
 */
export function waitSignal(
  action: string,
  options: WaitOptions | undefined,
): AbortSignal | undefined {
  const signal = options?.signal;
  if (signal === undefined || signal instanceof AbortSignal) return signal;
  throw new TypeError(
    `Cannot ${action} as 'signal' must be an AbortSignal: current value is ${show(signal)}`,
  );
}

/** Waits for one condition; {@linkcode Waiters.settle} ends every wait at once. */
export class Waiters {
  #shared: PromiseWithResolvers<WaitResult> | undefined;
  readonly #timed = new Set<Waiter>();

  /**
   * Waits until {@linkcode Waiters.settle}, the timeout or the abort, whichever
   * comes first. The caller has already handled a condition that holds now,
   * an aborted signal and a zero timeout.
   */
  wait(timeoutMs: number, signal: AbortSignal | undefined): Promise<WaitResult> {
    if (timeoutMs === Infinity && signal === undefined) {
      this.#shared ??= Promise.withResolvers<WaitResult>();
      return this.#shared.promise;
    }
    const { promise, resolve, reject } = Promise.withResolvers<WaitResult>();
    const waiter: Waiter = { resolve, reject, timer: undefined, signal, onAbort: undefined };
    if (timeoutMs <= MAX_TIMER_MS) {
      waiter.timer = setTimeout(() => this.#end(waiter, "timed-out"), timeoutMs);
    }
    if (signal !== undefined) {
      waiter.onAbort = () => this.#end(waiter, undefined);
      signal.addEventListener("abort", waiter.onAbort, { once: true });
    }
    this.#timed.add(waiter);
    return promise;
  }

  /** Ends every wait with `result`. */
  settle(result: WaitResult): void {
    if (this.#shared !== undefined) {
      this.#shared.resolve(result);
      this.#shared = undefined;
    }
    for (const waiter of this.#timed) this.#end(waiter, result);
  }

  /** Ends one wait with `result`, or rejects it with its signal's reason when `undefined`. */
  #end(waiter: Waiter, result: WaitResult | undefined): void {
    if (!this.#timed.delete(waiter)) return;
    clearTimeout(waiter.timer);
    if (waiter.onAbort !== undefined) waiter.signal!.removeEventListener("abort", waiter.onAbort);
    if (result === undefined) waiter.reject(waiter.signal!.reason);
    else waiter.resolve(result);
  }
}
