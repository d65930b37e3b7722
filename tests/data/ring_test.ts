import { assert, assertEquals, assertRejects, assertStrictEquals, assertThrows } from "@std/assert";
import { ClosedError } from "../../src/errors.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { RingReader } from "../../src/data/ring_reader.ts";
import { RingWriter } from "../../src/data/ring_writer.ts";
import { WOULD_BLOCK } from "../../src/data/backpressure.ts";
import { READER_WAITING, WRITER_WAITING } from "../../src/data/_ring_layout.ts";
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
  assertEquals(stats.peakUtilizationRatio, 1);
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
  assertEquals(writer.stats().averageUtilizationRatio, 0.75);
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
  const report = writer.close();
  assertEquals(report, { consumed: 0, unconsumed: 2 });
  assertThrows(() => writer.send(Uint8Array.of(3)), ClosedError, "the RingWriter is closed");
  assertEquals(reader.done, false);
  assertEquals(reader.wait(), "ready");
  assertEquals(reader.poll(() => {}), 2);
  assertEquals(reader.done, true);
  assertEquals(reader.wait(), "closed");
  assertEquals(reader.close(), { consumed: 2, unconsumed: 0 });
  assertStrictEquals(writer.close(), report, "a second close returns the same report");
  assertEquals(writer.closed, true);
});

Deno.test("RingWriter.whenIdle() then close() gives the exact final report", async () => {
  const writer = RingWriter.create({ slots: 4, slotSize: 8 });
  const reader = new RingReader(writer.buffer);
  await writer.whenIdle(); // nothing in flight: at once
  writer.send(Uint8Array.of(1));
  writer.send(Uint8Array.of(2));
  const idle = writer.whenIdle();
  reader.poll(() => {}, 1);
  setTimeout(() => reader.poll(() => {}), 0);
  await idle;
  assertEquals(writer.close(), { consumed: 2, unconsumed: 0 });
  assertEquals(reader.wait(), "closed");
});

Deno.test("RingWriter.whenIdle() resolves when the reader closes with frames left", async () => {
  const writer = RingWriter.create({ slots: 4, slotSize: 8 });
  const reader = new RingReader(writer.buffer);
  writer.send(Uint8Array.of(1));
  const idle = writer.whenIdle();
  setTimeout(() => reader.close(), 0);
  await idle;
  assertEquals(writer.close(), { consumed: 0, unconsumed: 1 });
});

Deno.test("RingReader and RingWriter throw ClosedError on use after their own close", async () => {
  const writer = RingWriter.create({ slots: 2, slotSize: 8 });
  const reader = new RingReader(writer.buffer);
  writer.send(Uint8Array.of(1));
  writer[Symbol.dispose]();
  assertEquals(await writer.whenWritable(), "closed", "even with a free slot");
  assertEquals(writer.waitWritable(), "closed");
  reader[Symbol.dispose]();
  assertEquals(reader.closed, true);
  const error = assertThrows(
    () => reader.poll(() => {}),
    ClosedError,
    "Cannot poll the ring as the RingReader is closed",
  );
  assertEquals(error.code, "E_CLOSED");
  assertEquals(reader.wait(), "closed", "even with a frame waiting");
  assertEquals(await reader.whenReadable(), "closed");
  assertEquals(reader.close(), { consumed: 0, unconsumed: 1 });
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
  await writer.whenIdle();
  assertEquals(writer.close(), { consumed: 1, unconsumed: 3 });
});

