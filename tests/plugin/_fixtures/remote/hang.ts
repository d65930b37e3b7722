// A plugin that spins forever in a task 20 ms after start (it publishes first,
// so a test can tell the instance ran).
import { definePlugin } from "../../../../src/plugin/author.ts";

export default definePlugin({
  init(ctx) {
    ctx.publish("hang.started", ctx.isolation);
    ctx.after({
      name: "spin",
      delayMs: 20,
      run: () => {
        while (true) { /* never returns */ }
      },
    });
  },
});
