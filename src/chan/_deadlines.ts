// One-shot timers on an injected clock, for the timeouts of channel waits and
// the timer branches of select(). On a stepped clock (a VirtualClock) they
// fire as the clock advances, in deadline order, never on their own; on any
// other clock they ride setTimeout and re-check the clock when it fires
// (setTimeout may fire early).

import { type Clock, type ClockTarget, isSteppedClock, type SteppedClock } from "../time/clock.ts";

/** A pending one-shot timer. */
export interface Deadline {
  /** Cancels the timer; harmless once it fired. */
  cancel(): void;
}

/** The longest delay `setTimeout` takes. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry {
  at: number;
  seq: number;
  fire: (() => void) | undefined;
}

/** The timers of one stepped clock, attached to it only while some are pending. */
class SteppedTimers implements ClockTarget {
  readonly #clock: SteppedClock;
  /** Sorted by `(at, seq)`: few timers wait at once, so a sorted array is enough. */
  #entries: Entry[] = [];
  #seq = 0;
  #attachment: Disposable | undefined;

  constructor(clock: SteppedClock) {
    this.#clock = clock;
  }

  add(at: number, fire: () => void): Deadline {
    const entry: Entry = { at, seq: this.#seq++, fire };
    const entries = this.#entries;
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (entries[mid]!.at <= at) lo = mid + 1;
      else hi = mid;
    }
    entries.splice(lo, 0, entry);
    this.#attachment ??= this.#clock.attach(this);
    return {
      cancel: () => {
        if (entry.fire === undefined) return;
        entry.fire = undefined;
        const i = this.#entries.indexOf(entry);
        if (i >= 0) this.#entries.splice(i, 1);
        this.#detachIfEmpty();
      },
    };
  }

  nextDeadline(): number {
    return this.#entries[0]?.at ?? Infinity;
  }

  advance(now: number): void {
    const entries = this.#entries;
    while (entries.length > 0 && entries[0]!.at <= now) {
      const entry = entries.shift()!;
      const fire = entry.fire;
      entry.fire = undefined;
      fire?.();
    }
    this.#detachIfEmpty();
  }

  #detachIfEmpty(): void {
    if (this.#entries.length > 0 || this.#attachment === undefined) return;
    this.#attachment[Symbol.dispose]();
    this.#attachment = undefined;
  }
}

const stepped = new WeakMap<SteppedClock, SteppedTimers>();

/**
 * Calls `fire` once `delayMs` passed on `clock`, unless cancelled first.
 *
 * @param clock The clock that measures the delay.
 * @param delayMs The delay, finite and `>= 0` (checked by the caller).
 * @param fire What to call.
 * @returns The timer, to cancel.
 */
export function startDeadline(clock: Clock, delayMs: number, fire: () => void): Deadline {
  return startDeadlineAt(clock, clock.now() + delayMs, fire);
}

/**
 * Calls `fire` once `clock` reads `at` or later, unless cancelled first;
 * never synchronously.
 *
 * @param clock The clock.
 * @param at The time, in the clock's milliseconds.
 * @param fire What to call.
 * @returns The timer, to cancel.
 */
export function startDeadlineAt(clock: Clock, at: number, fire: () => void): Deadline {
  if (isSteppedClock(clock)) {
    let timers = stepped.get(clock);
    if (timers === undefined) {
      timers = new SteppedTimers(clock);
      stepped.set(clock, timers);
    }
    return timers.add(at, fire);
  }
  let handle: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    const left = at - clock.now();
    if (left <= 0) {
      handle = undefined;
      fire();
      return;
    }
    // setTimeout truncates fractions and may fire early: round up, re-check.
    handle = setTimeout(arm, Math.min(Math.ceil(left), MAX_TIMER_MS));
  };
  handle = setTimeout(arm, Math.min(Math.max(0, Math.ceil(at - clock.now())), MAX_TIMER_MS));
  return {
    cancel: () => {
      clearTimeout(handle);
      handle = undefined;
    },
  };
}
