// A plugin whose one-shot task throws 10 ms after start (onError "crash").
import { definePlugin } from "../../../src/plugin/author.ts";

export default definePlugin({
  init(ctx) {
    ctx.after({
      name: "boom",
      delayMs: 10,
      run: () => {
        throw new Error("boom");
      },
    });
  },
});
