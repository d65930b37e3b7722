// A consumer of port "in" that registers its frame handler in `init`, before
// a reload hands it the old version's count: it counts and sums every frame
// and publishes "ports.consumed". A hot reload must hand it no frame before
// `importState()`, or the state it imports would overwrite what it counted.
import { definePlugin } from "../../../../src/plugin/author.ts";

let count = 0;
let sum = 0;

export default definePlugin({
  stateVersion: 1,
  exportState: () => ({ count, sum }),
  importState(state) {
    ({ count, sum } = state.value as { count: number; sum: number });
  },
  init(ctx) {
    const input = ctx.dataPort("in");
    input.onFrame((meta, view) => {
      count++;
      sum += view[0]!;
      input.recycle(meta);
      ctx.publish("ports.consumed", { count, sum });
    });
  },
});
