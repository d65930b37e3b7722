// The Worker of `examples/channels.ts`: receives Float64Array batches on one
// ring channel, answers each with { batch, sum, mean } on another, and
// closes its sending end once the main thread closed its own.
import { type FrameValue, RingReceiver, RingSender } from "../src/chan/mod.ts";

const worker = self as unknown as {
  onmessage:
    | ((event: MessageEvent<{ batches: SharedArrayBuffer; stats: SharedArrayBuffer }>) => void)
    | null;
};

worker.onmessage = async ({ data }) => {
  const batches = new RingReceiver<FrameValue>(data.batches, { name: "batches" });
  const stats = new RingSender<FrameValue>(data.stats, { name: "stats" });
  let batch = 0;
  for await (const item of batches) {
    const values = item as Float64Array;
    let sum = 0;
    for (const v of values) sum += v;
    await stats.send({ batch: batch++, sum, mean: sum / values.length });
  }
  await stats.whenIdle();
  stats.close();
  batches.close();
};
