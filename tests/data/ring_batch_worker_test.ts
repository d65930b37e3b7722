// Batched publication (`publishEvery`) across real Workers: a million
// frames none lost or reordered, a writer that stops mid-batch, a Worker
// writer that flushes before it blocks, and one that dies (its thread stuck)
// with frames unpublished, then is taken over.
import { assert, assertEquals } from "@std/assert";
import { RingReader } from "../../src/data/ring_reader.ts";
import { RingWriter } from "../../src/data/ring_writer.ts";
import { WOULD_BLOCK } from "../../src/data/backpressure.ts";
import { checkFrame, writeFrame } from "./_fixtures/ring_frames.ts";
import { startWorker } from "./_fixtures/start_ring_worker.ts";
import type { BatchWorkerMessage, BatchWorkerTask } from "./_fixtures/ring_batch_worker.ts";

/** Sends frames `from..to-1` (mixed sizes, checkable), awaiting credit when the ring is full. */
async function produce(writer: RingWriter, from: number, to: number): Promise<void> {
  const frame = new Uint8Array(writer.slotSize);
  for (let seq = from; seq < to; seq++) {
    const length = writeFrame(frame, seq);
    while (writer.send(frame.subarray(0, length)) === WOULD_BLOCK) {
      assertEquals(await writer.whenWritable(), "ready");
    }
  }
}

/** Starts the batch worker; its messages come in order from `next()`. */
function startBatchWorker(task: BatchWorkerTask) {
  const worker = new Worker(new URL("./_fixtures/ring_batch_worker.ts", import.meta.url), {
    type: "module",
  });
  const messages: (BatchWorkerMessage | Error)[] = [];
  let wake: (() => void) | undefined;
  worker.onmessage = ({ data }) => {
    messages.push(data);
    wake?.();
  };
  worker.onerror = (event) => {
    event.preventDefault();
    messages.push(new Error(`Batch worker failed: ${event.message}`));
    wake?.();
  };
  worker.postMessage(task);
  return {
    async next(): Promise<BatchWorkerMessage> {
      while (messages.length === 0) await new Promise<void>((resolve) => wake = resolve);
      const message = messages.shift()!;
      if (message instanceof Error) throw message;
      return message;
    },
    release(): void {
      const stall = new Int32Array(task.stall);
      Atomics.store(stall, 0, 1);
      Atomics.notify(stall, 0);
    },
    [Symbol.dispose](): void {
      worker.terminate();
    },
  };
}

/** Reads what is published on the main thread, checking each frame; returns the sequence numbers. */
function drain(reader: RingReader, problems: string[]): number[] {
  const seen: number[] = [];
  reader.poll((slot, length, seq) => {
    const problem = checkFrame(slot, length, seq);
    if (problem !== undefined && problems.length < 10) problems.push(problem);
    seen.push(seq);
  });
  return seen;
}

Deno.test("Batched ring moves 1,000,000 mixed-size frames to a slow Worker: none lost, duplicated or reordered", async () => {
  const frames = 1_000_000;
  const writer = RingWriter.create({ slots: 256, slotSize: 1024, publishEvery: 64 });
  const consumer = startWorker({
    mode: "consume",
    buffer: writer.buffer,
    sleepEvery: 50_000,
    sleepMs: 20,
  });
  await produce(writer, 0, frames);
  await writer.whenIdle();
  const closing = writer.close();
  const report = await consumer;
  assertEquals(report.bad, []);
  assertEquals(report.consumed, frames);
  assertEquals(closing, { consumed: frames, unconsumed: 0 });
  const stats = writer.stats();
  assertEquals(stats.framesSent, frames);
  assertEquals(stats.bytesReceived, stats.bytesSent);
  assert(stats.wouldBlock > 0, "the slow consumer pushed back on the producer");
});

Deno.test("Batched ring from a Worker writer in a synchronous loop: close publishes the last part-batch", async () => {
  const frames = 200_003; // not a whole number of batches
  const buffer = RingWriter.createBuffer({ slots: 128, slotSize: 1024 });
  const reader = new RingReader(buffer);
  const producer = startWorker({ mode: "produce", buffer, frames, publishEvery: 64 });
  const problems: string[] = [];
  let expected = 0;
  while (await reader.whenReadable() === "ready") {
    reader.poll((slot, length, seq) => {
      const problem = checkFrame(slot, length, expected) ??
        (seq === expected ? undefined : `seq ${seq} where ${expected} was expected`);
      if (problem !== undefined && problems.length < 10) problems.push(problem);
      expected++;
    });
  }
  const report = await producer;
  assertEquals(problems, []);
  assertEquals(expected, frames);
  assertEquals(report.sent, frames);
  assertEquals(reader.close(), { consumed: frames, unconsumed: 0 });
});

