// The waker Worker's program. It runs from a blob: URL built from this
// function's source, so starting it needs no read or import permission; the
// function must therefore be self-contained (no imports, no outer names).
import type { WakerLayout } from "./_waker_protocol.ts";

/**
 * Blocks in `Atomics.wait` until the requested time, then wakes the main
 * thread with `Atomics.notify`. A timed futex wait oversleeps by 0.1-0.25 ms
 * on Linux (timer slack plus scheduling), fairly consistently, so the worker
 * learns its own oversleep, aims that much early and spins the short rest:
 * its notify then lands within microseconds of the target, and the Driver's
 * lead only has to cover the hop to the main thread. It exits by itself when
 * STOP is set, because `terminate()` cannot interrupt `Atomics.wait`.
 */
export function wakerWorkerMain(layout: WakerLayout): void {
  const scope = globalThis as unknown as {
    onmessage: ((event: MessageEvent) => void) | null;
    close(): void;
  };
  scope.onmessage = (event: MessageEvent<{ buffer: SharedArrayBuffer; origin: number }>) => {
    scope.onmessage = null;
    const { buffer, origin } = event.data;
    const ctl = new Int32Array(buffer, 0, 4);
    const target = new Float64Array(buffer, layout.targetOffset, 1);
    // performance.now() here counts from this Worker's start; shift it onto
    // the main thread's timeline.
    const shift = performance.timeOrigin - origin;
    Atomics.store(ctl, layout.ready, 1);
    const now = () => performance.now() + shift;
    let served = -1;
    let current = -1;
    let waited = false;
    // Learnt oversleep of a timed wait: a smoothed mean and mean deviation.
    // Samples are clamped, and the estimate decays on requests served
    // without a timed wait, so a burst of outliers (a stalled machine) cannot
    // leave the worker spinning for good.
    let oversleep = 0.1;
    let deviation = 0.03;
    for (;;) {
      if (Atomics.load(ctl, layout.stop) === 1) break;
      const seq = Atomics.load(ctl, layout.seq);
      const t = target[0]!;
      if (seq === served || !(t < Infinity)) {
        Atomics.wait(ctl, layout.seq, seq, layout.idleRecheckMs);
        continue;
      }
      if (seq !== current) {
        current = seq;
        waited = false;
      }
      const early = Math.min(layout.maxEarlyMs, oversleep + 2 * deviation);
      const remaining = t - now();
      if (remaining > early) {
        const wakeAt = t - early;
        if (Atomics.wait(ctl, layout.seq, seq, remaining - early) === "timed-out") {
          waited = true;
          const late = Math.min(now() - wakeAt, layout.maxEarlyMs);
          const error = late - oversleep;
          oversleep += error / 8;
          deviation += (Math.abs(error) - deviation) / 4;
        }
        continue;
      }
      if (!waited) {
        oversleep *= 0.9;
        deviation *= 0.9;
      }
      // Within the learnt oversleep of the target: spin the rest, unless a
      // new request arrives meanwhile.
      while (now() < t && Atomics.load(ctl, layout.seq) === seq) { /* spin */ }
      if (Atomics.load(ctl, layout.seq) !== seq) continue;
      served = seq;
      Atomics.add(ctl, layout.wake, 1);
      Atomics.notify(ctl, layout.wake);
    }
    scope.close();
  };
}
