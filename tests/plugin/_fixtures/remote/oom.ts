// A plugin that allocates until it runs out of heap, 20 ms after start.
import { definePlugin } from "../../../../src/plugin/author.ts";

export default definePlugin({
  init(ctx) {
    ctx.publish("oom.started", ctx.isolation);
    ctx.after({
      name: "hog",
      delayMs: 20,
      run: () => {
        const keep: number[][] = [];
        while (true) keep.push(new Array(1_000_000).fill(Math.random()));
      },
    });
  },
});
