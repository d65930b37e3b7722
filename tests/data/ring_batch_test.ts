// Batched publication of a shared ring (`publishEvery`), in one thread:
// when frames become visible to the reader, and that every guarantee of the
// per-frame ring (order, nothing lost, exact close reports, takeover) holds.
import { assert, assertEquals, assertThrows } from "@std/assert";
import { RingReader } from "../../src/data/ring_reader.ts";
import { RingWriter } from "../../src/data/ring_writer.ts";
import { WOULD_BLOCK } from "../../src/data/backpressure.ts";

function seenBy(reader: RingReader, max = Infinity): number[] {
  const seen: number[] = [];
  reader.poll((slot, _length, seq) => {
    assertEquals(slot[0], seq & 255, "the frame in the slot is the frame of its sequence number");
    seen.push(seq);
  }, max);
  return seen;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

Deno.test("RingWriter publishes every frame by default", () => {
  using writer = RingWriter.create({ slots: 8, slotSize: 8 });
  using reader = new RingReader(writer.buffer);
  assertEquals(writer.publishEvery, 1);
  writer.send(Uint8Array.of(0));
  assertEquals(writer.unpublished, 0);
  assertEquals(reader.available, 1);
  assertEquals(writer.flush(), 0);
});

Deno.test("RingWriter with publishEvery publishes once per batch, in order, counting frames once published", () => {
  using writer = RingWriter.create({ slots: 16, slotSize: 8, publishEvery: 4 });
  using reader = new RingReader(writer.buffer);
  for (let i = 0; i < 3; i++) assertEquals(writer.send(Uint8Array.of(i)), i);
  assertEquals(reader.available, 0);
  assertEquals(writer.unpublished, 3);
  assertEquals(writer.stats().framesSent, 0, "frames count once published");
  assertEquals(writer.credit, 13, "unpublished frames hold their slots");
  writer.send(Uint8Array.of(3));
  assertEquals(reader.available, 4);
  assertEquals(writer.unpublished, 0);
  const stats = writer.stats();
  assertEquals([stats.framesSent, stats.bytesSent], [4, 4]);
  assertEquals(seenBy(reader), [0, 1, 2, 3]);
  for (let i = 4; i < 10; i++) writer.send(Uint8Array.of(i));
  assertEquals(seenBy(reader), [4, 5, 6, 7]);
  assertEquals(writer.unpublished, 2);
  assertEquals(writer.flush(), 2);
  assertEquals(seenBy(reader), [8, 9]);
  assertEquals(writer.stats().bytesReceived, 10);
});

Deno.test("RingWriter caps publishEvery at half the slots", () => {
  using writer = RingWriter.create({ slots: 8, slotSize: 8, publishEvery: 1000 });
  using reader = new RingReader(writer.buffer);
  assertEquals(writer.publishEvery, 4);
  for (let i = 0; i < 4; i++) writer.send(Uint8Array.of(i));
  assertEquals(reader.available, 4);
});

Deno.test("RingWriter rejects a publishEvery that is not a positive integer, claiming nothing", () => {
  for (const bad of [0, -1, 1.5, NaN, Infinity, "4", {}]) {
    const buffer = RingWriter.createBuffer({ slots: 4, slotSize: 8 });
    const error = assertThrows(
      () => new RingWriter(buffer, { publishEvery: bad as number }),
      Error,
      "'publishEvery'",
    );
    assert(error instanceof TypeError || error instanceof RangeError);
    assertThrows(
      () => RingWriter.create({ publishEvery: bad as number }),
      Error,
      "'publishEvery'",
    );
    new RingWriter(buffer).close(); // the side stayed free
  }
});

Deno.test("RingWriter publishes everything when the ring fills, before the batch is complete and before WOULD_BLOCK", () => {
  using writer = RingWriter.create({ slots: 8, slotSize: 8, publishEvery: 4 });
  using reader = new RingReader(writer.buffer);
  for (let i = 0; i < 4; i++) writer.send(Uint8Array.of(i));
  assertEquals(seenBy(reader, 3), [0, 1, 2]); // one frame stays in flight
  for (let i = 4; i < 8; i++) writer.send(Uint8Array.of(i)); // a batch: published
  for (let i = 8; i < 11; i++) writer.send(Uint8Array.of(i)); // 3 of a batch of 4: the ring is full
  assertEquals(writer.credit, 0);
  assertEquals(writer.unpublished, 0, "a full ring publishes at once");
  assertEquals(reader.available, 8);
  assertEquals(writer.send(Uint8Array.of(11)), WOULD_BLOCK);
  assertEquals(seenBy(reader), range(3, 11));
});

Deno.test("RingWriter's waits and close publish what is unpublished", async () => {
  using writer = RingWriter.create({ slots: 16, slotSize: 8, publishEvery: 8 });
  using reader = new RingReader(writer.buffer);
  writer.send(Uint8Array.of(0));
  assertEquals(writer.waitWritable({ timeoutMs: 0 }), "ready");
  assertEquals(reader.available, 1);
  writer.send(Uint8Array.of(1));
  const writable = writer.whenWritable({ timeoutMs: 0 });
  assertEquals(reader.available, 2, "published before the wait");
  assertEquals(await writable, "ready");
  writer.send(Uint8Array.of(2));
  const idle = writer.whenIdle();
  assertEquals(reader.available, 3);
  assertEquals(seenBy(reader), [0, 1, 2]);
  await idle;
  writer.send(Uint8Array.of(3));
  writer.send(Uint8Array.of(4));
  assertEquals(writer.close(), { consumed: 3, unconsumed: 2 });
  assertEquals(seenBy(reader), [3, 4]);
  assertEquals(reader.done, true);
  assertEquals(reader.close(), { consumed: 5, unconsumed: 0 });
});

Deno.test("RingWriter publishes a stream that stopped mid-batch at the end of the event-loop turn", async () => {
  using writer = RingWriter.create({ slots: 128, slotSize: 8, publishEvery: 64 });
  using reader = new RingReader(writer.buffer);
  for (let i = 0; i < 100; i++) writer.send(Uint8Array.of(i));
  assertEquals([reader.available, writer.unpublished], [64, 36]);
  await Promise.resolve(); // the end of this turn
  assertEquals([reader.available, writer.unpublished], [100, 0]);
  assertEquals(seenBy(reader), range(0, 100));
  writer.send(Uint8Array.of(100));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(seenBy(reader), [100]);
});

Deno.test("RingWriter wakes a sleeping reader with every frame sent so far", async () => {
  using writer = RingWriter.create({ slots: 128, slotSize: 8, publishEvery: 64 });
  using reader = new RingReader(writer.buffer);
  for (let i = 0; i < 3; i++) writer.send(Uint8Array.of(i));
  // Nothing published: the reader spins, then sleeps with its waiting flag raised.
  const readable = reader.whenReadable();
  assertEquals(reader.available, 0);
  writer.send(Uint8Array.of(3));
  assertEquals(writer.unpublished, 0, "a sleeping reader gets everything at once");
  assertEquals(reader.available, 4);
  assertEquals(await readable, "ready");
  assertEquals(seenBy(reader), [0, 1, 2, 3]);
  // Awake again: the next frames batch.
  writer.send(Uint8Array.of(4));
  assertEquals(writer.unpublished, 1);
});

Deno.test("RingWriter.takeover() of a batching writer that is still attached gets its unpublished frames published first", async () => {
  const buffer = RingWriter.createBuffer({ slots: 256, slotSize: 8 });
  using reader = new RingReader(buffer);
  const first = new RingWriter(buffer, { publishEvery: 64 });
  for (let i = 0; i < 100; i++) first.send(Uint8Array.of(i));
  assertEquals(first.unpublished, 36);
  using second = await RingWriter.takeover(buffer, first.epoch, { publishEvery: 64 });
  assertEquals(first.closed, true);
  assertEquals(first.close(), { consumed: 0, unconsumed: 100 }, "nothing unpublished");
  assertEquals(second.send(Uint8Array.of(100)), 100, "the sequence goes on");
  second.flush();
  assertEquals(seenBy(reader), range(0, 101));
  assertEquals(second.close(), { consumed: 101, unconsumed: 0 });
});

Deno.test("RingWriter with publishEvery keeps the same figures as one that publishes every frame", () => {
  const figures = (publishEvery: number) => {
    using writer = RingWriter.create({ slots: 64, slotSize: 64, publishEvery });
    using reader = new RingReader(writer.buffer);
    for (let i = 0; i < 1000; i++) {
      const frame = new Uint8Array(1 + (i % 64)).fill(i & 255);
      while (writer.send(frame) === WOULD_BLOCK) seenBy(reader, 5);
      if (i % 7 === 0) seenBy(reader, 3);
    }
    writer.flush();
    seenBy(reader);
    const { framesSent, bytesSent, framesReceived, bytesReceived, inFlight } = writer.stats();
    return { framesSent, bytesSent, framesReceived, bytesReceived, inFlight };
  };
  const perFrame = figures(1);
  assertEquals(perFrame.framesSent, 1000);
  assertEquals(figures(8), perFrame);
  assertEquals(figures(32), perFrame);
});
