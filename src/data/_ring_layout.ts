// The layout of a shared ring: a header of atomics and statistics, a table of
// frame lengths, then `slots` payload slots of `slotSize` bytes. Words that
// one side writes on every frame sit on cache lines of their own.
//
// Each end (writer, reader) has an "end word", `epoch << 3 | state`: the
// epoch counts the ends that attached to that side, the state says whether
// the current one is attached, closed, presumed dead or being evicted. A new
// end attaches to a free side, or takes over a side whose end is gone by
// moving its epoch on; an end whose word changed under it is no longer the
// ring's and stops. Each end also bumps a beat word while it lives, so the
// other side can tell a dead end (its Worker terminated or its thread stuck)
// from a slow one.

import { requireInteger, requireOptions, show } from "../internal/validate.ts";

/** Int32 index: frames published by the writer (wraps at 2^32). */
export const WRITE = 0;
/** Int32 index: frames released by the reader (wraps at 2^32). */
export const READ = 16;
/** Int32 index: bumped to wake a waiting reader. */
export const READER_SIGNAL = 32;
/** Int32 index: bumped to wake a waiting writer. */
export const WRITER_SIGNAL = 48;
// The control line: written rarely.
export const MAGIC = 64;
export const SLOTS = 65;
export const SLOT_SIZE = 66;
/** Int32 indexes: the end words. */
export const WRITER_END = 67;
export const READER_END = 68;
/** Int32 indexes: bumped to wake an end's beat loop (on eviction). */
export const WRITER_KICK = 69;
export const READER_KICK = 70;
export const READER_WAITING = 71;
export const WRITER_WAITING = 72;
/** Float64 index: the liveness timeout in milliseconds (Infinity: never presume death). */
export const LIVENESS_MS = 38;

/** Float64 indexes of the writer's statistics (the writer's line). */
export const FRAMES_SENT = 40;
export const BYTES_SENT = 41;
export const WOULD_BLOCK_COUNT = 42;
export const UTIL_SUM = 44;
export const PEAK_IN_FLIGHT = 45;
/** Int32 index (on the writer's line): the writer's beat. */
export const WRITER_BEAT = 92;
/** Float64 indexes of the reader's statistics (the reader's line). */
export const FRAMES_RECEIVED = 48;
export const BYTES_RECEIVED = 49;
export const CONSUMER_ERRORS = 50;
/** Int32 index (on the reader's line): the reader's beat. */
export const READER_BEAT = 102;
/** Float64 indexes of rare counters. */
export const WRITER_DEATHS = 56;
export const READER_DEATHS = 57;
export const WRITER_TAKEOVERS = 58;
export const READER_TAKEOVERS = 59;

/** End states (the low 3 bits of an end word). */
export const FREE = 0;
export const ATTACHED = 1;
export const CLOSED = 2;
export const DEAD = 3;
export const EVICTING = 4;
/** The largest epoch an end word holds. */
const MAX_EPOCH = 2 ** 28 - 1;

export const RING_MAGIC = 0x43525432; // "CRT2": the layout with end words
const HEADER_BYTES = 512;
const ACTION = "create a shared ring";

/** The default of `livenessTimeoutMs`. */
export const DEFAULT_LIVENESS_MS = 5000;
/** The smallest `livenessTimeoutMs`. */
export const MIN_LIVENESS_MS = 10;

/** Where the parts of a ring live in its buffer. */
export interface RingLayout {
  slots: number;
  slotSize: number;
  lengthsOffset: number;
  payloadOffset: number;
  byteLength: number;
}

/** The sizes of a new ring, checked. */
export interface RingShape {
  slots: number;
  slotSize: number;
  livenessTimeoutMs: number;
}

/** Which side of a ring an end is on, and the words it owns. */
export interface RingRole {
  name: "RingWriter" | "RingReader";
  side: "writer" | "reader";
  end: number;
  peerEnd: number;
  beat: number;
  peerBeat: number;
  kick: number;
  /** Bumped to wake this end when it waits. */
  signal: number;
  waiting: number;
  /** Bumped to wake the other end when it waits. */
  peerSignal: number;
  /** The rare counters of this side. */
  deaths: number;
  takeovers: number;
}

export const WRITER_ROLE: RingRole = {
  name: "RingWriter",
  side: "writer",
  end: WRITER_END,
  peerEnd: READER_END,
  beat: WRITER_BEAT,
  peerBeat: READER_BEAT,
  kick: WRITER_KICK,
  signal: WRITER_SIGNAL,
  waiting: WRITER_WAITING,
  peerSignal: READER_SIGNAL,
  deaths: WRITER_DEATHS,
  takeovers: WRITER_TAKEOVERS,
};

