// A faulty plugin: publishes "faulty.alive" every 250 ms and crashes (a task
// throws) `crashAfterMs` after each start (1.5 s for the default export). Its
// manifest lets the supervisor restart it twice with backoff, then give up and
// unload it. `faultyPlugin()` makes one with another timing (the demo's
// examples/demo/plugins/faulty.ts).
import { definePlugin, type Plugin } from "../../src/plugin/author.ts";

/** Options of {@linkcode faultyPlugin}. */
export interface FaultyOptions {
  /** How long after each start it crashes, ms. @default {1500} */
  crashAfterMs?: number;
}

/** A plugin that crashes `crashAfterMs` after each start. */
export function faultyPlugin(options: FaultyOptions = {}): Plugin {
  const crashAfterMs = options.crashAfterMs ?? 1500;
  return definePlugin({
    init(ctx) {
      let beats = 0;
      ctx.every({
        name: "alive",
        periodMs: 250,
        run: () => void ctx.publish("faulty.alive", ++beats),
      });
      ctx.after({
        name: "crash",
        delayMs: crashAfterMs,
        run: () => {
          throw new Error(`crashing on purpose after ${crashAfterMs} ms`);
        },
      });
    },
  });
}

export default faultyPlugin();
