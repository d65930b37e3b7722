// A worker plugin that sends bursts of 1 KiB frames to the kernel's DataPort
// "frames" every 20 ms, more than its credit allows, so the port shows
// utilization and would-block counts on the dashboard.
import { definePlugin } from "../../../src/plugin/author.ts";

export default definePlugin({
  init(ctx) {
    const frame = new Uint8Array(1024);
    ctx.every({
      name: "burst",
      periodMs: 20,
      run: () => {
        const port = ctx.dataPort("frames");
        for (let i = 0; i < 12; i++) port.send(frame);
      },
    });
  },
});
