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
    "Cannot recycle frame as it has not been received yet",
  );
  const meta = receiveOrFail(a);
  assertThrows(() => b.recycle(meta), RangeError, "it is not a frame in flight on this port");
  a.recycle(meta);
  assertThrows(
    () => a.recycle(meta),
    RangeError,
    "Cannot recycle frame as it was already recycled",
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
    "Cannot send a frame of 1025 bytes as the largest block is 1024 bytes",
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
