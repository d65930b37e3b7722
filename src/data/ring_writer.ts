import { ClosedError } from "../errors.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import { requireNonEmptyString, show } from "../internal/validate.ts";
import { exportStats, type StatMetric } from "../metrics/export_stats.ts";
import {
  attachRing,
  BYTES_RECEIVED,
  BYTES_SENT,
  closeSide,
  CONSUMER_ERRORS,
  createRingBuffer,
  FRAMES_RECEIVED,
  FRAMES_SENT,
  PEAK_IN_FLIGHT,
  READ,
  READER_CLOSED,
  READER_SIGNAL,
  READER_WAITING,
  type RingViews,
  signal,
  UTIL_SUM,
  WOULD_BLOCK_COUNT,
  WRITE,
  WRITER_CLOSED,
  WRITER_SIGNAL,
  WRITER_WAITING,
} from "./_ring_layout.ts";
import { type RingSide, type RingWait, waitAsync, waitSync } from "./_ring_wait.ts";
import { type WaitOptions, type WaitResult, WOULD_BLOCK, type WouldBlock } from "./backpressure.ts";

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
  /** Slots in use as a fraction of `slots`, in [0, 1], now. */
  utilizationRatio: number;
  /**
   * Utilization averaged over every send, as the writer saw it: it re-reads
   * the reader's position every 64 frames (and whenever the ring looks
   * full), so this and the peak may overstate the slots in use by up to 64.
   */
  averageUtilizationRatio: number;
  /** The highest utilization seen at a send (see `averageUtilizationRatio`). */
  peakUtilizationRatio: number;
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
  /** Frames the reader had consumed when this endpoint closed. */
  consumed: number;
  /**
   * Frames published that the reader had not consumed when this endpoint
   * closed (and now never will, if the reader closed).
   */
  unconsumed: number;
}

/**
 * Reads a stats snapshot from a ring's header: for both endpoints. Not
 * public (the endpoints' `stats()` are).
 *
 * @param views The endpoint's views of the ring.
 * @returns The snapshot.
 */
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
    utilizationRatio: inFlight / slots,
    averageUtilizationRatio: sent === 0 ? 0 : stats[UTIL_SUM]! / sent / slots,
    peakUtilizationRatio: stats[PEAK_IN_FLIGHT]! / slots,
    wouldBlock: stats[WOULD_BLOCK_COUNT]!,
    discarded: Atomics.load(header, READER_CLOSED) !== 0 ? sent - stats[FRAMES_RECEIVED]! : 0,
    consumerErrors: stats[CONSUMER_ERRORS]!,
    writerClosed: Atomics.load(header, WRITER_CLOSED) !== 0,
    readerClosed: Atomics.load(header, READER_CLOSED) !== 0,
  };
}

/**
 * The close report of a ring endpoint, from its header: frames consumed and
 * published but not consumed, now. Not public.
 *
 * @param stats The ring's statistics words.
 * @returns The report.
 */
export function ringCloseReport(stats: Float64Array): RingCloseReport {
  const consumed = stats[FRAMES_RECEIVED]!;
  return { consumed, unconsumed: stats[FRAMES_SENT]! - consumed };
}

/** Options of a {@linkcode RingWriter}: its metrics. */
export interface RingWriterOptions {
  /**
   * Registry to export `chronetix_ring_*` metrics into (see
   * `docs/metrics.md`) until the writer closes.
   */
  metrics?: MetricsRegistry;
  /**
   * The ring's name: the `ring` label of its metrics.
   *
   * @default {"default"}
   */
  name?: string;
}

/** Options of {@linkcode RingWriter.create}. */
export interface SharedRingOptions extends RingWriterOptions {
  /**
   * Slots in the ring (a power of two): the credit, how many frames may be
   * in flight.
   *
   * @default {1024}
   */
  slots?: number;
  /**
   * Bytes per slot (a multiple of 8): the largest frame.
   *
   * @default {1024}
   */
  slotSize?: number;
}