export const READER_ROLE: RingRole = {
  name: "RingReader",
  side: "reader",
  end: READER_END,
  peerEnd: WRITER_END,
  beat: READER_BEAT,
  peerBeat: WRITER_BEAT,
  kick: READER_KICK,
  signal: READER_SIGNAL,
  waiting: READER_WAITING,
  peerSignal: WRITER_SIGNAL,
  deaths: READER_DEATHS,
  takeovers: READER_TAKEOVERS,
};

/** Reads and checks the sizes of a new ring from the caller's options. */
export function ringShape(
  options: { slots?: unknown; slotSize?: unknown; livenessTimeoutMs?: unknown } | undefined,
): RingShape {
  requireOptions(ACTION, "options", options);
  const slots = options?.slots ?? 1024;
  const slotSize = options?.slotSize ?? 1024;
  const liveness = options?.livenessTimeoutMs ?? DEFAULT_LIVENESS_MS;
  ringLayout(slots, slotSize);
  const livenessTimeoutMs = liveness === Infinity
    ? Infinity
    : requireInteger(ACTION, "livenessTimeoutMs", liveness, MIN_LIVENESS_MS, 2 ** 31 - 1);
  return { slots: slots as number, slotSize: slotSize as number, livenessTimeoutMs };
}

/** Computes the layout of a ring of `slots` slots of `slotSize` bytes. */
export function ringLayout(slots: unknown, slotSize: unknown): RingLayout {
  requireInteger(ACTION, "slots", slots, 2, 1 << 20);
  const n = slots as number;
  if ((n & (n - 1)) !== 0) {
    throw new RangeError(
      `Cannot ${ACTION} as 'slots' must be a power of two: current value is ${n}`,
    );
  }
  requireInteger(ACTION, "slotSize", slotSize, 8, 1 << 24);
  const size = slotSize as number;
  if (size % 8 !== 0) {
    throw new RangeError(
      `Cannot ${ACTION} as 'slotSize' must be a multiple of 8: current value is ${size}`,
    );
  }
  const payloadOffset = HEADER_BYTES + Math.ceil((n * 4) / 64) * 64;
  const byteLength = payloadOffset + n * size;
  if (byteLength > 2 ** 31 - 1) {
    throw new RangeError(
      `Cannot ${ACTION} of ${n} slots of ${size} bytes as it needs ${byteLength} bytes: the limit is 2 GiB`,
    );
  }
  return { slots: n, slotSize: size, lengthsOffset: HEADER_BYTES, payloadOffset, byteLength };
}

/** Creates and initialises the buffer of a new ring. */
export function createRingBuffer(shape: RingShape): SharedArrayBuffer {
  const layout = ringLayout(shape.slots, shape.slotSize);
  const buffer = new SharedArrayBuffer(layout.byteLength);
  const header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
  new Float64Array(buffer, 0, HEADER_BYTES / 8)[LIVENESS_MS] = shape.livenessTimeoutMs;
  header[SLOTS] = shape.slots;
  header[SLOT_SIZE] = shape.slotSize;
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
  livenessTimeoutMs: number;
}

/**
 * Checks that `buffer` is a whole ring (its header, and a size that holds
 * the layout the header claims) and returns its views. Claims nothing.
 *
 * @param role Which end asks.
 * @param buffer The caller's value.
 */
export function ringViews(role: RingRole, buffer: unknown): RingViews {
  const action = `attach a ${role.name}`;
  if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < HEADER_BYTES) {
    throw new TypeError(
      `Cannot ${action} as 'buffer' must be the SharedArrayBuffer of a ring: current value is ${
        show(buffer)
      }`,
    );
  }
  const header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
  if (Atomics.load(header, MAGIC) !== RING_MAGIC) {
    throw new TypeError(
      `Cannot ${action} as 'buffer' is not a ring: create it with RingWriter.create() or RingWriter.createBuffer()`,
    );
  }
  let layout: RingLayout;
  try {
    layout = ringLayout(header[SLOTS], header[SLOT_SIZE]);
  } catch {
    throw new TypeError(
      `Cannot ${action} as 'buffer' has a corrupt ring header: ${header[SLOTS]} slots of ${
        header[SLOT_SIZE]
      } bytes`,
    );
  }
  if (buffer.byteLength < layout.byteLength) {
    throw new TypeError(
      `Cannot ${action} as 'buffer' is too small for its ring: ${layout.slots} slots of ${layout.slotSize} bytes need ${layout.byteLength} bytes, it has ${buffer.byteLength}`,
    );
  }
  const stats = new Float64Array(buffer, 0, HEADER_BYTES / 8);
  const liveness = stats[LIVENESS_MS]!;
  return {
    layout,
    header,
    stats,
    lengths: new Int32Array(buffer, layout.lengthsOffset, layout.slots),
    bytes: new Uint8Array(buffer),
    livenessTimeoutMs: liveness >= MIN_LIVENESS_MS ? liveness : DEFAULT_LIVENESS_MS,
  };
}