Deno.test("Batched ring: a main-thread writer that stops mid-batch gets its last frames to a Worker at the end of its turn", async () => {
  const writer = RingWriter.create({ slots: 256, slotSize: 1024, publishEvery: 64 });
  const consumer = startWorker({ mode: "consume", buffer: writer.buffer, stopAfter: 100 });
  await produce(writer, 0, 100);
  // Awaiting the report ends this turn: no flush() and no close() until it comes.
  const report = await consumer;
  assertEquals(report.bad, []);
  assertEquals(report.consumed, 100);
  assertEquals(writer.unpublished, 0);
  assertEquals(writer.close(), { consumed: 100, unconsumed: 0 });
});

Deno.test("Batched ring: a Worker writer that flushes before it blocks has every frame seen while it is blocked", async () => {
  const buffer = RingWriter.createBuffer({ slots: 256, slotSize: 1024 });
  using reader = new RingReader(buffer);
  using producer = startBatchWorker({
    buffer,
    frames: 100,
    publishEvery: 64,
    flush: true,
    stall: new SharedArrayBuffer(4),
  });
  assertEquals(await producer.next(), { t: "stalled", sent: 100, unpublished: 0, flushed: 36 });
  const problems: string[] = [];
  assertEquals(drain(reader, problems), Array.from({ length: 100 }, (_, i) => i));
  assertEquals(problems, []);
  producer.release();
  assertEquals(await producer.next(), {
    t: "closed",
    report: { consumed: 100, unconsumed: 0 },
    logged: [],
  });
  assertEquals(await reader.whenReadable(), "closed");
});

Deno.test("Batched ring: a writer presumed dead with frames unpublished loses them, its report says so, and a takeover goes on from what was published", async () => {
  const buffer = RingWriter.createBuffer({ slots: 256, slotSize: 1024, livenessTimeoutMs: 40 });
  const lines: string[] = [];
  const logger = { error: (line: string) => lines.push(line), warn: () => {}, info: () => {} };
  using reader = new RingReader(buffer, { logger });
  using producer = startBatchWorker({
    buffer,
    frames: 100,
    publishEvery: 64,
    flush: false,
    stall: new SharedArrayBuffer(4),
  });
  // Its thread is stuck: no turn ends, so only the first batch was published.
  assertEquals(await producer.next(), { t: "stalled", sent: 100, unpublished: 36, flushed: 0 });
  const problems: string[] = [];
  assertEquals(drain(reader, problems), Array.from({ length: 64 }, (_, i) => i));
  // The stuck writer shows no sign of life: presumed dead, the reader's wait ends.
  assertEquals(await reader.whenReadable(), "closed");
  let stats = reader.stats();
  assertEquals([stats.writerState, stats.framesSent, stats.framesReceived], ["dead", 64, 64]);
  assertEquals(lines.length, 1);
  assert(lines[0]!.includes("presumed dead"), lines[0]);
  // The reader's report counts only what was published.
  using writer = await RingWriter.takeover(buffer, 1, { publishEvery: 64 });
  await produce(writer, 64, 80); // sequence numbers 64.. are given again
  writer.flush();
  assertEquals(drain(reader, problems), Array.from({ length: 16 }, (_, i) => 64 + i));
  assertEquals(problems, []);
  // The old writer comes back to life: it lost the ring, and its report says what it never published.
  producer.release();
  const closed = await producer.next();
  assert(closed.t === "closed");
  assertEquals(closed.report, { consumed: 80, unconsumed: 0, unpublished: 36 });
  assertEquals(closed.logged.length, 1);
  assert(closed.logged[0]!.includes("36 frames not yet published"), closed.logged[0]);
  stats = writer.stats();
  assertEquals([stats.framesSent, stats.writerDeaths, stats.writerTakeovers], [80, 1, 1]);
  assertEquals(writer.close(), { consumed: 80, unconsumed: 0 });
});
