// A consumer for the remote reload tests: counts the sequence numbers it
// receives on "rr.seq" and acknowledges each with [seq, count] on "rr.ack".
// Its count is handed over on reload, so count === seq + 1 holds for every
// acknowledgement exactly when nothing was lost, duplicated or reordered and
// the state survived every switch.
import { definePlugin } from "../../../../src/plugin/author.ts";

let count = 0;

export default definePlugin({
  stateVersion: 1,
  init(ctx) {
    count = 0;
    ctx.subscribe<number>("rr.seq", (seq) => {
      count++;
      ctx.publish("rr.ack", [seq, count]);
    });
  },
  exportState: () => ({ count }),
  importState(state) {
    count = (state.value as { count: number }).count;
  },
});