/**
 * Claims a free side of a ring for a new end.
 *
 * @returns The new end's word.
 */
export function claimEnd(role: RingRole, views: RingViews): number {
  const word = (1 << 3) | ATTACHED;
  const was = Atomics.compareExchange(views.header, role.end, FREE, word);
  if (was !== FREE) {
    throw new TypeError(
      `Cannot attach a ${role.name} as the ring in 'buffer' already has a ${role.side} (epoch ${
        epochOf(was)
      }, ${
        stateName(was)
      }): a ring has one ${role.side}; replace a gone one with ${role.name}.takeover()`,
    );
  }
  return word;
}

/**
 * Moves a side whose end is gone (closed or dead; or free) to a new epoch
 * for a new end.
 *
 * @returns The new end's word, or -1 when `word` is no longer the side's word.
 */
export function replaceEnd(views: RingViews, role: RingRole, word: number): number {
  const epoch = epochOf(word);
  if (epoch >= MAX_EPOCH) {
    throw new RangeError(`Cannot take over the ${role.side} as its epoch ran out: ${epoch}`);
  }
  const next = ((epoch + 1) << 3) | ATTACHED;
  if (Atomics.compareExchange(views.header, role.end, word, next) !== word) return -1;
  if (epoch > 0 || stateOf(word) !== FREE) views.stats[role.takeovers]!++;
  return next;
}

/** Gives back a side an end claimed but could not use: free again, or closed after a takeover. */
export function releaseClaim(views: RingViews, role: RingRole, word: number): void {
  if (epochOf(word) === 1) Atomics.compareExchange(views.header, role.end, word, FREE);
  else setEndState(views, role, word, CLOSED);
}

/**
 * Moves an end's word from `from` to `state`, waking everyone who watches
 * it. Fails (returns false) when the word changed meanwhile.
 */
export function setEndState(
  views: RingViews,
  role: RingRole,
  from: number,
  state: number,
): boolean {
  const to = (from & ~7) | state;
  if (Atomics.compareExchange(views.header, role.end, from, to) !== from) return false;
  if (state === DEAD) views.stats[role.deaths]!++;
  wakeEnd(views.header, role);
  return true;
}

/** Wakes every wait of and on an end: its waits, its peer's waits, its beat loop, takeovers. */
export function wakeEnd(header: Int32Array, role: RingRole): void {
  for (const index of [role.signal, role.peerSignal, role.kick]) {
    Atomics.add(header, index, 1);
    Atomics.notify(header, index);
  }
  Atomics.notify(header, role.end);
}

/** The epoch of an end word. */
export function epochOf(word: number): number {
  return word >>> 3;
}

/** The state of an end word. */
export function stateOf(word: number): number {
  return word & 7;
}

/** Whether an end word says the end is gone for good (closed or dead). */
export function isGone(word: number): boolean {
  const state = word & 7;
  return state === CLOSED || state === DEAD;
}

/** The public name of an end word's state. */
export function stateName(word: number): "none" | "attached" | "closed" | "dead" | "evicting" {
  return (["none", "attached", "closed", "dead", "evicting"] as const)[word & 7] ?? "dead";
}

/**
 * Wakes the other side if it said it is waiting, and lowers its flag, so
 * the frames sent before it is up again do not each pay a wake-up. Safe: a
 * wait raises the flag before its last check and sleeps only while the
 * signal word still holds what it read before raising it, which this bump
 * changes; a wait already asleep is woken by the notify (it wakes all).
 */
export function signal(header: Int32Array, signalIndex: number, waiting: number): void {
  if (Atomics.load(header, waiting) !== 0 && Atomics.compareExchange(header, waiting, 1, 0) === 1) {
    Atomics.add(header, signalIndex, 1);
    Atomics.notify(header, signalIndex);
  }
}
