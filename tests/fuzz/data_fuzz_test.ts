// Seeded fuzz of the data plane. First every public constructor and method of
// SlabAllocator, DataPort, RingWriter and RingReader gets random and hostile
// values: each call works or throws a clean error naming one of its
// parameters, a rejected call changes nothing (no block, credit, frame or
// ring end taken), and the object still works afterwards. Then random
// sequences of operations, valid and invalid mixed, run against reference
// models: the allocator against an owner map of its bytes, a DataPort
// against a FIFO of frames with credit, a ring against a FIFO of frames; the
// figures the objects report match the models after every step.
import { assert, assertEquals } from "@std/assert";
import {
  assertCleanError,
  check,
  cleanCall,
  cleanCallAsync,
  fc,
  hostile,
  maybe,
} from "./_hostile.ts";
import { type BlockHandle, NO_BLOCK, SlabAllocator } from "../../src/data/slab_allocator.ts";
import { DataPort, type FrameMeta } from "../../src/data/data_port.ts";
import { RingWriter } from "../../src/data/ring_writer.ts";
import { RingReader } from "../../src/data/ring_reader.ts";
import { WOULD_BLOCK } from "../../src/data/backpressure.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import type { Logger } from "../../src/logger.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

const SILENT: Logger = { error() {}, warn() {}, info() {} };

const ALLOCATOR_NAMES = [
  "options",
  "slabs",
  "slabSize",
  "sizeClasses",
  "sizeClasses[0]",
  "sizeClasses[1]",
  "sizeClasses[2]",
  "sizeClasses[3]",
  "shared",
  "recycleAgeSampleEvery",
  "clock",
  "metrics",
  "name",
];
const PORT_NAMES = ["options", "credit", "lowWatermark", "allocator", "metrics", "name", "logger"];
const RING_NAMES = [
  "options",
  "slots",
  "slotSize",
  "livenessTimeoutMs",
  "metrics",
  "name",
  "logger",
  "buffer",
  "epoch",
  "signal",
];
const WAIT_NAMES = ["options", "timeoutMs", "signal"];

/** A hostile value, or a number that keeps an allocation under a few MiB. */
function bounded(max: number): fc.Arbitrary<unknown> {
  return maybe(hostile()).map((v) => typeof v === "number" && v > max && v < 2 ** 40 ? max : v);
}

const allocatorOptions: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: hostile() },
  {
    weight: 4,
    arbitrary: fc.record({
      slabs: fc.oneof(bounded(8), fc.integer({ min: 1, max: 4 })),
      slabSize: fc.oneof(bounded(1 << 16), fc.constantFrom(4096, 8192, 65536)),
      sizeClasses: maybe(
        fc.oneof(
          hostile(),
          fc.constantFrom([64, 128, 4096], [8, 16, 24], [64]),
          fc.array(fc.oneof(hostile(), fc.integer({ min: 0, max: 70000 })), { maxLength: 4 }),
        ),
      ),
      shared: maybe(fc.oneof(hostile(), fc.boolean())),
      recycleAgeSampleEvery: maybe(fc.oneof(bounded(1024), fc.constantFrom(1, 2, 256))),
      clock: maybe(
        fc.oneof(hostile(), fc.constant(new VirtualClock()), fc.constant({ now: () => NaN })),
      ),
      metrics: maybe(fc.oneof(hostile(), fc.constant(new MetricsRegistry()))),
      name: maybe(fc.oneof(hostile(), fc.constant("a"))),
    }, { requiredKeys: [] }),
  },
);

/** Checks an allocator still allocates, reads and frees. */
function assertAllocatorWorks(slab: SlabAllocator): void {
  const before = slab.stats().blocksInUse;
  const block = slab.alloc(1);
  if (block === NO_BLOCK) return; // full, which is legitimate
  assert(slab.owns(block));
  assertEquals(slab.view(block, 1).length, 1);
  slab.free(block);
  assertEquals(slab.stats().blocksInUse, before);
}

