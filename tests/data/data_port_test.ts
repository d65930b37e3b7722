import { assert, assertEquals, assertRejects, assertStrictEquals, assertThrows } from "@std/assert";
import { ClosedError } from "../../src/errors.ts";
import { WOULD_BLOCK } from "../../src/data/backpressure.ts";
import { DataPort, type FrameMeta } from "../../src/data/data_port.ts";
import type { Logger } from "../../src/logger.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { SlabAllocator } from "../../src/data/slab_allocator.ts";

function sendOrFail(port: DataPort, bytes: Uint8Array): FrameMeta {
  const meta = port.send(bytes);
  if (meta === WOULD_BLOCK) throw new Error("Cannot send in the test as the port would block");
  return meta;
}

function receiveOrFail(port: DataPort): FrameMeta {
  const meta = port.receive();
  if (meta === WOULD_BLOCK) throw new Error("Cannot receive in the test as no frame is queued");
  return meta;
}

/** Whether a promise has settled, checked after pending microtasks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => done = true, () => done = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  return done;
}

Deno.test("DataPort.send() spends credit and returns WOULD_BLOCK when it is gone", () => {
  using port = new DataPort({ credit: 4 });
  const metas = [1, 2, 3, 4].map((n) => sendOrFail(port, new Uint8Array(n).fill(n)));
  assertEquals(port.credit, 0);
  assertEquals(port.writable, false);
  assertEquals(port.send(Uint8Array.of(5)), WOULD_BLOCK);
  assertEquals(port.send(Uint8Array.of(5)), WOULD_BLOCK);
  const stats = port.stats();
  assertEquals(stats.framesSent, 4);
  assertEquals(stats.bytesSent, 1 + 2 + 3 + 4);
  assertEquals(stats.wouldBlockCredit, 2);
  assertEquals(stats.minCredit, 0);
  assertEquals(stats.unreceived, 4);
  assertEquals(stats.utilizationRatio, 1);
  assertEquals(stats.peakUtilizationRatio, 1);
  // In flight at each send: 1, 2, 3, 4 of 4.
  assertEquals(stats.averageUtilizationRatio, (1 + 2 + 3 + 4) / 4 / 4);
  for (const [i, expected] of metas.entries()) {
    const meta = receiveOrFail(port);
    assertEquals(meta, expected, "frames come out in order");
    assertEquals([...port.view(meta)], new Array(i + 1).fill(i + 1));
    assertEquals(port.lengthOf(meta), i + 1);
  }
  assertEquals(port.receive(), WOULD_BLOCK);
  assertEquals(port.stats().unrecycled, 4);
  for (const meta of metas) port.recycle(meta);
  assertEquals(port.stats().framesRecycled, 4);
  assertEquals(port.credit, 4);
});

Deno.test("DataPort becomes writable when credit rises past the low watermark", async () => {
  using port = new DataPort({ credit: 8, lowWatermark: 2 });
  for (let i = 0; i < 8; i++) sendOrFail(port, Uint8Array.of(i));
  const writable = port.whenWritable();
  const recycleOne = () => port.recycle(receiveOrFail(port));
  recycleOne();
  recycleOne();
  assertEquals(port.credit, 2);
  assertEquals(port.writable, false, "credit 2 is not past the low watermark 2");
  assertEquals(await settled(writable), false);
  recycleOne();
  assertEquals(port.writable, true);
  assertEquals(await writable, "ready");
  assert(port.send(Uint8Array.of(9)) !== WOULD_BLOCK);
});

Deno.test("DataPort.recycle() rejects a frame not received, recycled twice or of another port", () => {
  const allocator = new SlabAllocator({ slabs: 1, slabSize: 4096 });
  using a = new DataPort({ credit: 4, allocator });
  using b = new DataPort({ credit: 4, allocator });
  const queued = sendOrFail(a, Uint8Array.of(1));
  assertThrows(
    () => a.recycle(queued),
    RangeError,
    "Cannot recycle frame as 'meta' has not been received yet",
  );
  const meta = receiveOrFail(a);
  assertThrows(() => b.recycle(meta), RangeError, "'meta' is not a frame in flight on this port");
  a.recycle(meta);
  assertThrows(
    () => a.recycle(meta),
    RangeError,
    "Cannot recycle frame as 'meta' was already recycled",
  );
  assertThrows(() => a.recycle(12345 as FrameMeta), RangeError, "not a frame in flight");
  assertEquals(a.credit, 4, "rejected recycles return no credit");
});

Deno.test("DataPort.send() returns WOULD_BLOCK when the allocator is full, and rejects bad frames", () => {
  const allocator = new SlabAllocator({ slabs: 1, slabSize: 1024, sizeClasses: [256, 1024] });
  using port = new DataPort({ credit: 16, allocator });
  for (let i = 0; i < 4; i++) sendOrFail(port, new Uint8Array(200));
  assertEquals(port.send(new Uint8Array(200)), WOULD_BLOCK);
  assertEquals(port.stats().wouldBlockMemory, 1);
  assertEquals(port.stats().wouldBlockCredit, 0);
  assertEquals(port.writable, false);
  assertThrows(
    () => port.send(new Uint8Array(1025)),
    RangeError,
    "Cannot send a frame as 'bytes' is longer than the largest block (1024 bytes): current length is 1025",
  );
  assertThrows(
    () => port.send([1, 2] as unknown as Uint8Array),
    TypeError,
    "'bytes' must be a Uint8Array",
  );
  port.recycle(receiveOrFail(port));
  const empty = sendOrFail(port, new Uint8Array(0));
  port.recycle(receiveOrFail(port));
  port.recycle(receiveOrFail(port));
  assertEquals(port.lengthOf(receiveOrFail(port)), 200);
  assertEquals(port.lengthOf(receiveOrFail(port)), 0, "zero-length frames travel too");
  void empty;
});

Deno.test("DataPort.onFrame() delivers in order, isolates a throwing consumer, allows one consumer", async () => {
  const logged: string[] = [];
  const log = (m: string) => void logged.push(m);
  using port = new DataPort({ credit: 4, logger: { error: log, warn: log, info: log } });
  const seen: number[] = [];
  using _consumer = port.onFrame((meta, view) => {
    seen.push(view[0]!);
    if (view[0] === 3) throw new Error("consumer bug");
    port.recycle(meta);
  });
  assertThrows(() => port.onFrame(() => {}), TypeError, "already has one");
  for (let i = 0; i < 10; i++) {
    while (port.send(Uint8Array.of(i)) === WOULD_BLOCK) await port.whenWritable();
  }
  await port.whenIdle();
  assertEquals(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assertEquals(port.stats().consumerErrors, 1);
  assertEquals(port.credit, 4, "the throwing consumer's frame was recycled");
  assertEquals(logged.length, 1);
});

Deno.test("DataPort.onFrame() picks up frames sent before it and stops when disposed", async () => {
  using port = new DataPort({ credit: 4 });
  sendOrFail(port, Uint8Array.of(1));
  const seen: number[] = [];
  const consumer = port.onFrame((meta, view) => {
    seen.push(view[0]!);
    port.recycle(meta);
  });
  await port.whenIdle();
  consumer[Symbol.dispose]();
  sendOrFail(port, Uint8Array.of(2));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(seen, [1]);
  assertEquals(port.stats().unreceived, 1);
});

Deno.test("DataPort.close() recycles unreceived frames, reports them and resolves waits with closed", async () => {
  const port = new DataPort({ credit: 2 });
  sendOrFail(port, Uint8Array.of(1));
  const held = receiveOrFail(port); // held by the consumer, not recycled yet
  sendOrFail(port, Uint8Array.of(2));
  const waiting = port.whenWritable();
  const waitingWithTimeout = port.whenWritable({ timeoutMs: 60_000 });
  const idle = port.whenIdle();
  const report = port.close();
  assertEquals(report, { unreceived: 1, unrecycled: 1 });
  assertEquals(await waiting, "closed");
  assertEquals(await waitingWithTimeout, "closed", "its timer is cleared (ops sanitizer)");
  await idle;
  assertEquals(await port.whenWritable(), "closed");
  assertEquals(port.closed, true);
  assertEquals(port.stats().unreceived, 0);
  assertEquals(port.allocator.stats().blocksInUse, 1);
  assertEquals([...port.view(held)], [1], "a held frame stays readable");
  port.recycle(held);
  assertEquals(port.allocator.stats().blocksInUse, 0);
  assertStrictEquals(port.close(), report, "a second close returns the same report");
  port[Symbol.dispose]();
  assertStrictEquals(port.close(), report);
});

Deno.test("DataPort throws ClosedError on use after close", () => {
  const port = new DataPort({ credit: 2 });
  port.close();
  assertThrows(
    () => port.send(Uint8Array.of(3)),
    ClosedError,
    "Cannot send a frame as the DataPort is closed",
  );
  const error = assertThrows(
    () => port.receive(),
    ClosedError,
    "Cannot receive a frame as the DataPort is closed",
  );
  assertEquals(error.code, "E_CLOSED");
  assertThrows(
    () => port.onFrame(() => {}),
    ClosedError,
    "Cannot register a frame consumer as the DataPort is closed",
  );
});

Deno.test("DataPort.close() closes the allocator it created, not one it was given", () => {
  const own = new DataPort({ credit: 2 });
  own.close();
  assertEquals(own.allocator.closed, true);
  const allocator = new SlabAllocator({ slabs: 1, slabSize: 4096 });
  const shared = new DataPort({ credit: 2, allocator });
  shared.close();
  assertEquals(allocator.closed, false);
  allocator.close();
});

Deno.test("DataPort.whenWritable() ends with timed-out when the timeout passes first", async () => {
  using port = new DataPort({ credit: 1 });
  assertEquals(await port.whenWritable({ timeoutMs: 0 }), "ready", "writable now");
  const meta = sendOrFail(port, Uint8Array.of(1));
  assertEquals(await port.whenWritable({ timeoutMs: 0 }), "timed-out");
  const untimed = port.whenWritable();
  assertEquals(await port.whenWritable({ timeoutMs: 1 }), "timed-out");
  assertEquals(await settled(untimed), false, "a timeout ends only its own wait");
  assertEquals(receiveOrFail(port), meta);
  port.recycle(meta);
  assertEquals(await untimed, "ready");
  assertThrows(
    () => port.whenWritable({ timeoutMs: -1 }),
    RangeError,
    "Cannot wait for credit as 'timeoutMs' must be >= 0: current value is -1",
  );
  assertThrows(
    () => port.whenWritable({ signal: {} as AbortSignal }),
    TypeError,
    "'signal' must be an AbortSignal",
  );
});

Deno.test("DataPort.whenWritable() rejects with the signal's reason when aborted", async () => {
  using port = new DataPort({ credit: 1 });
  const reason = new Error("producer stopped");
  await assertRejects(
    () => port.whenWritable({ signal: AbortSignal.abort(reason) }),
    Error,
    "producer stopped",
  );
  sendOrFail(port, Uint8Array.of(1));
  const controller = new AbortController();
  const aborted = port.whenWritable({ signal: controller.signal });
  const other = port.whenWritable({ timeoutMs: 60_000 });
  controller.abort(reason);
  const error = await aborted.then(() => undefined, (e: unknown) => e);
  assertStrictEquals(error, reason);
  assertEquals(await settled(other), false, "an abort ends only its own wait");
  port.recycle(receiveOrFail(port));
  assertEquals(await other, "ready");
});

Deno.test("DataPort.onFrame() logs throwing callbacks at 1, 2, 4, ... errors with the port's name", async () => {
  const lines: string[] = [];
  const logger: Logger = {
    error: (m) => lines.push(m),
    warn: (m) => lines.push(m),
    info: (m) => lines.push(m),
  };
  using port = new DataPort({ credit: 8, name: "camera", logger });
  using _consumer = port.onFrame(() => {
    throw new Error("consumer bug");
  });
  for (let i = 0; i < 5; i++) sendOrFail(port, Uint8Array.of(i));
  await port.whenIdle();
  assertEquals(port.stats().consumerErrors, 5);
  assertEquals(lines.length, 3, "errors 1, 2 and 4");
  assert(lines[0]!.startsWith('Frame callback of DataPort "camera" threw'), lines[0]);
  assert(lines[0]!.includes("consumer bug"), lines[0]);
  assert(lines[2]!.includes("(4 errors so far"), lines[2]);
});

Deno.test("DataPort() rejects bad options", () => {
  assertThrows(
    () => new DataPort({ credit: 0 }),
    RangeError,
    "'credit' must be an integer in [1, 16777216]",
  );
  assertThrows(
    () => new DataPort({ credit: 4, lowWatermark: 4 }),
    RangeError,
    "'lowWatermark' must be an integer in [0, 3]",
  );
  assertThrows(
    () => new DataPort({ allocator: {} as SlabAllocator }),
    TypeError,
    "'allocator' must be a SlabAllocator",
  );
  assertThrows(() => new DataPort({ name: "" }), TypeError, "'name' must be a non-empty string");
});

Deno.test("DataPort exports chronetix_dataport_* metrics per port name until it closes", () => {
  const metrics = new MetricsRegistry();
  using port = new DataPort({ credit: 4, metrics, name: "camera" });
  using other = new DataPort({ credit: 1, metrics, name: "lidar" });
  sendOrFail(port, new Uint8Array(100));
  sendOrFail(port, new Uint8Array(100));
  port.recycle(receiveOrFail(port));
  sendOrFail(other, new Uint8Array(1));
  assertEquals(other.send(new Uint8Array(1)), WOULD_BLOCK);
  const text = metrics.exposeText();
  for (
    const line of [
      'chronetix_dataport_frames_sent_total{port="camera"} 2',
      'chronetix_dataport_sent_bytes_total{port="camera"} 200',
      'chronetix_dataport_credit{port="camera"} 3',
      'chronetix_dataport_min_credit{port="camera"} 2',
      'chronetix_dataport_utilization_ratio{port="camera"} 0.25',
      'chronetix_dataport_utilization_peak_ratio{port="camera"} 0.5',
      'chronetix_dataport_would_block_total{port="camera",reason="credit"} 0',
      'chronetix_dataport_would_block_total{port="lidar",reason="credit"} 1',
      'chronetix_dataport_would_block_total{port="lidar",reason="memory"} 0',
    ]
  ) assert(text.includes(line), `${line} not in:\n${text}`);
  sendOrFail(port, new Uint8Array(100));
  port.close();
  const after = metrics.exposeText();
  assert(after.includes('chronetix_dataport_frames_sent_total{port="camera"} 3'), after);
});

Deno.test("DataPort keeps accepting frames of every size class on a default allocator", () => {
  using port = new DataPort();
  for (const size of [1, 100, 200, 400, 800, 1600, 100_000, 1 << 20, 1]) {
    const meta = port.send(new Uint8Array(size));
    assert(meta !== WOULD_BLOCK, `a ${size}-byte frame was refused with full credit`);
    port.recycle(receiveOrFail(port));
  }
  assertEquals(port.stats().wouldBlockMemory, 0);
  assert(port.allocator.stats().slabsReclaimed > 0);
});

Deno.test("DataPort tells WOULD_BLOCK for memory from WOULD_BLOCK for credit", async () => {
  const allocator = new SlabAllocator({ slabs: 1, slabSize: 1024, sizeClasses: [256, 1024] });
  using port = new DataPort({ credit: 2, allocator });
  assertEquals(port.wouldBlockReason, undefined);
  const held = sendOrFail(port, new Uint8Array(1000));
  assertEquals(port.send(new Uint8Array(10)), WOULD_BLOCK);
  assertEquals(port.wouldBlockReason, "memory");
  const memory = port.whenWritable();
  assertEquals(await settled(memory), false);
  port.recycle(receiveOrFail(port));
  assertEquals(held, held);
  assertEquals(await memory, "ready", "freeing memory wakes the producer");
  assertEquals(port.wouldBlockReason, undefined);
  sendOrFail(port, new Uint8Array(10));
  sendOrFail(port, new Uint8Array(10));
  assertEquals(port.send(new Uint8Array(10)), WOULD_BLOCK);
  assertEquals(port.wouldBlockReason, "credit");
  assertEquals(port.stats().wouldBlockMemory, 1);
  assertEquals(port.stats().wouldBlockCredit, 1);
});

Deno.test("DataPort.whenWritable() wakes when a shared allocator frees memory held elsewhere", async () => {
  const allocator = new SlabAllocator({ slabs: 1, slabSize: 4096, sizeClasses: [1024, 4096] });
  using a = new DataPort({ credit: 8, allocator });
  using b = new DataPort({ credit: 8, allocator });
  const blocks = [1, 2, 3, 4].map(() => sendOrFail(a, new Uint8Array(1000)));
  assertEquals(b.send(new Uint8Array(4000)), WOULD_BLOCK);
  assertEquals(b.wouldBlockReason, "memory");
  const writable = b.whenWritable();
  for (const _ of blocks.slice(0, 3)) a.recycle(receiveOrFail(a));
  assertEquals(await settled(writable), false, "the slab is not empty yet");
  a.recycle(receiveOrFail(a));
  assertEquals(await writable, "ready");
  const direct = allocator.alloc(4000);
  assert(direct !== -1);
  assertEquals(b.send(new Uint8Array(4000)), WOULD_BLOCK);
  const again = b.whenWritable();
  allocator.free(direct); // memory the application held itself
  assertEquals(await again, "ready");
  sendOrFail(b, new Uint8Array(4000));
});

Deno.test("DataPort.send() of a detached buffer throws a clean error and leaks no block", () => {
  using port = new DataPort({ credit: 4 });
  const bytes = new Uint8Array(16);
  structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
  assertThrows(() => port.send(bytes), TypeError, "'bytes'");
  assertEquals(port.allocator.stats().blocksInUse, 0);
  assertEquals(port.credit, 4);
  assertEquals(port.stats().framesSent, 0);
});

Deno.test("DataPort.view(), lengthOf() and offsetOf() reject a frame of another port", () => {
  const allocator = new SlabAllocator({ slabs: 1, slabSize: 4096 });
  using a = new DataPort({ credit: 4, allocator });
  using b = new DataPort({ credit: 4, allocator });
  const meta = sendOrFail(a, Uint8Array.of(1, 2, 3));
  assertEquals(a.lengthOf(meta), 3);
  assertThrows(() => b.view(meta), RangeError, "not a frame in flight on this port");
  assertThrows(() => b.lengthOf(meta), RangeError, "not a frame in flight on this port");
  assertThrows(() => b.offsetOf(meta), RangeError, "not a frame in flight on this port");
});

Deno.test("DataPort rejects null and hostile arguments with errors naming them, state unchanged", async (t) => {
  const cases: [string, () => unknown, ErrorConstructor, string][] = [
    ["options null", () => new DataPort(null as never), TypeError, "'options'"],
    ["options 'x'", () => new DataPort("x" as never), TypeError, "'options'"],
    ["credit Symbol", () => new DataPort({ credit: Symbol() as never }), TypeError, "'credit'"],
    ["credit BigInt", () => new DataPort({ credit: 4n as never }), TypeError, "'credit'"],
    ["metrics 5", () => new DataPort({ metrics: 5 as never }), TypeError, "'metrics'"],
    ["metrics {}", () => new DataPort({ metrics: {} as never }), TypeError, "'metrics'"],
    ["logger {}", () => new DataPort({ logger: {} as never }), TypeError, "'logger'"],
  ];
  for (const [name, make, type, text] of cases) {
    await t.step(name, () => void assertThrows(make, type, text));
  }
  const allocator = new SlabAllocator({ slabs: 2, slabSize: 4096 });
  using port = new DataPort({ credit: 4, allocator });
  const meta = sendOrFail(port, Uint8Array.of(1));
  const methods: [string, () => unknown, ErrorConstructor, string][] = [
    ["send null", () => port.send(null as never), TypeError, "'bytes'"],
    ["send undefined", () => port.send(undefined as never), TypeError, "'bytes'"],
    ["send Symbol", () => port.send(Symbol() as never), TypeError, "'bytes'"],
    ["send array", () => port.send([1, 2] as never), TypeError, "'bytes'"],
    [
      "send fake",
      () => port.send(Object.create(Uint8Array.prototype) as never),
      TypeError,
      "'bytes'",
    ],
    ["send Int8Array", () => port.send(new Int8Array(4) as never), TypeError, "'bytes'"],
    ["recycle Symbol", () => port.recycle(Symbol() as never), RangeError, "not a frame"],
    ["recycle BigInt", () => port.recycle(10n as never), RangeError, "not a frame"],
    ["view null", () => port.view(null as never), RangeError, "not a frame"],
    ["lengthOf valueOf", () => port.lengthOf({ valueOf: () => meta } as never), RangeError, "not"],
    ["onFrame 5", () => port.onFrame(5 as never), TypeError, "'callback'"],
    ["whenWritable null", () => port.whenWritable(null as never), TypeError, "'options'"],
    [
      "whenWritable timeoutMs Symbol",
      () => port.whenWritable({ timeoutMs: Symbol() as never }),
      TypeError,
      "'timeoutMs'",
    ],
  ];
  for (const [name, call, type, text] of methods) {
    await t.step(name, () => void assertThrows(call, type, text));
  }
  assertEquals(port.stats().framesSent, 1, "no rejected call sent a frame");
  assertEquals(port.credit, 3);
  assertEquals(allocator.stats().blocksInUse, 1);
  // A subclass that lies about its length must not write past its block.
  class Liar extends Uint8Array {
    override get length(): number {
      return 1;
    }
  }
  const liar = sendOrFail(port, new Liar(100).fill(9));
  assertEquals(port.lengthOf(liar), 100, "the frame is as long as its bytes");
});

Deno.test("DataPort.onFrame() counts a callback's rejected promise like a throw and recycles its frame", async () => {
  const lines: string[] = [];
  const log = (m: string) => void lines.push(m);
  using port = new DataPort({
    credit: 4,
    name: "async",
    logger: { error: log, warn: log, info: log },
  });
  let kept: FrameMeta | undefined;
  using _consumer = port.onFrame(async (meta, view) => {
    await Promise.resolve();
    if (view[0] === 1) throw new Error("async consumer bug");
    kept = meta; // holds frame 2 and recycles it later
  });
  sendOrFail(port, Uint8Array.of(1));
  sendOrFail(port, Uint8Array.of(2));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(port.stats().consumerErrors, 1);
  assertEquals(port.credit, 3, "the rejected frame was recycled, the kept one was not");
  assert(lines[0]!.includes("async consumer bug"), lines[0]);
  port.recycle(kept!);
  assertEquals(port.credit, 4);
});

Deno.test("DataPort.whenWritable() ends with closed when its shared allocator closes", async () => {
  const allocator = new SlabAllocator({ slabs: 1, slabSize: 1024, sizeClasses: [1024] });
  using port = new DataPort({ credit: 4, allocator });
  sendOrFail(port, new Uint8Array(10));
  assertEquals(port.send(new Uint8Array(10)), WOULD_BLOCK);
  const waiting = port.whenWritable();
  allocator.close();
  assertEquals(await waiting, "closed");
  assertEquals(await port.whenWritable(), "closed");
  assertEquals(port.wouldBlockReason, "memory");
  assertThrows(() => port.send(new Uint8Array(10)), ClosedError, "the SlabAllocator is closed");
});