/**
 * The producing end of a single-producer single-consumer ring in a
 * `SharedArrayBuffer`: fixed slots, one credit per slot, `Atomics` wake-ups.
 * Hand {@linkcode RingWriter.buffer} to a Worker, which attaches a
 * {@linkcode RingReader} and reads the frames in place.
 *
 * `send()` copies a frame into the next slot and publishes it; when every
 * slot is taken it returns {@linkcode WOULD_BLOCK} (nothing is dropped) and
 * the producer waits with {@linkcode RingWriter.whenWritable} (main thread)
 * or {@linkcode RingWriter.waitWritable} (in a Worker). The fast path
 * allocates nothing and takes no lock.
 *
 * To finish, await {@linkcode RingWriter.whenIdle} (the reader consumed
 * everything) and `close()`: the reader then sees the ring as done, and the
 * close report is exact. `close()` first and `whenIdle()` after works too;
 * the report then counts what was consumed by the close.
 *
 * @example A producer and a consumer on one ring
 * ```ts
 * import { RingReader, RingWriter, WOULD_BLOCK } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const writer = RingWriter.create({ slots: 4, slotSize: 64 });
 * const reader = new RingReader(writer.buffer); // usually inside a Worker
 * for (let i = 0; i < 4; i++) writer.send(Uint8Array.of(i));
 * assertEquals(writer.send(Uint8Array.of(4)), WOULD_BLOCK);
 * let sum = 0;
 * reader.poll((slot, length) => {
 *   sum += slot[0]! * length;
 * });
 * assertEquals(sum, 0 + 1 + 2 + 3);
 * assertEquals(writer.credit, 4);
 * await writer.whenIdle();
 * assertEquals(writer.close(), { consumed: 4, unconsumed: 0 });
 * assertEquals(reader.done, true);
 * ```
 */
export class RingWriter {
  /** The ring's buffer: post it to the Worker that reads. */
  readonly buffer: SharedArrayBuffer;
  /** Slots in the ring. */
  readonly slots: number;
  /** Bytes per slot: the largest frame. */
  readonly slotSize: number;

  readonly #views: RingViews;
  readonly #header: Int32Array;
  readonly #stats: Float64Array;
  readonly #lengths: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #payload: number;
  readonly #mask: number;
  readonly #side: RingSide;
  #write = 0;
  #readCache = 0;
  #closeReport: RingCloseReport | undefined;
  #collector: Disposable | undefined;

  /**
   * Creates a ring and attaches its writer.
   *
   * @param options Slot count and size.
   * @returns The writer of a new, empty ring.
   * @throws {RangeError} when `slots` is not a power of two in [2, 2^20] or
   *   `slotSize` not a multiple of 8 in [8, 16 MiB].
   */
  static create(options: SharedRingOptions = {}): RingWriter {
    return new RingWriter(RingWriter.createBuffer(options), options);
  }

  /**
   * Creates the buffer of a new ring without attaching to it: for rings
   * whose writer lives in a Worker (`new RingWriter(buffer)` there).
   *
   * @param options Slot count and size.
   * @returns The ring's buffer, with neither end attached.
   * @throws {RangeError} as {@linkcode RingWriter.create} does.
   */
  static createBuffer(options: SharedRingOptions = {}): SharedArrayBuffer {
    return createRingBuffer(options.slots ?? 1024, options.slotSize ?? 1024);
  }

