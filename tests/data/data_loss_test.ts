// Data-loss checks with a million frames: the shared ring across real
// Workers at several slot counts and sizes with random consumer stalls, and
// DataPorts with a random recycle order, sizes that move slabs between size
// classes, and ports competing for one allocator. Lost, duplicated,
// reordered and corrupted frames are all zero, and the close reports exact.
// (Consumers killed mid-stream: tests/faults/data_faults_test.ts.)
import { assert, assertEquals } from "@std/assert";
import { ClosedError } from "../../src/errors.ts";
import { RingWriter } from "../../src/data/ring_writer.ts";
import { WOULD_BLOCK } from "../../src/data/backpressure.ts";
import { DataPort, type FrameMeta } from "../../src/data/data_port.ts";
import { NO_BLOCK, SlabAllocator } from "../../src/data/slab_allocator.ts";
import { writeFrame } from "./_fixtures/ring_frames.ts";
import { startWorker } from "./_fixtures/start_ring_worker.ts";
import { mulberry32, testSeeds } from "../_util/prng.ts";

/** Sends frames `0..frames-1`, awaiting credit when the ring is full. */
async function produce(writer: RingWriter, frames: number, maxLength: number): Promise<number> {
  const frame = new Uint8Array(writer.slotSize);
  for (let seq = 0; seq < frames; seq++) {
    const length = writeFrame(frame, seq, maxLength);
    while (writer.send(frame.subarray(0, length)) === WOULD_BLOCK) {
      if (await writer.whenWritable() === "closed") throw new ClosedError("ring's reader", "send");
    }
  }
  return frames;
}

const RING_CASES = [
  { slots: 16, slotSize: 64, stallEvery: 20_000, maxStallMs: 2 },
  { slots: 64, slotSize: 256, stallEvery: 50_000, maxStallMs: 5 },
  { slots: 1024, slotSize: 1024, stallEvery: 100_000, maxStallMs: 10 },
];

for (const { slots, slotSize, stallEvery, maxStallMs } of RING_CASES) {
  Deno.test(`Shared ring of ${slots} slots of ${slotSize} bytes moves 1,000,000 frames to a Worker that stalls at random: none lost, duplicated, reordered or corrupt`, async () => {
    const frames = 1_000_000;
    const [seed] = testSeeds([slots]);
    const writer = RingWriter.create({ slots, slotSize });
    const consumer = startWorker({
      mode: "consume",
      buffer: writer.buffer,
      stallSeed: seed,
      stallEvery,
      maxStallMs,
      maxLength: slotSize,
    });
    assertEquals(await produce(writer, frames, slotSize), frames);
    await writer.whenIdle();
    const closing = writer.close();
    const report = await consumer;
    assertEquals(report.bad, [], `seed ${seed} (replay with CHRONETIX_SEED=${seed})`);
    assertEquals(report.consumed, frames);
    assertEquals(closing, { consumed: frames, unconsumed: 0 });
    const stats = writer.stats();
    assertEquals(stats.framesReceived, frames);
    assertEquals(stats.bytesReceived, stats.bytesSent);
    assertEquals(stats.discarded, 0);
    assertEquals(stats.readerDeaths, 0, "stalls are not deaths");
  });
}

/** The byte pattern of frame `seq`: its number in the first 4 bytes, then `seq & 255`. */
function fillFrame(bytes: Uint8Array, seq: number): void {
  bytes.fill(seq & 255);
  if (bytes.length >= 4) new DataView(bytes.buffer, bytes.byteOffset, 4).setUint32(0, seq, true);
}

/** What is wrong with frame `seq`, if anything: checked at both ends and the middle. */
function frameProblem(view: Uint8Array, seq: number, length: number): string | undefined {
  if (view.length !== length) return `frame ${seq} has ${view.length} bytes, sent ${length}`;
  if (length >= 4 && new DataView(view.buffer, view.byteOffset, 4).getUint32(0, true) !== seq) {
    return `frame ${seq} carries another frame's number`;
  }
  const fill = seq & 255;
  for (const i of [4, length >> 1, length - 1]) {
    if (i >= 4 && i < length && view[i] !== fill) return `frame ${seq} is corrupt at byte ${i}`;
  }
  return undefined;
}

