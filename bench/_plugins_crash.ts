// The plugin of bench:plugins case `crash-restart`: a one-shot task throws
// 25 ms after the instance started (a crash during the start phase would
// fail the load itself), the supervisor restarts it at once (backoff 0) and
// it crashes again: one crash-restart cycle per instance.
import { definePlugin } from "../src/plugin/author.ts";

export default definePlugin({
  init(ctx) {
    ctx.after({
      name: "crash",
      delayMs: 25,
      run: () => {
        throw new Error("crash on purpose");
      },
    });
  },
});
