// A plugin with state: counts its ticks (every 10 ms), hands the count over
// (stateVersion 2), migrates version 1 ({ n }) and refuses version 0.
import { definePlugin } from "../../../src/plugin/author.ts";

let count = 0;
/** The last count this module saw (module state survives a re-used import). */
export function current(): number {
  return count;
}

export default definePlugin({
  stateVersion: 2,
  init(ctx) {
    count = 0;
    ctx.every({ name: "tick", periodMs: 10, run: () => void count++ });
  },
  exportState: () => ({ count }),
  importState(state) {
    if (state.version === 2) count = (state.value as { count: number }).count;
    else if (state.version === 1) count = (state.value as { n: number }).n;
    else throw new Error(`state version ${state.version} is too old`);
  },
});
