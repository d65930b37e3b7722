// Receives the frames of data port "frames", recycles each and publishes
// how many it received on "consumer.received".
import { definePlugin } from "../../../../../src/plugin/author.ts";

export default definePlugin({
  init(ctx) {
    const port = ctx.dataPort("frames");
    let received = 0;
    port.onFrame((meta) => {
      received++;
      port.recycle(meta);
      ctx.publish("consumer.received", { received });
    });
  },
});
