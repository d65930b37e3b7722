// Waiting on a shared ring: a short spin, then `Atomics.wait` (in a Worker)
// or `Atomics.waitAsync` (on the main thread) on the endpoint's signal word.
// The endpoint raises its waiting flag first, so the other side only pays
// for a wake-up when someone sleeps.

import { MONOTONIC_CLOCK } from "../time/clock.ts";
import { holdEventLoop } from "./_hold_event_loop.ts";
import { waitSignal, waitTimeout } from "./_waiters.ts";
import type { WaitOptions, WaitResult } from "./backpressure.ts";

/** How long a wait spins before it sleeps. */
const SPIN_MS = 0.05;

/**
 * One endpoint's side of its waits: its signal word, its waiting flag, and
 * how many of its waits sleep now. The flag stays raised until the last one
 * ends, so one wait that ends cannot silence the wake-ups another needs.
 */
export interface RingSide {
  header: Int32Array;
  signal: number;
  waiting: number;
  sleepers: number;
}

/** What one wait waits for. */
export interface RingWait {
  side: RingSide;
  /** Checked first: `"ready"` when it holds. */
  ready: () => boolean;
  /** `"closed"` when it holds and `ready()` does not. */
  closed: () => boolean;
  /** For error messages, e.g. "wait for credit". */
  action: string;
}

/**
 * Blocks (a Worker) until `ready()` or `closed()` holds or the timeout
 * passes. An aborted signal throws its reason; it is checked only before
 * blocking, as a blocked thread runs no event handlers.
 */
export function waitSync(wait: RingWait, options: WaitOptions | undefined): WaitResult {
  const timeoutMs = waitTimeout(wait.action, options);
  const abort = waitSignal(wait.action, options);
  if (abort?.aborted) throw abort.reason;
  if (spin(wait.ready)) return "ready";
  const { side } = wait;
  const end = MONOTONIC_CLOCK.now() + timeoutMs;
  side.sleepers++;
  try {
    for (;;) {
      const seen = prepare(wait, end);
      if (typeof seen === "string") return seen;
      Atomics.wait(side.header, side.signal, seen, end - MONOTONIC_CLOCK.now());
    }
  } finally {
    settle(side);
  }
}

const READY: Promise<WaitResult> = Promise.resolve("ready");

/**
 * The awaitable form of {@linkcode waitSync}, for the main thread. When the
 * spin succeeds it returns a shared, settled promise: no allocation. An
 * abort wakes the wait, which then rejects with the signal's reason.
 */
export function waitAsync(wait: RingWait, options: WaitOptions | undefined): Promise<WaitResult> {
  const timeoutMs = waitTimeout(wait.action, options);
  const abort = waitSignal(wait.action, options);
  if (abort?.aborted) return Promise.reject(abort.reason);
  if (spin(wait.ready)) return READY;
  return sleepAsync(wait, timeoutMs, abort);
}

async function sleepAsync(
  wait: RingWait,
  timeoutMs: number,
  abort: AbortSignal | undefined,
): Promise<WaitResult> {
  const { side } = wait;
  const end = MONOTONIC_CLOCK.now() + timeoutMs;
  // Waking every sleeper of this side is harmless: each re-checks its own conditions.
  const wake = () => void Atomics.notify(side.header, side.signal);
  abort?.addEventListener("abort", wake, { once: true });
  using _hold = holdEventLoop();
  side.sleepers++;
  try {
    for (;;) {
      if (abort?.aborted) throw abort.reason;
      const seen = prepare(wait, end);
      if (typeof seen === "string") return seen;
      const left = end - MONOTONIC_CLOCK.now();
      const result = Atomics.waitAsync(
        side.header,
        side.signal,
        seen,
        left === Infinity ? undefined : left,
      );
      if (result.async) await result.value;
    }
  } finally {
    abort?.removeEventListener("abort", wake);
    settle(side);
  }
}

/**
 * One round of a wait: raises the waiting flag and returns the outcome if
 * it is decided, else the signal value to sleep on. The signal is read
 * before the flag is raised, so a wake-up between the checks and the sleep
 * changes it and the sleep returns at once.
 */
function prepare(wait: RingWait, end: number): WaitResult | number {
  const { header, signal, waiting } = wait.side;
  const seen = Atomics.load(header, signal);
  Atomics.store(header, waiting, 1);
  return wait.ready()
    ? "ready"
    : wait.closed()
    ? "closed"
    : end - MONOTONIC_CLOCK.now() <= 0
    ? "timed-out"
    : seen;
}

/** One sleeper of `side` is done; the last one lowers the waiting flag. */
function settle(side: RingSide): void {
  if (--side.sleepers === 0) Atomics.store(side.header, side.waiting, 0);
}

/**
 * Spins briefly on `ready()` before a wait goes to sleep: when frames stream
 * in, the next one usually arrives within microseconds, and sleeping would
 * make the other side pay a futex wake-up (several microseconds) per frame.
 */
function spin(ready: () => boolean): boolean {
  // The clock read between checks (about 0.1 µs) doubles as a back-off: a
  // tighter loop would keep pulling the writer's cache line away from it.
  const end = MONOTONIC_CLOCK.now() + SPIN_MS;
  for (;;) {
    if (ready()) return true;
    if (MONOTONIC_CLOCK.now() >= end) return false;
  }
}
