// The consumer of bench:plugins case `reload`: counts the sequence numbers
// it receives on "rl.seq" and acknowledges each with [seq, count] on
// "rl.ack"; its count is handed over on every reload. count === seq + 1 for
// every acknowledgement means nothing was lost, duplicated or reordered.
// Capabilities: "publish", "subscribe".
import { definePlugin } from "../src/plugin/author.ts";

let count = 0;

export default definePlugin({
  stateVersion: 1,
  init(ctx) {
    count = 0;
    ctx.subscribe<number>("rl.seq", (seq) => {
      count++;
      ctx.publish("rl.ack", [seq, count]);
    });
  },
  exportState: () => ({ count }),
  importState(state) {
    count = (state.value as { count: number }).count;
  },
});
