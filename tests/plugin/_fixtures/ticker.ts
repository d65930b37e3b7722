// A plugin that publishes 1 on "ticks" every 10 ms (capability "publish").
import { definePlugin } from "../../../src/plugin/author.ts";

export default definePlugin({
  init(ctx) {
    ctx.every({ name: "tick", periodMs: 10, run: () => void ctx.publish("ticks", 1) });
  },
});
