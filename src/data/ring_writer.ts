import { ClosedError } from "../errors.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import { requireNonEmptyString, show } from "../internal/validate.ts";
import {
  attachRing,
  BYTES_SENT,
  closeSide,
  createRingBuffer,
  FRAMES_RECEIVED,
  FRAMES_SENT,
  PEAK_IN_FLIGHT,
  READ,
  READER_CLOSED,
  READER_SIGNAL,
  READER_WAITING,
  readRingStats,
  type RingCloseReport,
  type RingStats,
  type RingViews,
  type RingWait,
  signal,
  UTIL_SUM,
  waitAsync,
  waitSync,
  WOULD_BLOCK_COUNT,
  WRITE,
  WRITER_CLOSED,
  WRITER_SIGNAL,
  WRITER_WAITING,
} from "./_ring_layout.ts";
import { WOULD_BLOCK, type WouldBlock } from "./data_port.ts";
import { exportStats, type StatMetric } from "../metrics/stats_export.ts";

export type { RingCloseReport, RingStats } from "./_ring_layout.ts";

/** Options of a {@linkcode RingWriter}'s metrics. */
export interface RingWriterOptions {
  /** Registry to export `chronetix_ring_*` metrics into (see `docs/metrics.md`). */
  metrics?: MetricsRegistry;
  /**
   * The `ring` label of this ring's metrics.
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
 * writer.close();
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
  #write = 0;
  #readCache = 0;
  #closed = false;
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
   * @param options Metrics to export the ring's figures into.
   * @throws {TypeError} when `buffer` is not a ring or already has a writer.
   */
  constructor(buffer: SharedArrayBuffer, options: RingWriterOptions = {}) {
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
    this.#creditWait.header = header;
    if (options.metrics !== undefined) {
      const name = requireNonEmptyString("attach a RingWriter", "name", options.name ?? "default");
      this.#collector = exportStats(
        options.metrics,
        ["ring", name],
        () => this.stats(),
        RING_METRICS,
      );
    }
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
      inFlight >= this.slots || !(length <= this.slotSize) || this.#closed ||
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
   * @param timeoutMs Give up after this long.
   * @returns `"ok"` when a slot is free, `"closed"` when the reader closed,
   *   `"timed-out"`.
   */
  whenWritable(timeoutMs = Infinity): Promise<"ok" | "closed" | "timed-out"> {
    return waitAsync(this.#creditWait, timeoutMs);
  }

  /**
   * Blocks the thread until a slot is free (`Atomics.wait`): for producers
   * in a Worker. Blocking the main thread stalls its event loop.
   *
   * @param timeoutMs Give up after this long.
   * @returns `"ok"`, `"closed"` (the reader closed) or `"timed-out"`.
   */
  waitWritable(timeoutMs = Infinity): "ok" | "closed" | "timed-out" {
    return waitSync(this.#creditWait, timeoutMs);
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
   * published, then sees the ring as done.
   *
   * @returns How many frames the reader had consumed and had yet to consume.
   */
  close(): RingCloseReport {
    if (!this.#closed) {
      this.#closed = true;
      closeSide(this.#header, WRITER_CLOSED, READER_SIGNAL);
    }
    return this.#report();
  }

  /** Stops exporting metrics, after a final update (the ring stays as it is). */
  releaseMetrics(): void {
    this.#collector?.[Symbol.dispose]();
    this.#collector = undefined;
  }

  /**
   * Closes the writing side and waits until the reader has consumed every
   * frame, or closed, or `timeoutMs` passed.
   *
   * @param timeoutMs Stop waiting after this long.
   * @returns The final count; `unconsumed` is 0 unless the reader closed
   *   early or the wait timed out.
   */
  async drain(timeoutMs = Infinity): Promise<RingCloseReport> {
    this.close();
    await waitAsync(
      { ...this.#creditWait, ready: this.#empty, action: "drain the ring" },
      timeoutMs,
    );
    return this.#report();
  }

  /** Same as {@linkcode RingWriter.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #readerClosed = (): boolean => Atomics.load(this.#header, READER_CLOSED) !== 0;
  #empty = (): boolean => this.credit === this.slots;
  readonly #creditWait: RingWait = {
    header: new Int32Array(0),
    signal: WRITER_SIGNAL,
    waiting: WRITER_WAITING,
    ready: () => !this.#readerClosed() && this.credit > 0,
    closed: this.#readerClosed,
    action: "wait for credit",
  };

  #report(): RingCloseReport {
    const consumed = this.#stats[FRAMES_RECEIVED]!;
    return { consumed, unconsumed: this.#stats[FRAMES_SENT]! - consumed };
  }

  #refuse(bytes: Uint8Array, inFlight: number): WouldBlock {
    if (this.#closed) throw new ClosedError("RingWriter", "send a frame");
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
    value: (s) => s.utilizationPct / 100,
  },
  {
    name: "chronetix_ring_utilization_avg_ratio",
    help: "Slot utilization averaged over every send",
    type: "gauge",
    unit: "ratio",
    value: (s) => s.avgUtilizationPct / 100,
  },
  {
    name: "chronetix_ring_utilization_peak_ratio",
    help: "The highest slot utilization seen",
    type: "gauge",
    unit: "ratio",
    value: (s) => s.peakUtilizationPct / 100,
  },
];
