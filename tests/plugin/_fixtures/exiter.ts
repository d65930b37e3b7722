// A plugin that ends itself cleanly (ctx.exit()) 10 ms after each start.
import { definePlugin } from "../../../src/plugin/author.ts";

export default definePlugin({
  init(ctx) {
    ctx.after({ name: "done", delayMs: 10, run: () => ctx.exit("work done") });
  },
});
