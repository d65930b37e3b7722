// The consumer of examples/hot_reload.ts (a template: the example copies it
// to a temporary folder, sets FACTOR and the import of the plugin API, and
// rewrites FACTOR every 2 s). It counts the sequence numbers of topic
// "samples", hands the count over on every reload, and acknowledges each
// sample with [seq, count, seq * FACTOR] on "acks".
import { definePlugin } from "@chronetix/core/plugin";

const FACTOR = 1;
let count = 0;

export default definePlugin({
  stateVersion: 1,
  init(ctx) {
    count = 0;
    ctx.subscribe<number>("samples", (seq) => {
      count++;
      ctx.publish("acks", [seq, count, seq * FACTOR]);
    });
  },
  exportState: () => ({ count }),
  importState(state) {
    count = (state.value as { count: number }).count;
  },
});