  /**
   * Attaches the writer of an existing ring (a ring has one writer).
   *
   * @param buffer A ring's buffer, from {@linkcode RingWriter.createBuffer}.
   * @param options Metrics to export the ring's figures into, and its name.
   * @throws {TypeError} when `buffer` is not a ring or already has a writer,
   *   or the name is empty.
   */
  constructor(buffer: SharedArrayBuffer, options: RingWriterOptions = {}) {
    // Checked before attaching: a failed constructor must leave the ring free.
    const name = requireNonEmptyString("attach a RingWriter", "name", options.name ?? "default");
    this.#views = attachRing("writer", buffer);
    this.buffer = buffer;
    const { layout, header, stats, lengths, bytes } = this.#views;
    this.slots = layout.slots;
    this.slotSize = layout.slotSize;
    this.#header = header;
    this.#stats = stats;
    this.#lengths = lengths;
    this.#bytes = bytes;
    this.#payload = layout.payloadOffset;
    this.#mask = layout.slots - 1;
    this.#write = Atomics.load(header, WRITE);
    this.#readCache = Atomics.load(header, READ);
    this.#side = { header, signal: WRITER_SIGNAL, waiting: WRITER_WAITING, sleepers: 0 };
    this.#creditWait = {
      side: this.#side,
      ready: () => this.#closeReport === undefined && !this.#readerClosed() && this.credit > 0,
      closed: () => this.#closeReport !== undefined || this.#readerClosed(),
      action: "wait for credit",
    };
    this.#idleWait = {
      side: this.#side,
      ready: () => this.credit === this.slots || this.#readerClosed(),
      closed: () => false,
      action: "wait until the ring is idle",
    };
    if (options.metrics !== undefined) {
      this.#collector = exportStats(options.metrics, () => this.stats(), RING_METRICS, {
        labels: { ring: name },
      });
    }
  }

  /** Whether {@linkcode RingWriter.close} was called. */
  get closed(): boolean {
    return this.#closeReport !== undefined;
  }

  /** Free slots: how many frames `send()` accepts before {@linkcode WOULD_BLOCK}. */
  get credit(): number {
    return this.slots - ((this.#write - Atomics.load(this.#header, READ)) >>> 0);
  }

  /**
   * Copies a frame into the next slot and publishes it to the reader.
   *
   * @param bytes The payload, at most `slotSize` bytes.
   * @returns The frame's sequence number (0 for the first), or
   *   {@linkcode WOULD_BLOCK} when every slot is in use.
   * @throws {RangeError} when the frame is larger than a slot.
   * @throws {ClosedError} when this writer or the reader closed.
   */
  send(bytes: Uint8Array): number | WouldBlock {
    const w = this.#write;
    // The reader's position is re-read every 64 frames or when the ring
    // looks full, not per frame: its cache line then stays with the reader.
    let inFlight = (w - this.#readCache) >>> 0;
    if (inFlight >= this.slots || (w & 63) === 0) {
      this.#readCache = Atomics.load(this.#header, READ);
      inFlight = (w - this.#readCache) >>> 0;
    }
    const length = bytes.length;
    if (
      inFlight >= this.slots || !(length <= this.slotSize) || this.#closeReport !== undefined ||
      this.#header[READER_CLOSED] !== 0 || !(bytes instanceof Uint8Array)
    ) {
      return this.#refuse(bytes, inFlight);
    }
    const slot = w & this.#mask;
    this.#bytes.set(bytes, this.#payload + slot * this.slotSize);
    this.#lengths[slot] = length;
    this.#write = (w + 1) | 0;
    Atomics.store(this.#header, WRITE, this.#write);
    signal(this.#header, READER_SIGNAL, READER_WAITING);
    const stats = this.#stats;
    const seq = stats[FRAMES_SENT]!;
    stats[FRAMES_SENT] = seq + 1;
    stats[BYTES_SENT]! += length;
    stats[UTIL_SUM]! += inFlight + 1;
    if (inFlight + 1 > stats[PEAK_IN_FLIGHT]!) stats[PEAK_IN_FLIGHT] = inFlight + 1;
    return seq;
  }

  /**
   * Resolves when a slot is free: the main-thread way to wait for credit
   * (`Atomics.waitAsync`; it does not keep the process alive by itself).
   *
   * @param options A timeout and an abort signal.
   * @returns `"ready"` when a slot is free, `"closed"` when this writer or
   *   the reader closed, `"timed-out"` when `timeoutMs` passed first.
   * @throws {RangeError} when `timeoutMs` is negative.
   * @throws {unknown} (as a rejection) the signal's reason, when it aborts first.
   *
   * @example Waiting for credit, with a timeout
   * ```ts
   * import { RingReader, RingWriter } from "@chronetix/core";
   * import { assertEquals } from "@std/assert";
   *
   * using writer = RingWriter.create({ slots: 2, slotSize: 8 });
   * using reader = new RingReader(writer.buffer);
   * writer.send(Uint8Array.of(1));
   * writer.send(Uint8Array.of(2));
   * assertEquals(await writer.whenWritable({ timeoutMs: 0 }), "timed-out");
   * reader.poll(() => {}, 1);
   * assertEquals(await writer.whenWritable(), "ready");
   * reader.close();
   * assertEquals(await writer.whenWritable(), "closed");
   * ```
   */
  whenWritable(options?: WaitOptions): Promise<WaitResult> {
    return waitAsync(this.#creditWait, options);
  }

  /**
   * Blocks the thread until a slot is free (`Atomics.wait`): for producers
   * in a Worker. Blocking the main thread stalls its event loop.
   *
   * @param options A timeout; a signal is checked only before blocking (a
   *   blocked thread runs no event handlers).
   * @returns `"ready"`, `"closed"` (this writer or the reader closed) or
   *   `"timed-out"`.
   * @throws {RangeError} when `timeoutMs` is negative.
   * @throws {unknown} the signal's reason, when it was aborted.
   */
  waitWritable(options?: WaitOptions): WaitResult {
    return waitSync(this.#creditWait, options);
  }

  /**
   * Resolves once the reader consumed every frame published (at once if it
   * has), or closed. Like {@linkcode RingWriter.whenWritable}, it does not
   * keep the process alive by itself.
   *
   * @returns A promise that resolves when nothing is in flight.
   *
   * @example Waiting until a reader has consumed everything
   * ```ts
   * import { RingReader, RingWriter } from "@chronetix/core";
   * import { assertEquals } from "@std/assert";
   *
   * const writer = RingWriter.create({ slots: 4, slotSize: 8 });
   * using reader = new RingReader(writer.buffer);
   * writer.send(Uint8Array.of(1));
   * const idle = writer.whenIdle();
   * setTimeout(() => reader.poll(() => {}), 0); // usually a Worker
   * await idle;
   * assertEquals(writer.close(), { consumed: 1, unconsumed: 0 });
   * ```
   */
  async whenIdle(): Promise<void> {
    await waitAsync(this.#idleWait, undefined);
  }

  /**
   * Takes a snapshot of the ring's counters.
   *
   * @returns The same figures the reader sees.
   */
  stats(): RingStats {
    return readRingStats(this.#views);
  }

  /**
   * Closes the writing side: the reader still gets every frame already
   * published, then sees the ring as done; `send()` throws and waits end
   * with `"closed"`. Stops the metrics after a final update. Calling it
   * again returns the same report.
   *
   * @returns How many frames the reader had consumed, and had yet to
   *   consume, when the writer closed (await
   *   {@linkcode RingWriter.whenIdle} first for the final count).
   */
  close(): RingCloseReport {
    if (this.#closeReport !== undefined) return this.#closeReport;
    this.#closeReport = ringCloseReport(this.#stats);
    closeSide(this.#header, WRITER_CLOSED, READER_SIGNAL);
    this.#collector?.[Symbol.dispose]();
    this.#collector = undefined;
    return this.#closeReport;
  }

  /** Same as {@linkcode RingWriter.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #readerClosed = (): boolean => Atomics.load(this.#header, READER_CLOSED) !== 0;
  readonly #creditWait: RingWait;
  readonly #idleWait: RingWait;

  #refuse(bytes: Uint8Array, inFlight: number): WouldBlock {
    if (this.#closeReport !== undefined) throw new ClosedError("RingWriter", "send a frame");
    if (this.#header[READER_CLOSED] !== 0) {
      throw new ClosedError("ring's reader", "send a frame");
    }
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot send a frame as 'bytes' must be a Uint8Array: current value is ${show(bytes)}`,
      );
    }
    if (bytes.length > this.slotSize) {
      throw new RangeError(
        `Cannot send a frame of ${bytes.length} bytes as a slot holds ${this.slotSize} bytes`,
      );
    }
    if (inFlight >= this.slots) this.#stats[WOULD_BLOCK_COUNT]!++;
    return WOULD_BLOCK;
  }
}

const RING_METRICS: readonly StatMetric<RingStats>[] = [
  {
    name: "chronetix_ring_frames_sent_total",
    help: "Frames the ring's writer published",
    type: "counter",
    value: (s) => s.framesSent,
  },
  {
    name: "chronetix_ring_sent_bytes_total",
    help: "Payload bytes the ring's writer published",
    type: "counter",
    unit: "bytes",
    value: (s) => s.bytesSent,
  },
  {
    name: "chronetix_ring_frames_received_total",
    help: "Frames the ring's reader consumed",
    type: "counter",
    value: (s) => s.framesReceived,
  },
  {
    name: "chronetix_ring_would_block_total",
    help: "Sends refused with WOULD_BLOCK because every slot was in use",
    type: "counter",
    value: (s) => s.wouldBlock,
  },
  {
    name: "chronetix_ring_discarded_frames_total",
    help: "Frames left unread when the ring's reader closed",
    type: "counter",
    value: (s) => s.discarded,
  },
  {
    name: "chronetix_ring_consumer_errors_total",
    help: "Reader callbacks that threw; their frames counted as consumed",
    type: "counter",
    value: (s) => s.consumerErrors,
  },
  {
    name: "chronetix_ring_credit",
    help: "Free slots: frames the writer may still publish",
    type: "gauge",
    value: (s) => s.credit,
  },
  {
    name: "chronetix_ring_min_credit",
    help: "The lowest credit seen after a send",
    type: "gauge",
    value: (s) => s.minCredit,
  },
  {
    name: "chronetix_ring_utilization_ratio",
    help: "Slots in use as a fraction",
    type: "gauge",
    unit: "ratio",
    value: (s) => s.utilizationRatio,
  },
  {
    name: "chronetix_ring_utilization_avg_ratio",
    help: "Slot utilization averaged over every send",
    type: "gauge",
    unit: "ratio",
    value: (s) => s.averageUtilizationRatio,
  },
  {
    name: "chronetix_ring_utilization_peak_ratio",
    help: "The highest slot utilization seen",
    type: "gauge",
    unit: "ratio",
    value: (s) => s.peakUtilizationRatio,
  },
];
