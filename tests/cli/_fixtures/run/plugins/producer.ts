// Sends a 4-byte sequence number on data port "frames" every 10 ms when the
// port has credit, and publishes how many it sent on "producer.sent".
import { definePlugin } from "../../../../../src/plugin/author.ts";

export default definePlugin({
  init(ctx) {
    const port = ctx.dataPort("frames");
    const bytes = new Uint8Array(4);
    let sent = 0;
    ctx.every({
      name: "send",
      periodMs: 10,
      run: () => {
        if (!port.writable) return;
        new DataView(bytes.buffer).setUint32(0, sent);
        port.send(bytes);
        sent++;
        ctx.publish("producer.sent", { sent });
      },
    });
  },
});
