// The plugin of bench:plugins (cases `call-overhead` and `start`). On each
// event on "ovh.<isolation>.go" ({ round, runs, periodMs }) it runs the tiny
// body of bench/_plugins_body.ts `runs` times as a periodic task
// (missedTicks "burst": releases a timer wake-up finds due run in one batch),
// then publishes "ovh.<isolation>.done" with the checksum. Capabilities:
// "publish", "subscribe".
import { definePlugin } from "../src/plugin/author.ts";
import { type Go, tinyBody } from "./_plugins_body.ts";

export default definePlugin({
  init(ctx) {
    ctx.subscribe<Go>(`ovh.${ctx.isolation}.go`, (go) => {
      const body = tinyBody(go.runs, (acc) => {
        task.cancel();
        ctx.publish(`ovh.${ctx.isolation}.done`, { round: go.round, acc });
      });
      const task = ctx.every({
        name: `round-${go.round}`,
        periodMs: go.periodMs,
        missedTicks: "burst",
        run: body,
      });
    });
  },
});
