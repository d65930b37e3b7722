// A plugin whose task throws 3 s after each start: the supervisor restarts
// it until its restart intensity is spent, then gives up.
import { definePlugin } from "../../../src/plugin/author.ts";

export default definePlugin({
  init(ctx) {
    ctx.after({
      name: "boom",
      delayMs: 3000,
      run: () => {
        throw new Error("scripted crash");
      },
    });
  },
});
