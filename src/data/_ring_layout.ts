// The layout of a shared ring: a header of atomics and statistics, a table of
// frame lengths, then `slots` payload slots of `slotSize` bytes. Words that
// one side writes on every frame sit on cache lines of their own.

import { requireInteger } from "../internal/validate.ts";

/** Int32 index: frames published by the writer (wraps at 2^32). */
export const WRITE = 0;
/** Int32 index: frames released by the reader (wraps at 2^32). */
export const READ = 16;
/** Int32 index: bumped to wake a waiting reader. */
export const READER_SIGNAL = 32;
/** Int32 index: bumped to wake a waiting writer. */
export const WRITER_SIGNAL = 48;
export const MAGIC = 64;
export const SLOTS = 65;
export const SLOT_SIZE = 66;
export const WRITER_ATTACHED = 67;
export const READER_ATTACHED = 68;
export const WRITER_CLOSED = 69;
export const READER_CLOSED = 70;
export const READER_WAITING = 71;
export const WRITER_WAITING = 72;

/** Float64 indexes of the writer's statistics. */
export const FRAMES_SENT = 40;
export const BYTES_SENT = 41;
export const WOULD_BLOCK_COUNT = 42;
export const UTIL_SUM = 44;
export const PEAK_IN_FLIGHT = 45;
/** Float64 indexes of the reader's statistics. */
export const FRAMES_RECEIVED = 48;
export const BYTES_RECEIVED = 49;
export const CONSUMER_ERRORS = 50;

export const RING_MAGIC = 0x43525431;
const HEADER_BYTES = 512;
const ACTION = "create a shared ring";

/** Where the parts of a ring live in its buffer. */
export interface RingLayout {
  slots: number;
  slotSize: number;
  lengthsOffset: number;
  payloadOffset: number;
  byteLength: number;
}

/** Computes the layout of a ring of `slots` slots of `slotSize` bytes. */
export function ringLayout(slots: number, slotSize: number): RingLayout {
  requireInteger(ACTION, "slots", slots, 2, 1 << 20);
  if ((slots & (slots - 1)) !== 0) {
    throw new RangeError(
      `Cannot ${ACTION} as 'slots' must be a power of two: current value is ${slots}`,
    );
  }
  requireInteger(ACTION, "slotSize", slotSize, 8, 1 << 24);
  if (slotSize % 8 !== 0) {
    throw new RangeError(
      `Cannot ${ACTION} as 'slotSize' must be a multiple of 8: current value is ${slotSize}`,
    );
  }
  const payloadOffset = HEADER_BYTES + Math.ceil((slots * 4) / 64) * 64;
  const byteLength = payloadOffset + slots * slotSize;
  if (byteLength > 2 ** 31 - 1) {
    throw new RangeError(
      `Cannot ${ACTION} of ${slots} slots of ${slotSize} bytes as it needs ${byteLength} bytes: the limit is 2 GiB`,
    );
  }
  return { slots, slotSize, lengthsOffset: HEADER_BYTES, payloadOffset, byteLength };
}

/** Creates and initialises the buffer of a new ring. */
export function createRingBuffer(slots: number, slotSize: number): SharedArrayBuffer {
  const layout = ringLayout(slots, slotSize);
  const buffer = new SharedArrayBuffer(layout.byteLength);
  const header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
  header[SLOTS] = slots;
  header[SLOT_SIZE] = slotSize;
  Atomics.store(header, MAGIC, RING_MAGIC);
  return buffer;
}

/** The views every ring endpoint works with. */
export interface RingViews {
  layout: RingLayout;
  header: Int32Array;
  stats: Float64Array;
  lengths: Int32Array;
  bytes: Uint8Array;
}

/**
 * Checks that `buffer` is a ring and claims one side of it.
 *
 * @param role Which side attaches.
 * @param buffer The ring's buffer.
 */
export function attachRing(role: "writer" | "reader", buffer: SharedArrayBuffer): RingViews {
  const name = role === "writer" ? "RingWriter" : "RingReader";
  if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < HEADER_BYTES) {
    throw new TypeError(
      `Cannot attach a ${name} as 'buffer' must be the SharedArrayBuffer of a ring: current value is ${
        Object.prototype.toString.call(buffer)
      }`,
    );
  }
  const header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
  if (Atomics.load(header, MAGIC) !== RING_MAGIC) {
    throw new TypeError(
      `Cannot attach a ${name} as 'buffer' is not a ring: create it with RingWriter.create()`,
    );
  }
  const layout = ringLayout(header[SLOTS]!, header[SLOT_SIZE]!);
  const flag = role === "writer" ? WRITER_ATTACHED : READER_ATTACHED;
  if (Atomics.compareExchange(header, flag, 0, 1) !== 0) {
    throw new TypeError(
      `Cannot attach a ${name} as the ring already has a ${role}: a ring has one ${role}`,
    );
  }
  return {
    layout,
    header,
    stats: new Float64Array(buffer, 0, HEADER_BYTES / 8),
    lengths: new Int32Array(buffer, layout.lengthsOffset, layout.slots),
    bytes: new Uint8Array(buffer),
  };
}

/** Marks one side closed and wakes the other side, whether or not it waits. */
export function closeSide(header: Int32Array, closedFlag: number, otherSignal: number): void {
  Atomics.store(header, closedFlag, 1);
  Atomics.add(header, otherSignal, 1);
  Atomics.notify(header, otherSignal);
}

/** Wakes the other side if it said it is waiting. */
export function signal(header: Int32Array, signalIndex: number, waiting: number): void {
  if (Atomics.load(header, waiting) !== 0) {
    Atomics.add(header, signalIndex, 1);
    Atomics.notify(header, signalIndex);
  }
}
