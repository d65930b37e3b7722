// Waiting on a shared ring: an adaptive spin (`_ring_spin.ts`), then
// `Atomics.wait` (in a Worker) or `Atomics.waitAsync` (on the main thread)
// on the endpoint's signal word.
// The endpoint raises its waiting flag first, so the other side only pays
// for a wake-up when someone sleeps.
//
// A wait sleeps in slices of a quarter of the ring's liveness timeout. Each
// slice bumps this end's beat (a thread blocked here runs no event loop, so
// its beat loop cannot) and looks at the other end's: an end attached to
// the other side whose beat has not moved for the whole timeout is presumed
// dead (its Worker terminated, or its thread stuck), which ends the wait
// with "closed". So no wait outlives the other end for long, and nothing
// keeps the process alive after it died.

import { type Clock, MONOTONIC_CLOCK } from "../time/clock.ts";
import { RingSpin, spinWait } from "./_ring_spin.ts";
import { holdEventLoop } from "./_hold_event_loop.ts";
import { waitSignal, waitTimeout } from "./_waiters.ts";
import type { WaitOptions, WaitResult } from "./backpressure.ts";
import {
  ATTACHED,
  DEAD,
  EVICTING,
  READER_ROLE,
  type RingRole,
  type RingViews,
  setEndState,
  WRITER_ROLE,
} from "./_ring_layout.ts";

/**
 * One endpoint's side of its waits: its words, how many of its waits sleep
 * now (the waiting flag stays raised until the last one ends, so one wait
 * that ends cannot silence the wake-ups another needs), and what it last saw
 * of the other end's liveness.
 */
export interface RingSide {
  views: RingViews;
  role: RingRole;
  sleepers: number;
  /** Longest sleep between liveness checks: a quarter of the liveness timeout. */
  sliceMs: number;
  /** The other end's word and beat when last seen changing, and when. */
  seenWord: number;
  seenBeat: number;
  seenAt: number;
  /** Told when this end presumed the other dead (for its log line). */
  onPeerDead: (epoch: number, silentMs: number) => void;
  /** The adaptive spin of this end's waits. */
  spin: RingSpin;
  /** Paces and caps the spin. */
  clock: Clock;
}

/** Creates the wait state of an endpoint. */
export function ringSide(
  views: RingViews,
  role: RingRole,
  onPeerDead: (epoch: number, silentMs: number) => void,
): RingSide {
  return {
    views,
    role,
    sleepers: 0,
    sliceMs: views.livenessTimeoutMs / 4,
    seenWord: -1,
    seenBeat: 0,
    seenAt: 0,
    onPeerDead,
    spin: new RingSpin(views.layout.slots),
    clock: MONOTONIC_CLOCK,
  };
}

/** What one wait waits for. */
export interface RingWait {
  side: RingSide;
  /** Checked first: `"ready"` when it holds. */
  ready: () => boolean;
  /** Units ready (frames, credit) for the spin's decisions; cheap, no checks. */
  units: () => number;
  /** `"closed"` when it holds and `ready()` does not. */
  closed: () => boolean;
  /** For error messages, e.g. "wait for credit". */
  action: string;
}

/**
 * Looks at the other end's liveness; presumes it dead (and says so in the
 * ring, waking everyone) when it is attached and its beat has not moved for
 * the liveness timeout. Called on each wait slice.
 *
 * @param side This end's wait state.
 * @param now The time on this thread's monotonic clock.
 */
export function watchPeer(side: RingSide, now: number): void {
  const { views, role } = side;
  const timeoutMs = views.livenessTimeoutMs;
  if (timeoutMs === Infinity) return;
  const word = Atomics.load(views.header, role.peerEnd);
  const state = word & 7;
  if (state !== ATTACHED && state !== EVICTING) {
    side.seenWord = -1;
    return;
  }
  const beat = Atomics.load(views.header, role.peerBeat);
  if (word !== side.seenWord || beat !== side.seenBeat) {
    side.seenWord = word;
    side.seenBeat = beat;
    side.seenAt = now;
  } else if (now - side.seenAt >= timeoutMs) {
    const peer = role === WRITER_ROLE ? READER_ROLE : WRITER_ROLE;
    if (setEndState(views, peer, word, DEAD)) side.onPeerDead(word >>> 3, now - side.seenAt);
  }
}

/** One slice of this end's life: bumps its beat and watches the other end. */
function slice(side: RingSide): number {
  const now = MONOTONIC_CLOCK.now();
  Atomics.add(side.views.header, side.role.beat, 1);
  watchPeer(side, now);
  return now;
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
  const { side } = wait;
  if (spinWait(side.spin, wait.units, wait.ready, side.clock)) return "ready";
  const end = MONOTONIC_CLOCK.now() + timeoutMs;
  const slept = side.clock.now();
  let result: WaitResult | undefined;
  side.sleepers++;
  try {
    for (;;) {
      const now = slice(side);
      const seen = prepare(wait, end);
      if (typeof seen === "string") return result = seen;
      Atomics.wait(side.views.header, side.role.signal, seen, Math.min(end - now, side.sliceMs));
    }
  } finally {
    side.spin.woke(result === "ready", side.clock.now() - slept, wait.units());
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
  if (spinWait(wait.side.spin, wait.units, wait.ready, wait.side.clock)) return READY;
  return sleepAsync(wait, timeoutMs, abort);
}

async function sleepAsync(
  wait: RingWait,
  timeoutMs: number,
  abort: AbortSignal | undefined,
): Promise<WaitResult> {
  const { side } = wait;
  const { header } = side.views;
  const signal = side.role.signal;
  const end = MONOTONIC_CLOCK.now() + timeoutMs;
  // Waking every sleeper of this side is harmless: each re-checks its own conditions.
  const wake = () => void Atomics.notify(header, signal);
  abort?.addEventListener("abort", wake, { once: true });
  using _hold = holdEventLoop();
  const slept = side.clock.now();
  let outcome: WaitResult | undefined;
  side.sleepers++;
  try {
    for (;;) {
      if (abort?.aborted) throw abort.reason;
      const now = slice(side);
      const seen = prepare(wait, end);
      if (typeof seen === "string") return outcome = seen;
      const sleep = Math.min(end - now, side.sliceMs);
      const result = Atomics.waitAsync(
        header,
        signal,
        seen,
        sleep === Infinity ? undefined : sleep,
      );
      if (result.async) await result.value;
    }
  } finally {
    abort?.removeEventListener("abort", wake);
    side.spin.woke(outcome === "ready", side.clock.now() - slept, wait.units());
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
  const { header } = wait.side.views;
  const { signal, waiting } = wait.side.role;
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
  if (--side.sleepers === 0) Atomics.store(side.views.header, side.role.waiting, 0);
}
