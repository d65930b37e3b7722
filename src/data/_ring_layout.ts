// The layout of a shared ring: a header of atomics and statistics, a table of
// frame lengths, then `slots` payload slots of `slotSize` bytes. Words that
// one side writes on every frame sit on cache lines of their own.

import { MONOTONIC_CLOCK } from "../time/clock.ts";
import { holdEventLoop } from "../time/driver_host.ts";
import { requireInteger, requireNonNegative } from "../internal/validate.ts";

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
/** How long a wait spins before it sleeps. */
const SPIN_MS = 0.05;
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

/** A snapshot of a shared ring, the same from either end. */
export interface RingStats {
  /** Slots in the ring: its credit when empty. */
  slots: number;
  /** Bytes per slot: the largest frame. */
  slotSize: number;
  /** Frames the writer published. */
  framesSent: number;
  /** Payload bytes the writer published. */
  bytesSent: number;
  /** Frames the reader consumed. */
  framesReceived: number;
  /** Payload bytes the reader consumed. */
  bytesReceived: number;
  /** Frames published and not yet released by the reader. */
  inFlight: number;
  /** Free slots: frames the writer may still publish. */
  credit: number;
  /** The lowest credit seen after a send: `slots` minus the peak in flight. */
  minCredit: number;
  /** Slots in use as a percentage, now. */
  utilizationPct: number;
  /**
   * Utilization averaged over every send, as the writer saw it: it re-reads
   * the reader's position every 64 frames (and whenever the ring looks
   * full), so this and the peak may overstate the slots in use by up to 64.
   */
  avgUtilizationPct: number;
  /** The highest utilization seen at a send (see `avgUtilizationPct`). */
  peakUtilizationPct: number;
  /** Sends refused with `WOULD_BLOCK` because the ring was full. */
  wouldBlock: number;
  /** Frames the reader discarded unread when it closed. */
  discarded: number;
  /** Reader callbacks that threw (their frames were released). */
  consumerErrors: number;
  /** Whether the writer closed. */
  writerClosed: boolean;
  /** Whether the reader closed. */
  readerClosed: boolean;
}

/** What a ring endpoint reports when it closes. */
export interface RingCloseReport {
  /** Frames the reader consumed in all. */
  consumed: number;
  /** Frames published that the reader had not consumed (and now never will, if the reader closed). */
  unconsumed: number;
}

/** Reads a stats snapshot from a ring's header. */
export function readRingStats(views: RingViews): RingStats {
  const { header, stats, layout } = views;
  const sent = stats[FRAMES_SENT]!;
  const inFlight = (Atomics.load(header, WRITE) - Atomics.load(header, READ)) >>> 0;
  const slots = layout.slots;
  return {
    slots,
    slotSize: layout.slotSize,
    framesSent: sent,
    bytesSent: stats[BYTES_SENT]!,
    framesReceived: stats[FRAMES_RECEIVED]!,
    bytesReceived: stats[BYTES_RECEIVED]!,
    inFlight,
    credit: slots - inFlight,
    minCredit: slots - stats[PEAK_IN_FLIGHT]!,
    utilizationPct: 100 * inFlight / slots,
    avgUtilizationPct: sent === 0 ? 0 : 100 * stats[UTIL_SUM]! / sent / slots,
    peakUtilizationPct: 100 * stats[PEAK_IN_FLIGHT]! / slots,
    wouldBlock: stats[WOULD_BLOCK_COUNT]!,
    discarded: Atomics.load(header, READER_CLOSED) !== 0 ? sent - stats[FRAMES_RECEIVED]! : 0,
    consumerErrors: stats[CONSUMER_ERRORS]!,
    writerClosed: Atomics.load(header, WRITER_CLOSED) !== 0,
    readerClosed: Atomics.load(header, READER_CLOSED) !== 0,
  };
}

/** How a wait on a ring ended. */
export type WaitResult = "ok" | "closed" | "timed-out";

/** What one endpoint waits for: its signal word, its waiting flag, and the conditions. */
export interface RingWait {
  header: Int32Array;
  signal: number;
  waiting: number;
  ready: () => boolean;
  closed: () => boolean;
  /** For error messages, e.g. "wait for credit". */
  action: string;
}

/**
 * Blocks (worker) until `ready()` holds, using the waiting flag so the other
 * side only notifies when needed. Returns "ok" when ready, "closed" when
 * `closed()` holds, or "timed-out".
 */
export function waitSync(wait: RingWait, timeoutMs: number): WaitResult {
  checkTimeout(wait, timeoutMs);
  const { header, signal, waiting, ready, closed } = wait;
  if (spin(ready)) return "ok";
  const end = MONOTONIC_CLOCK.now() + timeoutMs;
  for (;;) {
    const seen = prepare(header, signal, waiting, ready, closed, end);
    if (typeof seen === "string") return seen;
    Atomics.wait(header, signal, seen, end - MONOTONIC_CLOCK.now());
  }
}

const READY: Promise<WaitResult> = Promise.resolve("ok");

/**
 * The awaitable form of {@linkcode waitSync}, for the main thread. When the
 * spin succeeds it returns a shared, settled promise: no allocation.
 */
export function waitAsync(wait: RingWait, timeoutMs: number): Promise<WaitResult> {
  checkTimeout(wait, timeoutMs);
  if (spin(wait.ready)) return READY;
  return sleepAsync(wait, timeoutMs);
}

async function sleepAsync(wait: RingWait, timeoutMs: number): Promise<WaitResult> {
  const { header, signal, waiting, ready, closed } = wait;
  const end = MONOTONIC_CLOCK.now() + timeoutMs;
  using _hold = holdEventLoop();
  for (;;) {
    const seen = prepare(header, signal, waiting, ready, closed, end);
    if (typeof seen === "string") return seen;
    const left = end - MONOTONIC_CLOCK.now();
    const result = Atomics.waitAsync(header, signal, seen, left === Infinity ? undefined : left);
    if (result.async) await result.value;
  }
}

function checkTimeout(wait: RingWait, timeoutMs: number): void {
  if (timeoutMs !== Infinity) requireNonNegative(wait.action, "timeoutMs", timeoutMs);
}

/**
 * One round of a wait: raises the waiting flag and returns the outcome if
 * it is decided, else the signal value to sleep on. The signal is read
 * before the flag is raised, so a wake-up between the checks and the sleep
 * changes it and the sleep returns at once.
 */
function prepare(
  header: Int32Array,
  signal: number,
  waiting: number,
  ready: () => boolean,
  closed: () => boolean,
  end: number,
): WaitResult | number {
  const seen = Atomics.load(header, signal);
  Atomics.store(header, waiting, 1);
  const outcome = ready()
    ? "ok"
    : closed()
    ? "closed"
    : end - MONOTONIC_CLOCK.now() <= 0
    ? "timed-out"
    : undefined;
  if (outcome === undefined) return seen;
  Atomics.store(header, waiting, 0);
  return outcome;
}

/**
 * Spins briefly on `ready()` before a wait goes to sleep: when frames stream
 * in, the next one usually arrives within microseconds, and sleeping would
 * make the other side pay a futex wake-up (several microseconds) per frame.
 */
function spin(ready: () => boolean): boolean {
  // The clock read between checks (about 0.1 µs) doubles as a back-off: a
  // tighter loop would keep pulling the writer's cache line away from it.
  const end = MONOTONIC_CLOCK.now() + SPIN_MS;
  for (;;) {
    if (ready()) return true;
    if (MONOTONIC_CLOCK.now() >= end) return false;
  }
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
