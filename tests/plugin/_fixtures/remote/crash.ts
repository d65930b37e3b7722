// A plugin whose one-shot task throws 20 ms after start.
import { definePlugin } from "../../../../src/plugin/author.ts";

export default definePlugin({
  init(ctx) {
    ctx.after({
      name: "boom",
      delayMs: 20,
      run: () => {
        throw new Error("boom from " + ctx.isolation);
      },
    });
  },
});
