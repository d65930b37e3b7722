// A plugin whose start fails on every instance but the first (module state
// counts the starts, the module being re-used across restarts).
import { definePlugin } from "../../../src/plugin/author.ts";

let starts = 0;

export default definePlugin({
  start() {
    if (++starts > 1) throw new Error(`start #${starts} failed`);
  },
});