Deno.test("fuzz: SlabAllocator constructor and methods take hostile values cleanly", () => {
  check(
    fc.property(
      allocatorOptions,
      fc.array(hostile(), { minLength: 6, maxLength: 6 }),
      (options, args) => {
        const slab = cleanCall(() => new SlabAllocator(options as Loose), ALLOCATOR_NAMES);
        if (slab === undefined) return;
        try {
          const live = slab.alloc(1);
          const stats = slab.stats();
          cleanCall(() => slab.alloc(args[0] as Loose), ["size"]);
          const extra = slab.stats().blocksInUse - stats.blocksInUse;
          for (
            const call of [
              () => slab.free(args[1] as Loose),
              () => slab.offsetOf(args[2] as Loose),
              () => slab.sizeOf(args[3] as Loose),
              () => slab.blockIndex(args[4] as Loose),
              () => slab.view(args[5] as Loose),
            ]
          ) {
            cleanCall(call, ["handle"]);
          }
          if (live !== NO_BLOCK) cleanCall(() => slab.view(live, args[0] as Loose), ["length"]);
          assertEquals(typeof slab.owns(args[1] as Loose), "boolean");
          // Only a successful alloc(args[0]) changed anything; hostile frees freed nothing.
          if (live !== NO_BLOCK) assert(slab.owns(live), "the live block survived");
          assertEquals(slab.stats().blocksInUse, stats.blocksInUse + extra);
          assertAllocatorWorks(slab);
        } finally {
          slab.close();
        }
      },
    ),
  );
});

const portOptions = (allocator: SlabAllocator): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 1, arbitrary: hostile() },
    {
      weight: 4,
      arbitrary: fc.record({
        credit: maybe(fc.oneof(bounded(4096), fc.integer({ min: 1, max: 16 }))),
        lowWatermark: maybe(fc.oneof(hostile(), fc.integer({ min: 0, max: 8 }))),
        allocator: maybe(fc.oneof(hostile(), fc.constant(allocator))),
        metrics: maybe(fc.oneof(hostile(), fc.constant(new MetricsRegistry()))),
        name: maybe(fc.oneof(hostile(), fc.constant("p"))),
        logger: maybe(fc.oneof(hostile(), fc.constant(SILENT))),
      }, { requiredKeys: [] }),
    },
  );

Deno.test("fuzz: DataPort constructor and methods take hostile values cleanly", async () => {
  const allocator = new SlabAllocator({ slabs: 4, slabSize: 65536 });
  await check(
    fc.asyncProperty(
      portOptions(allocator),
      fc.array(hostile(), { minLength: 8, maxLength: 8 }),
      async (options, args) => {
        const before = allocator.stats().blocksInUse;
        const port = cleanCall(() => new DataPort(options as Loose), PORT_NAMES);
        if (port === undefined) {
          assertEquals(allocator.stats().blocksInUse, before, "a rejected port took nothing");
          return;
        }
        try {
          const frame = port.send(Uint8Array.of(1, 2, 3));
          const stats = port.stats();
          const sent = cleanCall(() => port.send(args[0] as Loose), ["bytes"]);
          const extra = sent === undefined || sent === WOULD_BLOCK ? 0 : 1;
          for (
            const call of [
              () => port.recycle(args[1] as Loose),
              () => port.offsetOf(args[2] as Loose),
              () => port.lengthOf(args[3] as Loose),
              () => port.view(args[4] as Loose),
            ]
          ) {
            cleanCall(call, ["meta"]);
          }
          const consumer = cleanCall(() => port.onFrame(args[5] as Loose), ["callback"]);
          consumer?.[Symbol.dispose]();
          const waiting = cleanCallAsync(() => port.whenWritable(args[6] as Loose), WAIT_NAMES);
          assertEquals(port.stats().framesSent, stats.framesSent + extra);
          assertEquals(port.stats().framesRecycled, stats.framesRecycled);
          if (frame !== WOULD_BLOCK) assertEquals([...port.view(frame)], [1, 2, 3]);
          // Still works: drain and recycle everything.
          for (let meta = port.receive(); meta !== WOULD_BLOCK; meta = port.receive()) {
            port.recycle(meta);
          }
          assertEquals(port.credit, port.stats().creditLimit);
          port.close();
          const result = await waiting;
          assert(result === undefined || ["ready", "closed", "timed-out"].includes(result));
        } finally {
          port.close();
        }
        assertEquals(allocator.stats().blocksInUse, before, "every block went back");
      },
    ),
  );
  allocator.close();
});

const ringOptions: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: hostile() },
  {
    weight: 4,
    arbitrary: fc.record({
      slots: maybe(fc.oneof(bounded(64), fc.constantFrom(2, 4, 8))),
      slotSize: maybe(fc.oneof(bounded(4096), fc.constantFrom(8, 16, 64))),
      livenessTimeoutMs: maybe(fc.oneof(hostile(), fc.constantFrom(10, 1000, Infinity))),
      metrics: maybe(fc.oneof(hostile(), fc.constant(new MetricsRegistry()))),
      name: maybe(fc.oneof(hostile(), fc.constant("r"))),
    }, { requiredKeys: [] }),
  },
);

