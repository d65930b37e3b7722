/**
 * Channels in one thread and across threads: three sensor tasks send
 * readings into a bounded channel, a consumer `select()`s between it, an
 * idle timer and a stop signal; then batches of readings go to a Worker
 * over a ring channel (typed arrays out, small JSON back, no postMessage
 * per item). Prints what each step saw, the channel's stats and metrics.
 * Ends by itself.
 *
 * ```sh
 * deno run --allow-read=. examples/channels.ts
 * ```
 *
 * @module
 */
import {
  aborted,
  after,
  channel,
  type FrameValue,
  MetricsRegistry,
  recvFrom,
  RingReceiver,
  RingSender,
  select,
} from "../mod.ts";

const registry = new MetricsRegistry();
const readings = channel<{ sensor: string; value: number }>(8, {
  name: "readings",
  metrics: registry,
});

// 1. Producers: each sends 20 readings, a few ms apart; send() waits when the channel is full.
const sensors = ["t1", "t2", "t3"].map(async (sensor, s) => {
  for (let i = 0; i < 20; i++) {
    await readings.send({ sensor, value: 20 + s + i / 10 });
    if (i % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
  }
});
const stop = new AbortController();
Promise.all(sensors).then(() => stop.abort("producers done"));

// 2. The consumer: the first of a reading, 50 ms of silence, or the stop signal.
const perSensor = new Map<string, number>();
let idleTicks = 0;
for (;;) {
  const r = await select([recvFrom(readings), after(50), aborted(stop.signal)]);
  if (r.index === 0) {
    if (!r.value.ok) break;
    const { sensor } = r.value.value;
    perSensor.set(sensor, (perSensor.get(sensor) ?? 0) + 1);
  } else if (r.index === 1) {
    idleTicks++;
  } else {
    // Stopped: take what is still queued, then close.
    for (let left = readings.tryRecv(); left.ok; left = readings.tryRecv()) {
      const { sensor } = left.value;
      perSensor.set(sensor, (perSensor.get(sensor) ?? 0) + 1);
    }
    break;
  }
}
const report = readings.close();
console.log("readings per sensor:", Object.fromEntries(perSensor));
console.log("idle ticks:", idleTicks, "undelivered at close:", report.undelivered.length);
const s = readings.stats();
console.log(
  `channel stats: sent ${s.sent}, received ${s.received}, peak depth ${s.peakDepth}/${s.capacity}, ` +
    `sends that waited ${s.sendWaits}`,
);
console.log(
  registry.exposeText().split("\n").filter((l) => l.startsWith("chronetix_channel_send_waits"))
    .join("\n"),
);

// 3. Across threads: Float64Array batches to a Worker, { batch, sum, mean } back.
const batches = RingSender.create<FrameValue>({ slots: 16, slotSize: 1024, name: "batches" });
const stats = RingReceiver.create<FrameValue>({ slots: 16, slotSize: 256, name: "stats" });
const worker = new Worker(new URL("./_channels_worker.ts", import.meta.url), { type: "module" });
worker.postMessage({ batches: batches.buffer, stats: stats.buffer });
const sending = (async () => {
  for (let b = 0; b < 5; b++) {
    await batches.send(Float64Array.from({ length: 100 }, (_, i) => b * 100 + i));
  }
  await batches.whenIdle();
  batches.close();
})();
for await (const answer of stats) console.log("from the worker:", answer);
await sending;
stats.close();
worker.terminate();