interface Held {
  meta: FrameMeta;
  seq: number;
  length: number;
}

/** One port of the random-order check, with its model: what it sent, in order, and what it holds. */
class PortModel {
  readonly sent: Held[] = [];
  readonly held: Held[] = [];
  head = 0;
  recycled = 0;
  constructor(readonly port: DataPort) {}
}

Deno.test("DataPort moves 1,000,000 frames recycled in random order, sizes across every class, two ports on one allocator: none lost, duplicated, reordered or corrupt", () => {
  for (const seed of testSeeds([7, 2026])) {
    const random = mulberry32(seed);
    const where = `seed ${seed} (replay with CHRONETIX_SEED=${seed})`;
    // Small slabs: the size classes fight over 8 slabs, so slabs move between them.
    using allocator = new SlabAllocator({ slabs: 8, slabSize: 16384 });
    const models = [
      new PortModel(new DataPort({ credit: 64, allocator, name: "a" })),
      new PortModel(new DataPort({ credit: 32, allocator, name: "b" })),
    ];
    const size = () => {
      const r = random();
      return r < 0.7 ? 1 + Math.floor(random() * 128) : 1 + Math.floor(random() ** 2 * 16384);
    };
    const pending = new Map<DataPort, number>();
    const frame = new Uint8Array(16384);
    let seq = 0;
    let refusals = 0;
    const total = 1_000_000;
    while (seq < total) {
      const model = models[random() < 0.6 ? 0 : 1]!;
      const { port } = model;
      const roll = random();
      if (roll < 0.5) {
        // A port refused for memory must stay refused only while its frame cannot fit.
        const refused = pending.get(port);
        if (port.wouldBlockReason === "memory" && refused !== undefined) {
          const probe = allocator.alloc(refused);
          assertEquals(probe, NO_BLOCK, `${where}: a free block did not wake the port`);
        }
        const length = refused ?? size();
        const bytes = frame.subarray(0, length);
        fillFrame(bytes, seq);
        const meta = port.send(bytes);
        if (meta === WOULD_BLOCK) {
          refusals++;
          assertEquals(port.wouldBlockReason, port.credit === 0 ? "credit" : "memory", where);
          pending.set(port, length);
          continue;
        }
        pending.delete(port);
        model.sent.push({ meta, seq: seq++, length });
      } else if (roll < 0.75) {
        const meta = port.receive();
        if (meta === WOULD_BLOCK) continue;
        const expected = model.sent[model.head++]!;
        assertEquals(meta, expected.meta, `${where}: frames come out in order`);
        model.held.push(expected);
      } else if (model.held.length > 0) {
        const i = Math.floor(random() * model.held.length);
        const frame = model.held[i]!;
        model.held[i] = model.held.at(-1)!;
        model.held.pop();
        const problem = frameProblem(port.view(frame.meta), frame.seq, frame.length);
        if (problem !== undefined) throw new Error(`${where}: ${problem}`);
        port.recycle(frame.meta);
        model.recycled++;
      }
    }
    for (const model of models) {
      const { port } = model;
      for (let meta = port.receive(); meta !== WOULD_BLOCK; meta = port.receive()) {
        model.held.push(model.sent[model.head++]!);
      }
      for (const frame of model.held.splice(0)) {
        const problem = frameProblem(port.view(frame.meta), frame.seq, frame.length);
        if (problem !== undefined) throw new Error(`${where}: ${problem}`);
        port.recycle(frame.meta);
        model.recycled++;
      }
      const stats = port.stats();
      assertEquals(stats.framesSent, model.sent.length, where);
      assertEquals(stats.framesRecycled, model.sent.length, where);
      assertEquals(model.recycled, model.sent.length, where);
      assertEquals(port.close(), { unreceived: 0, unrecycled: 0 });
    }
    assertEquals(models[0]!.sent.length + models[1]!.sent.length, total);
    const stats = allocator.stats();
    assertEquals(stats.blocksInUse, 0, where);
    assertEquals(stats.requestedBytes, 0, where);
    assert(stats.slabsReclaimed > 0, `${where}: slabs moved between size classes`);
    assert(refusals > 0, `${where}: the ports pushed back`);
  }
});