Deno.test("fuzz: RingWriter and RingReader constructors and methods take hostile values cleanly", async () => {
  await check(
    fc.asyncProperty(
      ringOptions,
      fc.array(hostile(), { minLength: 10, maxLength: 10 }),
      async (options, args) => {
        cleanCall(() => RingWriter.createBuffer(options as Loose), RING_NAMES);
        const foreign = await cleanCallAsync(
          () => RingWriter.takeover(args[0] as Loose, args[9] as Loose, args[1] as Loose),
          RING_NAMES,
        );
        foreign?.close();
        const writer = cleanCall(() => RingWriter.create(options as Loose), RING_NAMES);
        if (writer === undefined) return;
        // A hostile attach claims nothing: the side stays free.
        cleanCall(() => new RingReader(args[0] as Loose), ["buffer"]);
        const spare = RingWriter.createBuffer({ slots: 2, slotSize: 8 });
        cleanCall(() => new RingReader(spare, args[2] as Loose), RING_NAMES)?.close();
        cleanCall(() => new RingWriter(writer.buffer, args[1] as Loose), RING_NAMES);
        const fresh = RingWriter.createBuffer({ slots: 2, slotSize: 8 });
        const attached = cleanCall(() => new RingWriter(fresh, args[1] as Loose), RING_NAMES);
        (attached ?? new RingWriter(fresh)).close();
        const reader = new RingReader(writer.buffer);
        const waits: Promise<unknown>[] = [];
        try {
          assertEquals(writer.send(Uint8Array.of(7)), 0);
          const sent = cleanCall(() => writer.send(args[2] as Loose), ["bytes"]);
          const extra = sent === undefined || sent === WOULD_BLOCK ? 0 : 1;
          assertEquals(writer.stats().framesSent, 1 + extra);
          // Blocking waits only where they return at once: a frame waits, a slot is free.
          cleanCall(() => reader.wait(args[3] as Loose), WAIT_NAMES);
          waits.push(cleanCallAsync(() => reader.whenReadable(args[4] as Loose), WAIT_NAMES));
          waits.push(cleanCallAsync(() => writer.whenWritable(args[5] as Loose), WAIT_NAMES));
          cleanCall(() => reader.poll(args[6] as Loose), ["callback"]);
          cleanCall(() => reader.poll(() => {}, args[7] as Loose), ["max"]);
          reader.poll(() => {});
          // The first frame arrives exactly once, whatever the hostile polls did.
          const received = reader.stats().framesReceived;
          assertEquals(received, 1 + extra);
          cleanCall(() => writer.waitWritable(args[8] as Loose), WAIT_NAMES);
          waits.push(
            cleanCallAsync(
              () => RingReader.takeover(writer.buffer, args[9] as Loose, args[8] as Loose),
              ["epoch", "signal", "options", "buffer"],
            ).then((taken) => taken?.close()),
          );
        } finally {
          writer.close();
          reader.close();
        }
        await Promise.all(waits);
      },
    ),
  );
});

// ----------------------------------------------------------------------------
// Random operation sequences against reference models.

type AllocOp =
  | { op: "alloc"; size: number }
  | { op: "free"; pick: number }
  | { op: "stale"; pick: number }
  | { op: "bad"; value: unknown };

const allocOps: fc.Arbitrary<AllocOp[]> = fc.array(
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        op: fc.constant("alloc" as const),
        size: fc.integer({ min: 1, max: 4096 }),
      }),
    },
    { weight: 4, arbitrary: fc.record({ op: fc.constant("free" as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("stale" as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("bad" as const), value: hostile() }) },
  ),
  { maxLength: 300, size: "large" },
);

