import { assert, assertEquals, assertRejects, assertStrictEquals, assertThrows } from "@std/assert";
import { type ChronetixError, ClosedError } from "../../src/errors.ts";
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
  assertThrows(() => new RingReader(writer.buffer), TypeError, "already has a reader");
  assertThrows(() => new RingWriter(writer.buffer), TypeError, "already has a writer");
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
  assertThrows(
    () => writer.send(new Uint8Array(17)),
    RangeError,
    "'bytes' is longer than a slot (16 bytes)",
  );
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

Deno.test("RingReader.poll() rejects a 'max' that is not a whole count, and consumes nothing", () => {
  using writer = RingWriter.create({ slots: 4, slotSize: 8 });
  using reader = new RingReader(writer.buffer);
  writer.send(Uint8Array.of(1));
  for (const max of [1e-300, 0.5, -1, NaN, -Infinity]) {
    assertThrows(() => reader.poll(() => {}, max), RangeError, "'max'");
  }
  assertThrows(() => reader.poll(() => {}, "1" as unknown as number), TypeError, "'max'");
  assertEquals(reader.poll(() => {}, 0), 0);
  assertEquals(reader.available, 1, "nothing was consumed");
  assertEquals(reader.poll(() => {}, 1), 1);
});

Deno.test("RingWriter.close() counts exactly the frames a consumer finished, mid-poll", () => {
  const writer = RingWriter.create({ slots: 256, slotSize: 8 });
  using reader = new RingReader(writer.buffer);
  for (let i = 0; i < 200; i++) writer.send(Uint8Array.of(i));
  let report: { consumed: number; unconsumed: number } | undefined;
  reader.poll((_slot, _length, seq) => {
    // The consumer hangs in frame 100: the writer closes while it is inside.
    if (seq === 100) report = writer.close();
  });
  assertEquals(report, { consumed: 100, unconsumed: 100 });
});

Deno.test("Shared rings reject a buffer too small for the layout its header claims, claiming nothing", () => {
  const real = RingWriter.createBuffer({ slots: 1024, slotSize: 1024 });
  for (const size of [1024, 8192]) {
    const small = new SharedArrayBuffer(size);
    new Uint8Array(small).set(new Uint8Array(real, 0, 512));
    for (let attempt = 0; attempt < 2; attempt++) {
      assertThrows(() => new RingWriter(small), TypeError, "'buffer'");
      assertThrows(() => new RingReader(small), TypeError, "'buffer'");
    }
  }
});

Deno.test("Ring endpoints reject null and hostile arguments with errors naming them, claiming nothing", async (t) => {
  const buffer = RingWriter.createBuffer({ slots: 4, slotSize: 16 });
  const cases: [string, () => unknown, ErrorConstructor, string][] = [
    ["create null", () => RingWriter.create(null as never), TypeError, "'options'"],
    ["createBuffer 5", () => RingWriter.createBuffer(5 as never), TypeError, "'options'"],
    ["slots Symbol", () => RingWriter.create({ slots: Symbol() as never }), TypeError, "'slots'"],
    [
      "slotSize BigInt",
      () => RingWriter.create({ slotSize: 8n as never }),
      TypeError,
      "'slotSize'",
    ],
    ["writer options null", () => new RingWriter(buffer, null as never), TypeError, "'options'"],
    [
      "writer metrics 5",
      () => new RingWriter(buffer, { metrics: 5 as never }),
      TypeError,
      "'metrics'",
    ],
    ["writer buffer null", () => new RingWriter(null as never), TypeError, "'buffer'"],
    ["writer buffer Symbol", () => new RingWriter(Symbol() as never), TypeError, "'buffer'"],
    ["reader buffer 5", () => new RingReader(5 as never), TypeError, "'buffer'"],
    ["reader options null", () => new RingReader(buffer, null as never), TypeError, "'options'"],
    [
      "reader logger {}",
      () => new RingReader(buffer, { logger: {} as never }),
      TypeError,
      "'logger'",
    ],
  ];
  for (const [name, make, type, text] of cases) {
    await t.step(name, () => void assertThrows(make, type, text));
  }
  using writer = new RingWriter(buffer);
  using reader = new RingReader(buffer);
  const methods: [string, () => unknown, ErrorConstructor, string][] = [
    ["send null", () => writer.send(null as never), TypeError, "'bytes'"],
    ["send Symbol", () => writer.send(Symbol() as never), TypeError, "'bytes'"],
    ["send fake", () => writer.send(Object.create(Uint8Array.prototype)), TypeError, "'bytes'"],
    ["whenWritable null", () => writer.whenWritable(null as never), TypeError, "'options'"],
    ["waitWritable 5", () => writer.waitWritable(5 as never), TypeError, "'options'"],
    ["poll null", () => reader.poll(null as never), TypeError, "'callback'"],
    ["wait null", () => reader.wait(null as never), TypeError, "'options'"],
    [
      "whenReadable signal",
      () => reader.whenReadable({ signal: 5 as never }),
      TypeError,
      "'signal'",
    ],
  ];
  for (const [name, call, type, text] of methods) {
    await t.step(name, () => void assertThrows(call, type, text));
  }
  const detached = new Uint8Array(8);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  assertThrows(() => writer.send(detached), TypeError, "'bytes'");
  class Liar extends Uint8Array {
    override get length(): number {
      return 1;
    }
  }
  assertThrows(
    () => writer.send(new Liar(17)),
    RangeError,
    "'bytes' is longer than a slot (16 bytes)",
  );
  assertEquals(writer.stats().framesSent, 0, "no rejected call published a frame");
  assertEquals(writer.send(new Liar(3)), 0);
  assertEquals(reader.poll((_slot, length) => assertEquals(length, 3)), 1);
});

