import { assert, assertEquals, assertThrows } from "@std/assert";
import { ClosedError } from "../../src/errors.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { RingReader } from "../../src/data/ring_reader.ts";
import { RingWriter } from "../../src/data/ring_writer.ts";
import { WOULD_BLOCK } from "../../src/data/data_port.ts";
import { checkFrame, writeFrame } from "./_fixtures/ring_frames.ts";

Deno.test("RingWriter and RingReader keep order and content across many wrap-arounds", () => {
  const writer = RingWriter.create({ slots: 8, slotSize: 1024 });
  const reader = new RingReader(writer.buffer);
  const frame = new Uint8Array(1024);
  let sent = 0;
  let received = 0;
  const problems: string[] = [];
  for (let round = 0; round < 500; round++) {
    // Send a varying burst (up to full), then consume a varying part of it.
    const burst = 1 + (round * 5) % 8;
    for (let i = 0; i < burst; i++) {
      const length = writeFrame(frame, sent);
      const seq = writer.send(frame.subarray(0, length));
      if (seq === WOULD_BLOCK) break;
      assertEquals(seq, sent);
      sent++;
    }
    reader.poll((slot, length, seq) => {
      const problem = checkFrame(slot, length, received);
      if (problem !== undefined) problems.push(problem);
      assertEquals(seq, received);
      received++;
    }, 1 + (round * 3) % 8);
  }
  reader.poll(() => received++);
  assertEquals(problems, []);
  assertEquals(received, sent);
  const stats = writer.stats();
  assertEquals(stats.framesSent, sent);
  assertEquals(stats.framesReceived, sent);
  assertEquals(stats.inFlight, 0);
  assertEquals(stats.credit, 8);
  assert(stats.wouldBlock > 0, "some bursts hit a full ring");
  assertEquals(stats.minCredit, 0);
  assertEquals(stats.peakUtilizationPct, 100);
  assertEquals(reader.stats(), stats, "both ends see the same figures");
});

Deno.test("RingWriter.send() returns WOULD_BLOCK when full and counts it", () => {
  const writer = RingWriter.create({ slots: 2, slotSize: 8 });
  const reader = new RingReader(writer.buffer);
  assertEquals(writer.send(Uint8Array.of(1)), 0);
  assertEquals(writer.send(Uint8Array.of(2)), 1);
  assertEquals(writer.credit, 0);
  assertEquals(writer.send(Uint8Array.of(3)), WOULD_BLOCK);
  assertEquals(writer.stats().wouldBlock, 1);
  // Utilization at the two sends: 1 of 2, then 2 of 2.
  assertEquals(writer.stats().avgUtilizationPct, 75);
  assertEquals(reader.poll(() => {}, 1), 1);
  assertEquals(writer.credit, 1);
  assertEquals(writer.send(Uint8Array.of(3)), 2);
});

Deno.test("RingReader.poll() counts a throwing callback's frame as consumed and keeps the rest", () => {
  const writer = RingWriter.create({ slots: 4, slotSize: 8 });
  const reader = new RingReader(writer.buffer);
  for (let i = 0; i < 3; i++) writer.send(Uint8Array.of(i));
  assertThrows(
    () =>
      reader.poll((slot) => {
        if (slot[0] === 1) throw new Error("consumer bug");
      }),
    Error,
    "consumer bug",
  );
  assertEquals(reader.stats().consumerErrors, 1);
  assertEquals(reader.stats().framesReceived, 2);
  const rest: number[] = [];
  reader.poll((slot) => rest.push(slot[0]!));
  assertEquals(rest, [2]);
});

Deno.test("RingWriter.close() lets the reader drain, then the reader sees the close", () => {
  const writer = RingWriter.create({ slots: 4, slotSize: 8 });
  const reader = new RingReader(writer.buffer);
  writer.send(Uint8Array.of(1));
  writer.send(Uint8Array.of(2));
  assertEquals(writer.close(), { consumed: 0, unconsumed: 2 });
  assertThrows(() => writer.send(Uint8Array.of(3)), ClosedError, "the RingWriter is closed");
  assertEquals(reader.done, false);
  assertEquals(reader.wait(), "ok");
  assertEquals(reader.poll(() => {}), 2);
  assertEquals(reader.done, true);
  assertEquals(reader.wait(), "closed");
  assertEquals(reader.close(), { consumed: 2, unconsumed: 0 });
});