Deno.test("Ring waits end with timed-out when nothing arrives", async () => {
  const writer = RingWriter.create({ slots: 2, slotSize: 8 });
  const reader = new RingReader(writer.buffer);
  assertEquals(reader.wait({ timeoutMs: 0 }), "timed-out");
  assertEquals(await reader.whenReadable({ timeoutMs: 1 }), "timed-out");
  writer.send(Uint8Array.of(1));
  assertEquals(await reader.whenReadable(), "ready");
  assertEquals(reader.wait({ timeoutMs: 0 }), "ready");
  writer.send(Uint8Array.of(2));
  assertEquals(writer.waitWritable({ timeoutMs: 0 }), "timed-out");
  assertEquals(await writer.whenWritable({ timeoutMs: 1 }), "timed-out");
  const header = new Int32Array(writer.buffer);
  assertEquals(header[WRITER_WAITING], 0, "the flag is lowered once no wait sleeps");
  assertEquals(header[READER_WAITING], 0);
});

Deno.test("Ring waits reject with the signal's reason when aborted", async () => {
  const writer = RingWriter.create({ slots: 2, slotSize: 8 });
  const reader = new RingReader(writer.buffer);
  const reason = new Error("shutting down");
  await assertRejects(
    () => reader.whenReadable({ signal: AbortSignal.abort(reason) }),
    Error,
    "shutting down",
  );
  assertThrows(() => reader.wait({ signal: AbortSignal.abort(reason) }), Error, "shutting down");
  const controller = new AbortController();
  const waiting = reader.whenReadable({ signal: controller.signal });
  setTimeout(() => controller.abort(reason), 0);
  const error = await waiting.then(() => undefined, (e: unknown) => e);
  assertStrictEquals(error, reason);
  writer.send(Uint8Array.of(1));
  writer.send(Uint8Array.of(2));
  await assertRejects(
    () => writer.whenWritable({ signal: AbortSignal.abort(reason) }),
    Error,
    "shutting down",
  );
  assertEquals(new Int32Array(writer.buffer)[READER_WAITING], 0);
});

Deno.test("Ring waits on one side: a wait that ends does not silence another that sleeps", async () => {
  const writer = RingWriter.create({ slots: 2, slotSize: 8 });
  const reader = new RingReader(writer.buffer);
  writer.send(Uint8Array.of(1));
  writer.send(Uint8Array.of(2));
  const header = new Int32Array(writer.buffer);
  const credit = writer.whenWritable();
  const idle = writer.whenIdle();
  assertEquals(await writer.whenWritable({ timeoutMs: 1 }), "timed-out");
  assertEquals(header[WRITER_WAITING], 1, "two waits still sleep: the reader must signal");
  reader.poll(() => {}, 1);
  assertEquals(await credit, "ready");
  reader.poll(() => {});
  await idle;
  assertEquals(header[WRITER_WAITING], 0);
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
  const buffer = RingWriter.createBuffer({ slots: 2, slotSize: 8 });
  assertThrows(
    () => new RingWriter(buffer, { name: "" }),
    TypeError,
    "Cannot attach a RingWriter as 'name' must be a non-empty string",
  );
  new RingWriter(buffer, { name: "ok" }); // the failed attach left the ring free
  assertThrows(() => writer.send(new Uint8Array(17)), RangeError, "a slot holds 16 bytes");
  assertThrows(
    () => writer.send("x" as unknown as Uint8Array),
    TypeError,
    "'bytes' must be a Uint8Array",
  );
  assertThrows(
    () => writer.waitWritable({ timeoutMs: -1 }),
    RangeError,
    "Cannot wait for credit as 'timeoutMs' must be >= 0: current value is -1",
  );
  assertThrows(() => writer.whenWritable({ timeoutMs: NaN }), RangeError, "'timeoutMs'");
});

Deno.test("RingWriter exports chronetix_ring_* metrics until it closes", () => {
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
      'chronetix_ring_utilization_ratio{ring="imu"} 0.25',
      'chronetix_ring_utilization_peak_ratio{ring="imu"} 0.5',
    ]
  ) assert(text.includes(line), `${line} not in:\n${text}`);
  writer.close();
  reader.poll(() => {});
  const after = metrics.exposeText();
  assert(after.includes('chronetix_ring_credit{ring="imu"} 3'), "the value at close stays");
  assert(after.includes('chronetix_ring_frames_received_total{ring="imu"} 1'), after);
});
