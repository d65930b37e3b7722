// The liveness of ring ends: a beat loop that keeps an end's beat moving
// while its thread's event loop runs, and the takeover of a side whose end
// is gone (or that must stop). A beat loop is `Atomics.waitAsync` with a
// timeout on the end's kick word: it neither keeps the process alive nor
// counts as a pending op, and it holds its end only weakly, so an end that
// is dropped without `close()` stops beating and is in time presumed dead.

import { ChronetixError } from "../errors.ts";
import { requireInteger } from "../internal/validate.ts";
import { MONOTONIC_CLOCK } from "../time/clock.ts";
import { holdEventLoop } from "./_hold_event_loop.ts";
import {
  ATTACHED,
  CLOSED,
  DEAD,
  epochOf,
  EVICTING,
  FREE,
  replaceEnd,
  type RingRole,
  type RingViews,
  setEndState,
  stateOf,
} from "./_ring_layout.ts";

/**
 * Starts the beat loop of an end: every quarter of the liveness timeout
 * (and whenever the end is kicked), `checkIn(end)` runs; while it returns
 * `true` the end's beat is bumped. It stops once `checkIn` returns `false`
 * (the end closed, or acknowledged an eviction) or the end was collected.
 *
 * @param views The ring.
 * @param role The end's side.
 * @param end The end, held weakly.
 * @param checkIn Answers whether the end still lives (and acknowledges an eviction).
 */
export function startBeat<E extends object>(
  views: RingViews,
  role: RingRole,
  end: E,
  checkIn: (end: E) => boolean,
): void {
  const ref = new WeakRef(end);
  const { header } = views;
  const interval = views.livenessTimeoutMs === Infinity ? undefined : views.livenessTimeoutMs / 4;
  const tick = (): void => {
    const self = ref.deref();
    if (self === undefined || !checkIn(self)) return;
    Atomics.add(header, role.beat, 1);
    const result = Atomics.waitAsync(header, role.kick, Atomics.load(header, role.kick), interval);
    if (result.async) result.value.then(tick);
    else queueMicrotask(tick);
  };
  tick();
}

/**
 * Throws unless `epoch` names the current end of `role`: a smaller one was
 * already replaced (`E_TAKEN_OVER`), a larger one never existed.
 *
 * @param views The ring.
 * @param role The side to take over.
 * @param epoch The epoch the caller means to replace.
 */
export function requireCurrentEpoch(views: RingViews, role: RingRole, epoch: number): void {
  const action = `take over the ring's ${role.side}`;
  requireInteger(action, "epoch", epoch, 0, 2 ** 28);
  const current = Atomics.load(views.header, role.end) >>> 3;
  if (epoch < current) {
    throw new ChronetixError(
      "E_TAKEN_OVER",
      `Cannot ${action} as 'epoch' is stale: that ${role.side} was already replaced, the ${role.side}'s epoch is ${current}: current value is ${epoch}`,
    );
  }
  if (epoch > current) {
    throw new RangeError(
      `Cannot ${action} as 'epoch' must be its ${role.side}'s epoch (${current}): current value is ${epoch}`,
    );
  }
}

/**
 * Takes the side of `role` over from its end of `epoch`: at once when that
 * end is closed or dead; when it is attached, asks it to stop (evicting)
 * and waits until it acknowledges or shows no sign of life for the
 * liveness timeout.
 *
 * @param views The ring.
 * @param role The side to take over.
 * @param epoch The epoch of the end to replace.
 * @param abort Abandons the takeover (the side stays evicting, then dead or closed).
 * @returns The word of the new end.
 */
export async function takeOver(
  views: RingViews,
  role: RingRole,
  epoch: number,
  abort: AbortSignal | undefined,
): Promise<number> {
  const { header } = views;
  let hold: Disposable | undefined;
  const wake = () => void Atomics.notify(header, role.end);
  abort?.addEventListener("abort", wake, { once: true });
  let seenBeat = NaN;
  let seenAt = 0;
  try {
    for (;;) {
      if (abort?.aborted) throw abort.reason;
      const word = Atomics.load(header, role.end);
      if (epochOf(word) !== epoch) {
        throw new ChronetixError(
          "E_TAKEN_OVER",
          `Cannot take over the ring's ${role.side} as another end took over the ${role.side} of 'epoch' first: its epoch is ${
            epochOf(word)
          }: current value is ${epoch}`,
        );
      }
      const state = stateOf(word);
      if (state === FREE || state === CLOSED || state === DEAD) {
        const next = replaceEnd(views, role, word);
        if (next >= 0) return next;
        continue;
      }
      if (state === ATTACHED) {
        setEndState(views, role, word, EVICTING);
        continue;
      }
      // Evicting: the end acknowledges at its next call, wait slice or beat.
      const now = MONOTONIC_CLOCK.now();
      const beat = Atomics.load(header, role.beat);
      if (beat !== seenBeat) {
        seenBeat = beat;
        seenAt = now;
      } else if (now - seenAt >= views.livenessTimeoutMs) {
        setEndState(views, role, word, DEAD);
        continue;
      }
      hold ??= holdEventLoop();
      const slice = views.livenessTimeoutMs === Infinity ? undefined : views.livenessTimeoutMs / 4;
      const result = Atomics.waitAsync(header, role.end, word, slice);
      if (result.async) await result.value;
    }
  } finally {
    abort?.removeEventListener("abort", wake);
    hold?.[Symbol.dispose]();
  }
}