Deno.test("RingReader.close() reports the frames it leaves and makes the writer stop", async () => {
  const writer = RingWriter.create({ slots: 4, slotSize: 8 });
  const reader = new RingReader(writer.buffer);
  for (let i = 0; i < 4; i++) writer.send(Uint8Array.of(i));
  reader.poll(() => {}, 1);
  assertEquals(reader.close(), { consumed: 1, unconsumed: 3 });
  assertEquals(writer.stats().discarded, 3);
  assertThrows(() => writer.send(Uint8Array.of(9)), ClosedError, "the ring's reader is closed");
  assertEquals(await writer.whenWritable(), "closed");
  assertEquals(writer.waitWritable(), "closed");
  assertEquals(await writer.drain(), { consumed: 1, unconsumed: 3 });
});

Deno.test("RingReader waits time out when nothing arrives", async () => {
  const writer = RingWriter.create({ slots: 2, slotSize: 8 });
  const reader = new RingReader(writer.buffer);
  assertEquals(reader.wait(0), "timed-out");
  assertEquals(await reader.whenReadable(1), "timed-out");
  writer.send(Uint8Array.of(1));
  assertEquals(await reader.whenReadable(), "ok");
  writer.send(Uint8Array.of(2));
  assertEquals(writer.waitWritable(0), "timed-out");
  assertEquals(await writer.whenWritable(1), "timed-out");
});

Deno.test("Shared rings reject bad buffers, second endpoints, bad sizes and frames", () => {
  const writer = RingWriter.create({ slots: 4, slotSize: 16 });
  new RingReader(writer.buffer);
  assertThrows(() => new RingReader(writer.buffer), TypeError, "the ring already has a reader");
  assertThrows(() => new RingWriter(writer.buffer), TypeError, "the ring already has a writer");
  assertThrows(
    () => new RingReader(new SharedArrayBuffer(1024)),
    TypeError,
    "'buffer' is not a ring",
  );
  assertThrows(
    () => new RingReader(new ArrayBuffer(1024) as unknown as SharedArrayBuffer),
    TypeError,
    "must be the SharedArrayBuffer of a ring",
  );
  assertThrows(() => RingWriter.create({ slots: 3 }), RangeError, "'slots' must be a power of two");
  assertThrows(
    () => RingWriter.create({ slots: 1 }),
    RangeError,
    "'slots' must be an integer in [2, 1048576]",
  );
  assertThrows(
    () => RingWriter.create({ slotSize: 12 }),
    RangeError,
    "'slotSize' must be a multiple of 8",
  );
  assertThrows(
    () => RingWriter.create({ slots: 1 << 20, slotSize: 1 << 16 }),
    RangeError,
    "the limit is 2 GiB",
  );
  assertThrows(() => writer.send(new Uint8Array(17)), RangeError, "a slot holds 16 bytes");
  assertThrows(
    () => writer.send("x" as unknown as Uint8Array),
    TypeError,
    "'bytes' must be a Uint8Array",
  );
  assertThrows(() => writer.waitWritable(-1), RangeError, "'timeoutMs' must be >= 0");
});

Deno.test("RingWriter exports chronetix_ring_* metrics", () => {
  const metrics = new MetricsRegistry();
  const writer = RingWriter.create({ slots: 4, slotSize: 8, metrics, name: "imu" });
  const reader = new RingReader(writer.buffer);
  writer.send(Uint8Array.of(1, 2, 3));
  writer.send(Uint8Array.of(4));
  reader.poll(() => {}, 1);
  const text = metrics.exposeText();
  for (
    const line of [
      'chronetix_ring_frames_sent_total{ring="imu"} 2',
      'chronetix_ring_sent_bytes_total{ring="imu"} 4',
      'chronetix_ring_frames_received_total{ring="imu"} 1',
      'chronetix_ring_credit{ring="imu"} 3',
      'chronetix_ring_min_credit{ring="imu"} 2',
      'chronetix_ring_utilization_peak_ratio{ring="imu"} 0.5',
    ]
  ) assert(text.includes(line), `${line} not in:\n${text}`);
  writer.releaseMetrics();
  assertEquals(metrics.exposeText().includes('chronetix_ring_credit{ring="imu"} 3'), true);
});
