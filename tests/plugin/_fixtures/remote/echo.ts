// One plugin for every host: ticks (publish), echoes (subscribe), counts
// (metrics), logs, hands state over. The remote-host tests run it inline, in a
// worker and in a process.
import { definePlugin } from "../../../../src/plugin/author.ts";

export default definePlugin({
  init(ctx) {
    const echoed = ctx.metrics.counter({ name: "echoed_total", help: "Events echoed" });
    let n = 0;
    ctx.every({ name: "tick", periodMs: 5, run: () => void ctx.publish("echo.ticks", ++n) });
    ctx.subscribe<number>("echo.in", (value) => {
      echoed.labels().inc();
      ctx.publish("echo.out", { value: value * 2, isolation: ctx.isolation });
    });
    ctx.log.info(`init in ${ctx.isolation}`);
  },
  start(ctx) {
    ctx.publish("echo.started", ctx.state?.value ?? null);
  },
  stop(ctx) {
    ctx.publish("echo.stopped", ctx.signal.aborted);
  },
  exportState: () => ({ saved: 42 }),
  stateVersion: 3,
});
