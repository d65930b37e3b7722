// A hung plugin: publishes "hung.tick" every 100 ms, then `spinAfterMs` after
// start (2 s for the default export) spins in synchronous code, forever (or
// for `spinMs`). Its heartbeat stops and the watchdog marks it hung after
// budgets.hangMs. As a process (its manifest here) the host kills it
// (SIGTERM, then SIGKILL); as a Worker (the demo's
// examples/demo/plugins/hung.json) it cannot be stopped: it is reported as a
// zombie and replaced by a new Worker, and a bounded spin lets the old thread
// end by itself.
import { definePlugin, type Plugin } from "../../src/plugin/author.ts";

/** Options of {@linkcode hungPlugin}. */
export interface HungOptions {
  /** How long after each start it starts spinning, ms. @default {2000} */
  spinAfterMs?: number;
  /** How long it spins, ms. @default {Infinity} */
  spinMs?: number;
}

/** A plugin that spins in synchronous code `spinAfterMs` after each start. */
export function hungPlugin(options: HungOptions = {}): Plugin {
  const spinAfterMs = options.spinAfterMs ?? 2000;
  const spinMs = options.spinMs ?? Infinity;
  return definePlugin({
    init(ctx) {
      let ticks = 0;
      ctx.every({ name: "tick", periodMs: 100, run: () => void ctx.publish("hung.tick", ++ticks) });
      ctx.after({
        name: "announce",
        delayMs: Math.max(0, spinAfterMs - 100),
        run: () =>
          ctx.log.warn(
            `about to spin ${spinMs === Infinity ? "forever" : `for ${spinMs} ms`} in 100 ms`,
          ),
      });
      ctx.after({
        name: "spin",
        delayMs: spinAfterMs,
        run: () => {
          const end = performance.now() + spinMs;
          while (performance.now() < end) { /* does not return for spinMs */ }
        },
      });
    },
  });
}

export default hungPlugin();