Deno.test("RingReader.takeover() replaces a closed reader and continues with the first frame not consumed", async () => {
  using writer = RingWriter.create({ slots: 8, slotSize: 8 });
  const first = new RingReader(writer.buffer);
  assertEquals(first.epoch, 1);
  for (let i = 0; i < 6; i++) writer.send(Uint8Array.of(i));
  first.poll(() => {}, 2);
  assertEquals(first.close(), { consumed: 2, unconsumed: 4 });
  assertThrows(() => writer.send(Uint8Array.of(9)), ClosedError, "the ring's reader is closed");
  assertThrows(() => new RingReader(writer.buffer), TypeError, "RingReader.takeover()");
  await assertRejects(() => RingReader.takeover(writer.buffer, 7), RangeError, "'epoch'");
  using second = await RingReader.takeover(writer.buffer, first.epoch);
  assertEquals(second.epoch, 2);
  const seen: number[] = [];
  second.poll((slot, _length, seq) => seen.push(slot[0]!, seq));
  assertEquals(seen, [2, 2, 3, 3, 4, 4, 5, 5]);
  assertEquals(writer.send(Uint8Array.of(6)), 6, "the writer may send again");
  const stats = writer.stats();
  assertEquals(stats.readerTakeovers, 1);
  assertEquals(stats.readerEpoch, 2);
  assertEquals(stats.readerState, "attached");
  assertEquals(stats.framesReceived, 6);
});

Deno.test("RingReader.takeover() asks an attached reader to stop and waits for it", async () => {
  using writer = RingWriter.create({ slots: 8, slotSize: 8 });
  const old = new RingReader(writer.buffer);
  for (let i = 0; i < 4; i++) writer.send(Uint8Array.of(i));
  old.poll(() => {}, 1);
  // The old reader is alive on this thread: its beat loop acknowledges the eviction.
  using replacement = await RingReader.takeover(writer.buffer, old.epoch);
  assertEquals(old.closed, true);
  assertEquals(old.close(), { consumed: 1, unconsumed: 3 });
  assertThrows(() => old.poll(() => {}), ClosedError, "the RingReader is closed");
  assertEquals(old.wait({ timeoutMs: 0 }), "closed");
  const seen: number[] = [];
  replacement.poll((slot) => seen.push(slot[0]!));
  assertEquals(seen, [1, 2, 3]);
  assertEquals(writer.stats().readerDeaths, 0, "it stopped by itself, it did not die");
});

Deno.test("RingReader.poll() stops when its reader is asked to stop inside a callback", async () => {
  using writer = RingWriter.create({ slots: 8, slotSize: 8 });
  const old = new RingReader(writer.buffer);
  for (let i = 0; i < 5; i++) writer.send(Uint8Array.of(i));
  let taking: Promise<RingReader> | undefined;
  const seen: number[] = [];
  const consumed = old.poll((slot) => {
    seen.push(slot[0]!);
    taking ??= RingReader.takeover(writer.buffer, old.epoch);
  });
  assertEquals(consumed, 1, "the frame in hand counts, the rest are left to the replacement");
  assertEquals(seen, [0]);
  using replacement = await taking!;
  replacement.poll((slot) => seen.push(slot[0]!));
  assertEquals(seen, [0, 1, 2, 3, 4]);
});

