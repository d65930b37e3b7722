// A hung plugin: publishes "hung.tick" every 100 ms, then SPIN_AFTER_MS after
// start spins forever in synchronous code. It runs as a process: its
// heartbeat stops, the watchdog marks it hung after budgets.hangMs, and the
// host kills it (SIGTERM, then SIGKILL): a Worker could not be stopped.
import { definePlugin } from "../../src/plugin/author.ts";

const SPIN_AFTER_MS = 2000;

export default definePlugin({
  init(ctx) {
    let ticks = 0;
    ctx.every({ name: "tick", periodMs: 100, run: () => void ctx.publish("hung.tick", ++ticks) });
    ctx.after({
      name: "announce",
      delayMs: SPIN_AFTER_MS - 100,
      run: () => ctx.log.warn("about to spin forever in 100 ms"),
    });
    ctx.after({
      name: "spin",
      delayMs: SPIN_AFTER_MS,
      run: () => {
        while (true) { /* never returns */ }
      },
    });
  },
});
