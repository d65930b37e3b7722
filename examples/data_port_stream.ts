/**
 * Streams frames from the main thread to a Worker through a shared ring
 * (`RingWriter` / `RingReader`), with credit backpressure, and prints the
 * throughput and the ring's statistics. The Worker reads every frame in
 * place and checks its sequence number.
 *
 * ```sh
 * deno run --allow-read=. --allow-env examples/data_port_stream.ts
 * DATAPORT_FRAMES=1000000 DATAPORT_FRAME_SIZE=64 DATAPORT_CREDIT=256 \
 *   deno run --allow-read=. --allow-env examples/data_port_stream.ts
 * ```
 *
 * Environment: `DATAPORT_FRAMES` (default 10000), `DATAPORT_FRAME_SIZE` in
 * bytes (default 1024, at least 4), `DATAPORT_CREDIT`: frames in flight, a
 * power of two (default 1024).
 *
 * @module
 */
import { RingWriter, WOULD_BLOCK } from "../mod.ts";

function envInteger(name: string, fallback: number, min: number): number {
  const raw = Deno.env.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    console.error(
      `Cannot stream frames as '${name}' must be an integer >= ${min}: current value is "${raw}"`,
    );
    Deno.exit(2);
  }
  return value;
}

const frames = envInteger("DATAPORT_FRAMES", 10_000, 1);
const frameSize = envInteger("DATAPORT_FRAME_SIZE", 1024, 4);
const credit = envInteger("DATAPORT_CREDIT", 1024, 2);

let writer: RingWriter;
try {
  writer = RingWriter.create({ slots: credit, slotSize: Math.ceil(frameSize / 8) * 8 });
} catch (error) {
  console.error(`Cannot stream frames: ${(error as Error).message}`);
  Deno.exit(2);
}
const worker = new Worker(new URL("./_data_port_worker.ts", import.meta.url), { type: "module" });
const ready = Promise.withResolvers<void>();
const done = Promise.withResolvers<{ consumed: number; unconsumed: number; outOfOrder: number }>();
worker.onmessage = ({ data }) => data === "ready" ? ready.resolve() : done.resolve(data);
worker.postMessage(writer.buffer);
await ready.promise;

console.log(
  `Streaming ${frames.toLocaleString("en")} frames of ${frameSize} B to a Worker, credit ${credit}`,
);
const frame = new Uint8Array(frameSize);
const view = new DataView(frame.buffer);
const start = performance.now();
let lastReport = start;
let blocked = 0;
for (let seq = 0; seq < frames; seq++) {
  view.setUint32(0, seq, true);
  while (writer.send(frame) === WOULD_BLOCK) {
    blocked++;
    await writer.whenWritable();
  }
  if ((seq & 4095) === 0 && performance.now() - lastReport >= 1000) {
    lastReport = performance.now();
    const rate = seq / ((lastReport - start) / 1000);
    console.log(`  ${seq.toLocaleString("en")} frames sent, ${(rate / 1e6).toFixed(2)} M/s`);
  }
}
await writer.whenIdle();
const closing = writer.close();
const result = await done.promise;
const seconds = (performance.now() - start) / 1000;
worker.terminate();

const stats = writer.stats();
const mb = stats.bytesSent / 1e6;
console.log(
  `Sent ${stats.framesSent.toLocaleString("en")} frames (${mb.toFixed(1)} MB) in ${
    (seconds * 1000).toFixed(1)
  } ms: ${(stats.framesSent / seconds / 1e6).toFixed(2)} M frames/s, ${
    (mb / seconds).toFixed(0)
  } MB/s`,
);
console.log(
  `Worker consumed ${
    result.consumed.toLocaleString("en")
  }, out of order ${result.outOfOrder}, unconsumed ${closing.unconsumed}`,
);
console.log(
  `Credit: ${stats.slots} slots, min credit ${stats.minCredit}, utilization avg ${
    (100 * stats.averageUtilizationRatio).toFixed(1)
  } % peak ${
    (100 * stats.peakUtilizationRatio).toFixed(0)
  } %, sends that waited for credit ${blocked}`,
);
if (result.consumed !== frames || result.outOfOrder !== 0) Deno.exit(1);
