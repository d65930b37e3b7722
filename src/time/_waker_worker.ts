// The waker Worker's program. It runs from a blob: URL built from this
// function's source, so starting it needs no read or import permission; the
// function must therefore be self-contained (no imports, no outer names).
import type { WakerLayout } from "./_waker_protocol.ts";

/**
 * Blocks in `Atomics.wait` until shortly before the main thread's next
 * deadline, then wakes it with `Atomics.notify`. It never spins, so waiting
 * costs no CPU. It exits by itself when STOP is set, because `terminate()`
 * cannot interrupt `Atomics.wait`.
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
    let served = -1;
    for (;;) {
      if (Atomics.load(ctl, layout.stop) === 1) break;
      const seq = Atomics.load(ctl, layout.seq);
      const t = target[0]!;
      if (seq === served || !(t < Infinity)) {
        Atomics.wait(ctl, layout.seq, seq, layout.idleRecheckMs);
        continue;
      }
      const remaining = t - (performance.now() + shift);
      if (remaining > 0) {
        Atomics.wait(ctl, layout.seq, seq, remaining);
        continue;
      }
      served = seq;
      Atomics.add(ctl, layout.wake, 1);
      Atomics.notify(ctl, layout.wake);
    }
    scope.close();
  };
}