Deno.test("fuzz: SlabAllocator matches an owner map of its bytes over random alloc/free sequences", () => {
  check(
    fc.property(allocOps, (ops) => {
      using slab = new SlabAllocator({
        slabs: 3,
        slabSize: 8192,
        sizeClasses: [64, 192, 1024, 4096],
      });
      const owner = new Int32Array(slab.bytes.length / 64).fill(-1);
      const live: {
        handle: BlockHandle;
        offset: number;
        size: number;
        requested: number;
        id: number;
      }[] = [];
      const dead: BlockHandle[] = [];
      let id = 0;
      for (const step of ops) {
        const before = slab.stats();
        if (step.op === "alloc") {
          const handle = slab.alloc(step.size);
          if (handle === NO_BLOCK) {
            // Full: every slab serves some class, none is empty (it would be reclaimed).
            assertEquals(slab.stats().failedAllocs, before.failedAllocs + 1);
            assertEquals([before.slabsInUse, before.emptySlabs], [3, 0], "refused with room");
            continue;
          }
          const offset = slab.offsetOf(handle);
          const size = slab.sizeOf(handle);
          assert(size >= step.size);
          for (let g = offset / 64; g < (offset + size) / 64; g++) {
            assertEquals(owner[g], -1, "a block overlaps a live one");
            owner[g] = id;
          }
          slab.bytes.fill(id & 255, offset, offset + size);
          live.push({ handle, offset, size, requested: step.size, id: id++ });
        } else if (step.op === "free" && live.length > 0) {
          const block = live.splice(step.pick % live.length, 1)[0]!;
          assert(
            slab.bytes.subarray(block.offset, block.offset + block.size).every((b) =>
              b === (block.id & 255)
            ),
            "a block's bytes changed under it",
          );
          for (let g = block.offset / 64; g < (block.offset + block.size) / 64; g++) owner[g] = -1;
          slab.free(block.handle);
          dead.push(block.handle);
        } else if (step.op === "stale" && dead.length > 0) {
          const handle = dead[step.pick % dead.length]!;
          if (!slab.owns(handle)) {
            cleanCall(() => slab.free(handle), ["handle"]);
            assertEquals(slab.stats().rejectedFrees, before.rejectedFrees + 1);
          }
        } else if (step.op === "bad") {
          // A hostile value: rejected cleanly; one that happens to be a valid size allocates.
          if (!slab.owns(step.value as Loose)) {
            cleanCall(() => slab.free(step.value as Loose), ["handle"]);
          }
          const handle = cleanCall(() => slab.alloc(step.value as Loose), ["size"]);
          if (handle !== undefined && handle !== NO_BLOCK) {
            const offset = slab.offsetOf(handle);
            const size = slab.sizeOf(handle);
            for (let g = offset / 64; g < (offset + size) / 64; g++) owner[g] = id;
            slab.bytes.fill(id & 255, offset, offset + size);
            live.push({ handle, offset, size, requested: step.value as number, id: id++ });
          }
        }
        const stats = slab.stats();
        assertEquals(stats.blocksInUse, live.length);
        assertEquals(stats.bytesInUse, live.reduce((n, b) => n + b.size, 0));
        assertEquals(stats.requestedBytes, live.reduce((n, b) => n + b.requested, 0));
        assertEquals(stats.allocs - stats.frees, live.length);
      }
      for (const block of live) slab.free(block.handle);
      assertEquals(slab.stats().blocksInUse, 0);
      assertEquals(slab.alloc(slab.maxBlockSize) !== NO_BLOCK, true, "empty slabs serve any class");
    }),
  );
});

type PortOp =
  | { op: "send"; length: number; port: number }
  | { op: "receive"; port: number }
  | { op: "recycle"; pick: number; port: number }
  | { op: "foreign"; pick: number; port: number };

const portOps: fc.Arbitrary<PortOp[]> = fc.array(
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant("send" as const),
        length: fc.integer({ min: 0, max: 4096 }),
        port: fc.nat(1),
      }),
    },
    { weight: 3, arbitrary: fc.record({ op: fc.constant("receive" as const), port: fc.nat(1) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant("recycle" as const),
        pick: fc.nat(),
        port: fc.nat(1),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("foreign" as const),
        pick: fc.nat(),
        port: fc.nat(1),
      }),
    },
  ),
  { maxLength: 400, size: "large" },
);

