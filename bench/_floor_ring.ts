// The floor of `bench:dataport`: the least a single-producer single-consumer
// ring over a SharedArrayBuffer can do, for the shared ring to be judged
// against in the same run. No liveness, no statistics, no checks, no
// sleeping: both ends spin on the other's index, and each publishes its
// index every `publishEvery` frames (64, fewer only for rings too small to
// hold two batches) and at the end. A frame is a length word plus its bytes,
// copied into a slot, as in the shared ring.

/** Int32 index of the writer's position (its own cache line). */
const WRITE = 0;
/** Int32 index of the reader's position (its own cache line). */
const READ = 16;
const HEADER_BYTES = 128;

/** The layout of a floor ring. */
interface FloorViews {
  header: Int32Array;
  lengths: Int32Array;
  bytes: Uint8Array;
  payload: number;
  slots: number;
  slotSize: number;
  publishEvery: number;
  releaseEvery: number;
}

/**
 * Creates the buffer of a floor ring of `slots` (a power of two, at least 2)
 * slots of `slotSize` bytes. `publishEvery`: how often the writer publishes
 * its index (the default: 64, or half the slots if fewer; 1: after every
 * frame, as the shared ring's `send()` must).
 */
export function floorRingBuffer(
  slots: number,
  slotSize: number,
  publishEvery = Math.max(1, Math.min(64, slots / 2)),
): SharedArrayBuffer {
  const payload = HEADER_BYTES + Math.ceil((slots * 4) / 64) * 64;
  const buffer = new SharedArrayBuffer(payload + slots * slotSize);
  const header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
  header[1] = slots;
  header[2] = slotSize;
  header[3] = publishEvery;
  return buffer;
}

function views(buffer: SharedArrayBuffer): FloorViews {
  const header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
  const slots = header[1]!;
  const slotSize = header[2]!;
  return {
    header,
    lengths: new Int32Array(buffer, HEADER_BYTES, slots),
    bytes: new Uint8Array(buffer),
    payload: HEADER_BYTES + Math.ceil((slots * 4) / 64) * 64,
    slots,
    slotSize,
    publishEvery: header[3]!,
    // Two batches must fit, or each end would wait for the other's publication.
    releaseEvery: Math.max(1, Math.min(64, slots / 2)),
  };
}

/** Sends `frames` copies of `frame`, spinning while the ring is full (blocks the thread). */
export function floorWrite(buffer: SharedArrayBuffer, frame: Uint8Array, frames: number): void {
  const { header, lengths, bytes, payload, slots, slotSize, publishEvery } = views(buffer);
  const mask = slots - 1;
  const length = frame.length;
  let readCache = 0;
  for (let w = 0; w < frames; w++) {
    while (w - readCache >= slots) readCache = Atomics.load(header, READ);
    const slot = w & mask;
    bytes.set(frame, payload + slot * slotSize);
    lengths[slot] = length;
    if ((w + 1) % publishEvery === 0) Atomics.store(header, WRITE, w + 1);
  }
  Atomics.store(header, WRITE, frames);
}

/** Reads `frames` frames, spinning while the ring is empty; returns the sum of each frame's first and last byte. */
export function floorRead(buffer: SharedArrayBuffer, frames: number): number {
  const { header, lengths, bytes, payload, slots, slotSize, releaseEvery } = views(buffer);
  const mask = slots - 1;
  let checksum = 0;
  let written = 0;
  for (let r = 0; r < frames;) {
    while (written === r) written = Atomics.load(header, WRITE);
    for (; r < written; r++) {
      const slot = r & mask;
      const start = payload + slot * slotSize;
      checksum = (checksum + bytes[start]! + bytes[start + lengths[slot]! - 1]!) | 0;
      if ((r + 1) % releaseEvery === 0) Atomics.store(header, READ, r + 1);
    }
  }
  Atomics.store(header, READ, frames);
  return checksum;
}
