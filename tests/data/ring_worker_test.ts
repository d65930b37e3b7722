// The shared ring across real Workers: every frame carries its sequence
// number, length and checksum, and the consumer checks each one.
import { assert, assertEquals } from "@std/assert";
import { ClosedError } from "../../src/errors.ts";
import { RingReader } from "../../src/data/ring_reader.ts";
import { RingWriter } from "../../src/data/ring_writer.ts";
import { WOULD_BLOCK } from "../../src/data/backpressure.ts";
import { checkFrame, writeFrame } from "./_fixtures/ring_frames.ts";
import { startWorker } from "./_fixtures/start_ring_worker.ts";

/** Sends frames `0..frames-1`, awaiting credit when the ring is full; stops early on ClosedError. */
async function produce(writer: RingWriter, frames: number): Promise<number> {
  const frame = new Uint8Array(writer.slotSize);
  for (let seq = 0; seq < frames; seq++) {
    const length = writeFrame(frame, seq);
    try {
      while (writer.send(frame.subarray(0, length)) === WOULD_BLOCK) {
        if (await writer.whenWritable() === "closed") return seq;
      }
    } catch (error) {
      if (error instanceof ClosedError) return seq;
      throw error;
    }
  }
  return frames;
}

Deno.test("Shared ring moves 1,000,000 mixed-size frames to a slow Worker: none lost, duplicated or reordered", async () => {
  const frames = 1_000_000;
  const writer = RingWriter.create({ slots: 256, slotSize: 1024 });
  const consumer = startWorker({
    mode: "consume",
    buffer: writer.buffer,
    sleepEvery: 50_000,
    sleepMs: 20,
  });
  assertEquals(await produce(writer, frames), frames);
  await writer.whenIdle();
  const closing = writer.close();
  const report = await consumer;
  assertEquals(report.bad, []);
  assertEquals(report.consumed, frames);
  assertEquals(closing, { consumed: frames, unconsumed: 0 });
  const stats = writer.stats();
  assertEquals(stats.framesSent, frames);
  assertEquals(stats.framesReceived, frames);
  assertEquals(stats.bytesReceived, stats.bytesSent);
  assert(stats.wouldBlock > 0, "the slow consumer pushed back on the producer");
  assertEquals(stats.minCredit, 0);
});

Deno.test("Shared ring reports exactly what a Worker consumer that shuts down early left", async () => {
  const writer = RingWriter.create({ slots: 64, slotSize: 1024 });
  const consumer = startWorker({ mode: "consume", buffer: writer.buffer, stopAfter: 5_000 });
  const sent = await produce(writer, 100_000);
  const report = await consumer;
  assertEquals(report.bad, []);
  assertEquals(report.consumed, 5_000);
  const closing = writer.close();
  assertEquals(closing.consumed, 5_000);
  assertEquals(closing.consumed + closing.unconsumed, sent);
  assert(sent < 100_000, "the producer stopped when the reader closed");
  assertEquals(writer.stats().discarded, closing.unconsumed);
});

Deno.test("Shared ring from a Worker producer to a main-thread reader that waits with whenReadable()", async () => {
  const frames = 200_000;
  const buffer = RingWriter.createBuffer({ slots: 128, slotSize: 1024 });
  const reader = new RingReader(buffer);
  const producer = startWorker({ mode: "produce", buffer, frames });
  const problems: string[] = [];
  let expected = 0;
  while (await reader.whenReadable() === "ready") {
    reader.poll((slot, length) => {
      const problem = checkFrame(slot, length, expected++);
      if (problem !== undefined && problems.length < 10) problems.push(problem);
    });
  }
  const report = await producer;
  assertEquals(problems, []);
  assertEquals(expected, frames);
  assertEquals(report.sent, frames);
  assertEquals(reader.close(), { consumed: frames, unconsumed: 0 });
});