Deno.test("RingReader.takeover() lets only one of two racing takeovers win", async () => {
  using writer = RingWriter.create({ slots: 4, slotSize: 8 });
  const old = new RingReader(writer.buffer);
  old.close();
  const results = await Promise.allSettled([
    RingReader.takeover(writer.buffer, 1),
    RingReader.takeover(writer.buffer, 1),
  ]);
  const won = results.filter((r) => r.status === "fulfilled");
  assertEquals(won.length, 1);
  const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
  assertEquals((lost.reason as ChronetixError).code, "E_TAKEN_OVER");
  (won[0] as PromiseFulfilledResult<RingReader>).value.close();
});

Deno.test("RingWriter.takeover() replaces a closed writer; the reader gets every frame once", async () => {
  const buffer = RingWriter.createBuffer({ slots: 4, slotSize: 8 });
  using reader = new RingReader(buffer);
  const first = new RingWriter(buffer);
  first.send(Uint8Array.of(1));
  first.close();
  assertEquals(reader.stats().writerState, "closed");
  await assertRejects(
    () => RingWriter.takeover(buffer, 1, { name: "" }),
    TypeError,
    "'name'",
  );
  using second = await RingWriter.takeover(buffer, first.epoch);
  assertEquals(second.send(Uint8Array.of(2)), 1);
  const seen: number[] = [];
  reader.poll((slot, _length, seq) => seen.push(slot[0]!, seq));
  assertEquals(seen, [1, 0, 2, 1]);
  assertEquals(reader.stats().writerTakeovers, 1);
  assertThrows(() => first.send(Uint8Array.of(3)), ClosedError, "the RingWriter is closed");
});

Deno.test("RingWriter.create() rejects a bad livenessTimeoutMs and records a good one", () => {
  assertThrows(
    () => RingWriter.create({ livenessTimeoutMs: 5 }),
    RangeError,
    "'livenessTimeoutMs' must be an integer in [10,",
  );
  assertThrows(
    () => RingWriter.create({ livenessTimeoutMs: NaN }),
    RangeError,
    "'livenessTimeoutMs'",
  );
  using writer = RingWriter.create({ slots: 2, slotSize: 8, livenessTimeoutMs: 250 });
  assertEquals(writer.stats().livenessTimeoutMs, 250);
  using never = RingWriter.create({ slots: 2, slotSize: 8, livenessTimeoutMs: Infinity });
  assertEquals(never.stats().livenessTimeoutMs, Infinity);
  assertEquals(RingWriter.create({ slots: 2, slotSize: 8 }).stats().livenessTimeoutMs, 5000);
});

Deno.test("RingReader.poll() counts a callback's rejected promise as a consumer error", async () => {
  using writer = RingWriter.create({ slots: 4, slotSize: 8 });
  const lines: string[] = [];
  const log = (m: string) => void lines.push(m);
  using reader = new RingReader(writer.buffer, {
    name: "async",
    logger: { error: log, warn: log, info: log },
  });
  writer.send(Uint8Array.of(1));
  writer.send(Uint8Array.of(2));
  const seen: number[] = [];
  assertEquals(
    reader.poll(async (slot) => {
      seen.push(slot[0]!);
      await Promise.resolve();
      throw new Error("async consumer bug");
    }),
    2,
  );
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(seen, [1, 2]);
  assertEquals(reader.stats().consumerErrors, 2);
  assertEquals(reader.stats().framesReceived, 2);
  assertEquals(lines.length, 2, "errors 1 and 2 are logged");
  assert(lines[0]!.startsWith('Frame callback of RingReader "async" rejected (1 consumer error'));
});

Deno.test("RingWriter.whenIdle() after close() still waits for the reader to drain", async () => {
  const writer = RingWriter.create({ slots: 4, slotSize: 8 });
  using reader = new RingReader(writer.buffer);
  writer.send(Uint8Array.of(1));
  writer.send(Uint8Array.of(2));
  assertEquals(writer.close(), { consumed: 0, unconsumed: 2 });
  let idle = false;
  const waiting = writer.whenIdle().then(() => idle = true);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assertEquals(idle, false, "two frames are still in the ring");
  reader.poll(() => {});
  await waiting;
  assertEquals(reader.done, true);
});
