// A plugin on the kernel's data ports: on "ports.produce" it sends n frames
// (a big-endian u32 sequence number each) to port "out", waiting for credit
// when the window is spent; on "ports.consume" it consumes port "in" and
// publishes its running count and sum (a reload hands the consumer over:
// the new version consumes again, counting on); on "ports.unknown" it opens a
// port the kernel does not offer and publishes what happened. Runs in every host.
import { definePlugin } from "../../../../src/plugin/author.ts";
import { WOULD_BLOCK } from "../../../../src/data/backpressure.ts";
import type { PluginContext } from "../../../../src/plugin/author.ts";

/** Consumes port "in", publishing the running count and sum. */
function consume(ctx: PluginContext): void {
  consuming = true;
  const input = ctx.dataPort("in");
  input.onFrame((meta, view) => {
    count++;
    sum += view[0]!;
    input.recycle(meta);
    ctx.publish("ports.consumed", { count, sum });
  });
}

// What a reload hands over: whether it consumed "in", and its count and sum.
let consuming = false;
let count = 0;
let sum = 0;

export default definePlugin({
  stateVersion: 1,
  exportState: () => ({ consuming, count, sum }),
  importState(state) {
    ({ consuming, count, sum } = state.value as { consuming: boolean; count: number; sum: number });
  },
  start(ctx) {
    if (consuming) consume(ctx);
  },
  init(ctx) {
    ctx.subscribe<{ n: number }>("ports.produce", async ({ n }) => {
      const out = ctx.dataPort("out");
      for (let i = 0; i < n; i++) {
        const bytes = new Uint8Array(8);
        new DataView(bytes.buffer).setUint32(0, i);
        while (out.send(bytes) === WOULD_BLOCK) {
          if (await out.whenWritable() !== "ready") return;
        }
      }
      const s = out.stats();
      ctx.publish("ports.produced", { n, wouldBlock: s.wouldBlockCredit, sent: s.framesSent });
    });
    ctx.subscribe("ports.consume", () => consume(ctx));
    ctx.subscribe("ports.unknown", async () => {
      try {
        const port = ctx.dataPort("nope");
        await port.whenWritable();
        ctx.publish("ports.unknown.result", "ready");
      } catch (error) {
        const e = error as { code?: string; message: string };
        ctx.publish("ports.unknown.result", `${e.code}: ${e.message}`);
      }
    });
  },
});