Deno.test("fuzz: DataPorts sharing an allocator match a model of credit, FIFO order and held frames", () => {
  check(
    fc.property(fc.integer({ min: 1, max: 8 }), portOps, (credit, ops) => {
      using allocator = new SlabAllocator({ slabs: 2, slabSize: 4096 });
      const ports = [new DataPort({ credit, allocator }), new DataPort({ credit: 4, allocator })];
      const models = ports.map(() => ({
        queued: [] as { meta: FrameMeta; fill: number; length: number }[],
        held: [] as { meta: FrameMeta; fill: number; length: number }[],
      }));
      let fill = 0;
      try {
        for (const step of ops) {
          const port = ports[step.port]!;
          const model = models[step.port]!;
          const limit = port.stats().creditLimit;
          if (step.op === "send") {
            const meta = port.send(new Uint8Array(step.length).fill(fill & 255));
            if (meta === WOULD_BLOCK) {
              const inFlight = model.queued.length + model.held.length;
              if (inFlight === limit) assertEquals(port.wouldBlockReason, "credit");
              else {
                assertEquals(port.wouldBlockReason, "memory");
                // Memory is really short: an allocation of the frame's size fails too.
                assertEquals(allocator.alloc(Math.max(1, step.length)), NO_BLOCK);
              }
              assertEquals(port.writable, false);
              continue;
            }
            model.queued.push({ meta, fill: fill++ & 255, length: step.length });
          } else if (step.op === "receive") {
            const meta = port.receive();
            const expected = model.queued.shift();
            assertEquals(meta, expected?.meta ?? WOULD_BLOCK, "frames come out in order");
            if (expected !== undefined) model.held.push(expected);
          } else if (step.op === "recycle" && model.held.length > 0) {
            const frame = model.held.splice(step.pick % model.held.length, 1)[0]!;
            const view = port.view(frame.meta);
            assertEquals(view.length, frame.length);
            assert(view.every((b) => b === frame.fill), "a frame's bytes changed in flight");
            port.recycle(frame.meta);
          } else if (step.op === "foreign") {
            // Another port's frame, or a recycled one: rejected, nothing changes.
            const other = models[1 - step.port]!;
            const frames = [...other.queued, ...other.held];
            if (frames.length === 0) continue;
            const frame = frames[step.pick % frames.length]!;
            const before = port.stats();
            for (const call of [() => port.recycle(frame.meta), () => port.view(frame.meta)]) {
              try {
                call();
                throw new Error("a port accepted another port's frame");
              } catch (error) {
                assertCleanError(error, ["meta"]);
              }
            }
            assertEquals(port.stats(), before);
          }
          for (const [i, p] of ports.entries()) {
            const stats = p.stats();
            const m = models[i]!;
            assertEquals(stats.unreceived, m.queued.length);
            assertEquals(stats.unrecycled, m.held.length);
            assertEquals(stats.credit, stats.creditLimit - m.queued.length - m.held.length);
          }
          const blocks = models.reduce((n, m) => n + m.queued.length + m.held.length, 0);
          assertEquals(allocator.stats().blocksInUse, blocks);
        }
      } finally {
        for (const [i, port] of ports.entries()) {
          port.close();
          for (const frame of models[i]!.held) port.recycle(frame.meta);
        }
      }
      assertEquals(allocator.stats().blocksInUse, 0, "close and recycle return every block");
    }),
  );
});

type RingOp = { op: "send"; length: number } | { op: "poll"; max: number } | {
  op: "throw";
  at: number;
};

const ringOps: fc.Arbitrary<RingOp[]> = fc.array(
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant("send" as const),
        length: fc.integer({ min: 0, max: 64 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant("poll" as const),
        max: fc.oneof(fc.nat(10), fc.constant(Infinity)),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("throw" as const), at: fc.nat(4) }) },
  ),
  { maxLength: 300, size: "large" },
);

Deno.test("fuzz: a shared ring matches a FIFO model over random send/poll sequences", () => {
  check(
    fc.property(fc.constantFrom(2, 4, 8, 128), ringOps, (slots, ops) => {
      const writer = RingWriter.create({ slots, slotSize: 64 });
      const reader = new RingReader(writer.buffer);
      const fifo: { seq: number; length: number }[] = [];
      let sent = 0;
      let received = 0;
      let errors = 0;
      try {
        for (const step of ops) {
          if (step.op === "send") {
            const frame = new Uint8Array(step.length).fill(sent & 255);
            const seq = writer.send(frame);
            if (seq === WOULD_BLOCK) {
              assertEquals(fifo.length, slots, "refused only when every slot is in flight");
              continue;
            }
            assertEquals(seq, sent);
            fifo.push({ seq: sent++, length: step.length });
          } else {
            const max = step.op === "poll" ? step.max : Infinity;
            let calls = 0;
            try {
              reader.poll((slot, length, seq) => {
                const expected = fifo.shift()!;
                assertEquals(
                  [seq, length],
                  [expected.seq, expected.length],
                  "frames come in order",
                );
                assert(slot.subarray(0, length).every((b) => b === (seq & 255)), "corrupt frame");
                received++;
                if (step.op === "throw" && calls++ === step.at) throw new Error("consumer bug");
              }, max);
            } catch (error) {
              assertEquals((error as Error).message, "consumer bug");
              errors++;
            }
          }
          const stats = writer.stats();
          assertEquals(stats.framesSent, sent);
          assertEquals(stats.framesReceived, received);
          assertEquals(stats.consumerErrors, errors);
          assertEquals(stats.inFlight, fifo.length);
          assertEquals(writer.credit, slots - fifo.length);
          assertEquals(reader.available, fifo.length);
        }
        assertEquals(writer.close(), { consumed: received, unconsumed: fifo.length });
      } finally {
        writer.close();
        reader.close();
      }
    }),
  );
});
