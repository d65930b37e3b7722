// The consumer of examples/hot_reload.ts (a template: the example copies it
// to a temporary folder, sets FACTOR and the import of the plugin API, and
// rewrites FACTOR every 2 s). It counts the sequence numbers of topic
// "samples", hands the count over on every reload, and acknowledges each
// sample with [seq, count, seq * FACTOR] on "acks". With CRASH_AFTER_MS > 0
// (the example's broken version) it fails that long after its start.
import { definePlugin } from "@chronetix/core/plugin";

const FACTOR = 1;
const CRASH_AFTER_MS = 0;
let count = 0;

export default definePlugin({
  stateVersion: 1,
  init(ctx) {
    count = 0;
    ctx.subscribe<number>("samples", (seq) => {
      count++;
      ctx.publish("acks", [seq, count, seq * FACTOR]);
    });
    if (CRASH_AFTER_MS > 0) {
      ctx.after({
        name: "broken",
        delayMs: CRASH_AFTER_MS,
        run: () => {
          throw new Error("this version is broken on purpose");
        },
      });
    }
  },
  exportState: () => ({ count }),
  importState(state) {
    count = (state.value as { count: number }).count;
  },
});
