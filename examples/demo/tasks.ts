/**
 * The demo's task module: the body of its QoS-capped event tasks. Each run
 * stands for slow I/O (a few ms of waiting per event); the demo script
 * publishes bursts of events on "demo.burst", more than the tasks' queue caps
 * and the executor's global cap (`kernel.executor.maxRunnable`) let wait, so
 * each task's overflow policy shows: `drop-oldest` keeps the freshest,
 * `drop-newest` the first, `defer` runs every one later.
 *
 * @module
 */
import type { TaskContext } from "../../mod.ts";

/** Handles one burst event: 3 ms of waiting, cut short when the run is aborted. */
export function handleBurst(ctx: TaskContext<number>): Promise<void> {
  return new Promise((resolve) => {
    const id = setTimeout(done, 3);
    ctx.signal.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(id);
      ctx.signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
