// A timer for the plugin runtime's thread (a plugin's Worker, or a process
// plugin's main thread) that does not pay Deno's first-timer cost. On Deno
// 2.9.6 the global `setTimeout` and `setInterval` are Node-compatible: the
// first call in an isolate loads `node:timers` and what it imports
// (async_hooks, errors, inspect), measured at 3.8-8.5 ms in a fresh Worker
// and about 10 ms on a process's main thread, on this VM. A plugin's
// runtime armed its heartbeat in its constructor, so every worker start and
// hot reload paid that cost between the host's hello and its first call.
//
// This timer sleeps on `Atomics.waitAsync`'s timeout instead: its first use
// costs 0.01-0.07 ms, and its lateness in a Worker matched `setTimeout`'s in
// the same run (1 ms and 5 ms waits: 1.13 ms late at the median, 1.3-1.6 ms
// at p99, both rounded to whole milliseconds). A zero delay takes about
// 1.1 ms, where `setTimeout(f, 0)` took 2.1 ms. Clearing a pending wait
// wakes it at once (`Atomics.notify`), so nothing stale stays queued.
//
// A pending `Atomics.waitAsync` does not keep the event loop alive
// (denoland/deno#15358): use it where something else does (a message port,
// a pipe being read).

/**
 * The shortest wait, ms. A timeout of 0 (or one too small to count, such as
 * `Number.MIN_VALUE`) times out synchronously; this one waits for the
 * platform's next delayed task, an event-loop turn later.
 */
const MIN_TIMEOUT_MS = 0.001;

/**
 * A one-shot timer that can be armed again and cleared, on
 * `Atomics.waitAsync`'s timeout.
 *
 * @example Fires once, after its delay
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { WaitTimer } from "./_wait_timer.ts";
 *
 * const { promise, resolve } = Promise.withResolvers<string>();
 * const keepAlive = new MessageChannel(); // a pending wait alone does not hold the event loop
 * keepAlive.port1.onmessage = () => {};
 * const timer = new WaitTimer(() => resolve("fired"));
 * timer.set(2);
 * assertEquals(timer.pending, true);
 * assertEquals(await promise, "fired");
 * assertEquals(timer.pending, false);
 * keepAlive.port1.close();
 * keepAlive.port2.close();
 * ```
 */
export class WaitTimer {
  readonly #cell = new Int32Array(new SharedArrayBuffer(4));
  readonly #callback: () => void;
  #generation = 0;
  #pending = false;

  /**
   * @param callback Called once per `set` that was not cleared or replaced.
   */
  constructor(callback: () => void) {
    this.#callback = callback;
  }

  /** Whether the timer is armed. */
  get pending(): boolean {
    return this.#pending;
  }

  /**
   * Arms the timer: the callback runs after `delayMs` (whole milliseconds,
   * at least one event-loop turn). Replaces a wait still pending.
   *
   * @param delayMs The delay, ms; a negative or non-finite one counts as 0.
   */
  set(delayMs: number): void {
    this.clear();
    const generation = ++this.#generation;
    this.#pending = true;
    const timeout = Number.isFinite(delayMs) && delayMs > MIN_TIMEOUT_MS ? delayMs : MIN_TIMEOUT_MS;
    const wait = Atomics.waitAsync(this.#cell, 0, 0, timeout);
    const fire = () => {
      if (generation !== this.#generation || !this.#pending) return;
      this.#pending = false;
      this.#callback();
    };
    if (wait.async) wait.value.then(fire);
    else queueMicrotask(fire); // not seen: the minimum timeout keeps it asynchronous
  }

  /** Disarms the timer; a pending wait ends at once without calling back. */
  clear(): void {
    if (!this.#pending) return;
    this.#pending = false;
    this.#generation++;
    Atomics.notify(this.#cell, 0);
  }
}

/**
 * Resolves after `delayMs` on a {@linkcode WaitTimer} (at least one
 * event-loop turn: a yield that lets messages in).
 *
 * @param delayMs The delay, ms.
 * @returns A promise that resolves after the delay.
 *
 * @example Yields to the event loop
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { waitMs } from "./_wait_timer.ts";
 *
 * const keepAlive = new MessageChannel();
 * keepAlive.port1.onmessage = () => {};
 * let ran = false;
 * const done = waitMs(0).then(() => ran);
 * assertEquals(ran, false);
 * ran = true;
 * assertEquals(await done, true);
 * keepAlive.port1.close();
 * keepAlive.port2.close();
 * ```
 */
export function waitMs(delayMs: number): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  new WaitTimer(resolve).set(delayMs);
  return promise;
}
