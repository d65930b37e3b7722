// A faulty plugin: publishes "faulty.alive" every 250 ms and crashes (a task
// throws) CRASH_EVERY_MS after each start. Its manifest lets the supervisor
// restart it twice with backoff, then give up and unload it.
import { definePlugin } from "../../src/plugin/author.ts";

const CRASH_EVERY_MS = 1500;

export default definePlugin({
  init(ctx) {
    let beats = 0;
    ctx.every({
      name: "alive",
      periodMs: 250,
      run: () => void ctx.publish("faulty.alive", ++beats),
    });
    ctx.after({
      name: "crash",
      delayMs: CRASH_EVERY_MS,
      run: () => {
        throw new Error(`crashing on purpose after ${CRASH_EVERY_MS} ms`);
      },
    });
  },
});
