import { ClosedError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { exportStats } from "../metrics/export_stats.ts";
import {
  BYTES_SENT,
  claimEnd,
  CLOSED,
  createRingBuffer,
  DEAD,
  EVICTING,
  FRAMES_SENT,
  isGone,
  PEAK_IN_FLIGHT,
  READ,
  READER_END,
  READER_SIGNAL,
  READER_WAITING,
  releaseClaim,
  ringShape,
  type RingViews,
  ringViews,
  setEndState,
  signal,
  UTIL_SUM,
  WOULD_BLOCK_COUNT,
  WRITE,
  WRITER_BEAT,
  WRITER_END,
  WRITER_ROLE,
} from "./_ring_layout.ts";
import { type RingSide, ringSide, type RingWait, waitAsync, waitSync } from "./_ring_wait.ts";
import { requireCurrentEpoch, startBeat, takeOver } from "./_ring_liveness.ts";
import { keepShape } from "./_shape_keeper.ts";
import { type WaitOptions, type WaitResult, WOULD_BLOCK, type WouldBlock } from "./backpressure.ts";
import { waitSignal } from "./_waiters.ts";
import {
  readRingStats,
  RING_METRICS,
  type RingCloseReport,
  ringCloseReport,
  type RingStats,
} from "./ring_stats.ts";
import {
  lostLine,
  readerDeadLine,
  requireFrame,
  resumeCount,
  type RingTakeoverOptions,
  type RingWriterOptions,
  type SharedRingOptions,
  unreadable,
  writerOptions,
} from "./_ring_writer_options.ts";

export type { RingTakeoverOptions, RingWriterOptions, SharedRingOptions };

const TAKEOVER_ACTION = "take over the ring's writer";
/** A side claimed by `takeover()` for the end it constructs next (a friend of the constructor). */
let claimed: number | undefined;
/** Whether a writer lives, for its beat loop; assigned in the class's static block. */
let checkIn: (writer: RingWriter) => boolean;

/**
 * The producing end of a single-producer single-consumer ring in a
 * `SharedArrayBuffer`: fixed slots, one credit per slot, `Atomics` wake-ups.
 * Hand {@linkcode RingWriter.buffer} to a Worker, which attaches a
 * `RingReader` and reads the frames in place.
 *
 * `send()` copies a frame into the next slot and publishes it; when every
 * slot is taken it returns {@linkcode WOULD_BLOCK} (nothing is dropped) and
 * the producer waits with {@linkcode RingWriter.whenWritable} (main thread)
 * or {@linkcode RingWriter.waitWritable} (in a Worker). The fast path
 * allocates nothing and takes no lock. With `publishEvery` (see
 * {@linkcode RingWriterOptions}) a busy stream publishes once per batch
 * instead of once per frame, for close to the throughput of a hand-written
 * ring, without giving up any guarantee below.
 *
 * To finish, await {@linkcode RingWriter.whenIdle} (the reader consumed
 * everything) and `close()`: the reader then sees the ring as done, and the
 * close report is exact. `close()` first and `whenIdle()` after works too;
 * the report then counts what was consumed by the close.
 *
 * Each end watches the other while it waits: an end that shows no sign of
 * life for the ring's `livenessTimeoutMs` (its Worker terminated, its
 * thread stuck) is presumed dead, and the waits end with `"closed"`, so a
 * producer never waits, nor keeps the process alive, for a reader that is
 * gone. Its side can then be taken over by a new end
 * ({@linkcode RingWriter.takeover}, `RingReader.takeover()`), which
 * continues exactly where the old one stopped.
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
 *
 * @example Batched publication: a frame per send, an index per batch
 * ```ts
 * import { RingReader, RingWriter } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * using writer = RingWriter.create({ slots: 16, slotSize: 8, publishEvery: 4 });
 * using reader = new RingReader(writer.buffer);
 * for (let i = 0; i < 6; i++) writer.send(Uint8Array.of(i));
 * assertEquals(reader.available, 4); // the first batch of 4 is published
 * assertEquals(writer.unpublished, 2);
 * assertEquals(writer.flush(), 2); // a synchronous loop's last frames
 * assertEquals(reader.available, 6);
 * ```
 */
export class RingWriter {
  /** The ring's buffer: post it to the Worker that reads. */
  readonly buffer: SharedArrayBuffer;
  /** Slots in the ring. */
  readonly slots: number;
  /** Bytes per slot: the largest frame. */
  readonly slotSize: number;
  /**
   * Frames per publication of the write index (see
   * {@linkcode RingWriterOptions.publishEvery}), at most half the slots: 1
   * publishes every frame.
   */
  readonly publishEvery: number;

  readonly #views: RingViews;
  readonly #header: Int32Array;
  readonly #stats: Float64Array;
  readonly #lengths: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #payload: number;
  readonly #mask: number;
  readonly #side: RingSide;
  readonly #name: string;
  readonly #logger: Logger;
  /** This end's word: while the ring's writer word equals it, this writer is the ring's. */
  readonly #word: number;
  /** The position of the next frame (frames up to it are in their slots). */
  #write = 0;
  /** The position last published: frames from it to `#write` wait for their batch. */
  #published = 0;
  #readCache = 0;
  /** Frames this ring's writers accepted: this one's count, the source of sequence numbers. */
  #sent = 0;
  /** The unpublished frames' bytes and utilization samples, counted at publication. */
  #pendingBytes = 0;
  #pendingUtil = 0;
  /** The highest in flight this writer saw (the ring's, at attach, included). */
  #peak = 0;
  /** Whether a turn-end publication is queued. */
  #turnQueued = false;
  readonly #turnFlush = (): void => {
    this.#turnQueued = false;
    if (this.#write !== this.#published) this.flush();
  };
  #closeReport: RingCloseReport | undefined;
  #collector: Disposable | undefined;

  /**
   * Creates a ring and attaches its writer.
   *
   * @param options Slot count and size, liveness timeout, batching, metrics and name.
   * @returns The writer of a new, empty ring.
   * @throws {RangeError} when `slots` is not a power of two in [2, 2^20],
   *   `slotSize` not a multiple of 8 in [8, 16 MiB], `livenessTimeoutMs`
   *   not an integer from 10 (or `Infinity`), or `publishEvery` not a
   *   positive integer.
   * @throws {TypeError} when `options` is not an object, or a value has the wrong type.
   */
  static create(options: SharedRingOptions = {}): RingWriter {
    writerOptions(options);
    return new RingWriter(RingWriter.createBuffer(options), options);
  }

  /**
   * Creates the buffer of a new ring without attaching to it: for rings
   * whose writer lives in a Worker (`new RingWriter(buffer)` there).
   *
   * @param options Slot count and size, and liveness timeout.
   * @returns The ring's buffer, with neither end attached.
   * @throws {RangeError} as {@linkcode RingWriter.create} does.
   */
  static createBuffer(options: SharedRingOptions = {}): SharedArrayBuffer {
    return createRingBuffer(ringShape(options));
  }

  /**
   * Replaces the ring's writer of `epoch` (see {@linkcode RingWriter.epoch})
   * with a new one: at once when that writer closed or was presumed dead;
   * when it is still attached, it is asked to stop, and the takeover waits
   * until it does (at its next call, wait slice or beat; it publishes its
   * unpublished frames first) or shows no sign of life for the ring's
   * liveness timeout. The new writer continues the ring's sequence: the
   * reader gets every frame published, once, in order. Frames a writer
   * presumed dead had not published are lost (its close report counts them
   * as `unpublished`), and their sequence numbers are given again.
   *
   * @param buffer The ring's buffer.
   * @param epoch The epoch of the writer to replace.
   * @param options Metrics, name and batching of the new writer, and an abort signal.
   * @returns The new writer.
   * @throws {TypeError} when `buffer` is not a ring or an option has the wrong type.
   * @throws {RangeError} when `epoch` is not the epoch of the ring's writer.
   * @throws {ChronetixError} `E_TAKEN_OVER` when `epoch` is stale: another end took the
   *   side over first.
   *
   * @example Replacing a writer that died
   * ```ts
   * import { RingReader, RingWriter } from "@chronetix/core";
   * import { assertEquals } from "@std/assert";
   *
   * const buffer = RingWriter.createBuffer({ slots: 4, slotSize: 8 });
   * const first = new RingWriter(buffer); // say, in a Worker that crashed
   * first.send(Uint8Array.of(1));
   * first.close();
   * using writer = await RingWriter.takeover(buffer, first.epoch);
   * assertEquals(writer.epoch, first.epoch + 1);
   * assertEquals(writer.send(Uint8Array.of(2)), 1); // the sequence goes on
   * using reader = new RingReader(buffer);
   * const seen: number[] = [];
   * reader.poll((slot) => seen.push(slot[0]!));
   * assertEquals(seen, [1, 2]);
   * ```
   */
  static async takeover(
    buffer: SharedArrayBuffer,
    epoch: number,
    options: RingWriterOptions & RingTakeoverOptions = {},
  ): Promise<RingWriter> {
    writerOptions(options);
    const abort = waitSignal(TAKEOVER_ACTION, options);
    const views = ringViews(WRITER_ROLE, buffer);
    requireCurrentEpoch(views, WRITER_ROLE, epoch);
    claimed = await takeOver(views, WRITER_ROLE, epoch, abort);
    try {
      return new RingWriter(buffer, options);
    } finally {
      claimed = undefined;
    }
  }

  /**
   * Attaches the writer of an existing ring (a ring has one writer; replace
   * a gone one with {@linkcode RingWriter.takeover}).
   *
   * @param buffer A ring's buffer, from {@linkcode RingWriter.createBuffer}.
   * @param options Metrics to export the ring's figures into, name, logger and batching.
   * @throws {TypeError} when `buffer` is not a whole ring or already has a
   *   writer, or an option has the wrong type; nothing is claimed then.
   * @throws {RangeError} when `publishEvery` is not a positive integer.
   */
  constructor(buffer: SharedArrayBuffer, options: RingWriterOptions = {}) {
    // Everything is checked before the side is claimed: a failed constructor leaves the ring free.
    const { metrics, name, logger, publishEvery } = writerOptions(options);
    const views = ringViews(WRITER_ROLE, buffer);
    try {
      this.#word = claimed ?? claimEnd(WRITER_ROLE, views);
    } finally {
      claimed = undefined;
    }
    this.#views = views;
    this.buffer = buffer;
    const { layout, header, stats, lengths, bytes } = views;
    this.slots = layout.slots;
    this.slotSize = layout.slotSize;
    // At most half the ring: the reader works on one half while the writer fills the other.
    this.publishEvery = Math.min(publishEvery, layout.slots >> 1);
    this.#header = header;
    this.#stats = stats;
    this.#lengths = lengths;
    this.#bytes = bytes;
    this.#payload = layout.payloadOffset;
    this.#mask = layout.slots - 1;
    this.#name = name;
    this.#logger = logger;
    this.#write = Atomics.load(header, WRITE);
    this.#published = this.#write;
    this.#readCache = Atomics.load(header, READ);
    this.#sent = resumeCount(stats, lengths, this.#write, this.#mask);
    this.#peak = stats[PEAK_IN_FLIGHT]!;
    this.#side = ringSide(
      views,
      WRITER_ROLE,
      (epoch, silentMs) => logger.error(readerDeadLine(name, epoch, silentMs)),
    );
    this.#creditWait = {
      side: this.#side,
      ready: () => this.#attached() && !this.#readerGone() && this.credit > 0,
      units: () => this.credit,
      closed: () => !this.#attached() || this.#readerGone(),
      action: "wait for credit",
    };
    this.#idleWait = {
      side: this.#side,
      ready: () => this.credit === this.slots || this.#readerGone() || this.#replaced(),
      units: () => this.#idleWait.ready() ? 1 : 0,
      closed: () => false,
      action: "wait until the ring is idle",
    };
    if (metrics !== undefined) {
      try {
        this.#collector = exportStats(metrics, () => this.stats(), RING_METRICS, {
          labels: { ring: name },
        });
      } catch (error) {
        // The registry refused: give the side back.
        releaseClaim(views, WRITER_ROLE, this.#word);
        throw error;
      }
    }
    startBeat(views, WRITER_ROLE, this, checkIn);
    keepShape(RingWriter, keeper);
  }

  /**
   * This writer's epoch: 1 for a ring's first writer, one more for each
   * takeover. Pass it to {@linkcode RingWriter.takeover} to replace this
   * writer.
   */
  get epoch(): number {
    return this.#word >>> 3;
  }

  /**
   * Whether this writer is done: it closed, or it is no longer the ring's
   * (presumed dead, or taken over).
   */
  get closed(): boolean {
    return !this.#attached();
  }

  /**
   * Free slots: how many frames `send()` accepts before
   * {@linkcode WOULD_BLOCK} (unpublished frames hold their slots).
   */
  get credit(): number {
    return this.slots -
      Math.min((this.#write - Atomics.load(this.#header, READ)) >>> 0, this.slots);
  }

  /**
   * Frames in their slots that wait for their batch's publication: the
   * reader does not see them yet (see {@linkcode RingWriter.flush}). Always
   * 0 with `publishEvery: 1`.
   */
  get unpublished(): number {
    return (this.#write - this.#published) >>> 0;
  }

  /**
   * Copies a frame into the next slot and publishes it to the reader (with
   * `publishEvery` above 1, when its batch is complete, or sooner: see
   * {@linkcode RingWriterOptions.publishEvery}).
   *
   * @param bytes The payload, at most `slotSize` bytes.
   * @returns The frame's sequence number (0 for the ring's first), or
   *   {@linkcode WOULD_BLOCK} when every slot is in use (everything sent is
   *   then published).
   * @throws {TypeError} when `bytes` is not a `Uint8Array` or its buffer was detached.
   * @throws {RangeError} when the frame is larger than a slot.
   * @throws {ClosedError} when this writer closed (or is no longer the
   *   ring's), or the reader closed or was presumed dead.
   */
  send(bytes: Uint8Array): number | WouldBlock {
    const header = this.#header;
    const w = this.#write;
    // The reader's position is re-read every 64 frames or when the ring
    // looks full, not per frame: its cache line then stays with the reader.
    let inFlight = (w - this.#readCache) >>> 0;
    if (inFlight >= this.slots || (w & 63) === 0) {
      this.#readCache = Atomics.load(header, READ);
      inFlight = (w - this.#readCache) >>> 0;
      header[WRITER_BEAT] = (header[WRITER_BEAT]! + 1) | 0;
    }
    // A plain, non-empty Uint8Array: its `length` is the real one. Anything
    // else, a closed or gone end and a full ring take the slow path.
    if (
      !ArrayBuffer.isView(bytes) || bytes.constructor !== Uint8Array ||
      inFlight >= this.slots || header[WRITER_END] !== this.#word ||
      (header[READER_END]! & 6) === CLOSED
    ) {
      return this.#sendSlow(bytes, inFlight);
    }
    const length = bytes.length;
    if (length === 0 || length > this.slotSize) return this.#sendSlow(bytes, inFlight);
    return this.#copy(bytes, length, inFlight);
  }

  /**
   * Publishes every frame sent and not yet published (see
   * {@linkcode RingWriterOptions.publishEvery}), waking the reader if it
   * sleeps, and shows the reader this writer lives. Cheap when there is
   * nothing to publish: a writer in a synchronous loop (an island task, a
   * Worker that blocks between sends) calls it whenever it stops sending.
   * Never throws: a writer that closed has nothing left to publish, and
   * one that lost the ring (presumed dead) cannot publish any more; its
   * close report counts those frames as `unpublished`.
   *
   * @returns How many frames this call published.
   */
  flush(): number {
    const header = this.#header;
    if (header[WRITER_END] === this.#word) header[WRITER_BEAT] = (header[WRITER_BEAT]! + 1) | 0;
    const from = this.#published;
    if (this.#write === from || !this.#attached()) return (this.#published - from) >>> 0;
    this.#publish();
    return (this.#published - from) >>> 0;
  }

  /**
   * Resolves when a slot is free: the main-thread way to wait for credit
   * (`Atomics.waitAsync`). Publishes what is unpublished first. While it
   * waits it watches the reader: a reader that shows no sign of life for
   * the ring's liveness timeout is presumed dead and the wait ends with
   * `"closed"`, so it never keeps the process alive for long after the
   * reader is gone. Before it sleeps it spins on the ring, for a while that
   * adapts to the stream (see `RingReader.wait()`): a busy stream gets its
   * credit without a hop through the event loop.
   *
   * @param options A timeout and an abort signal.
   * @returns `"ready"` when a slot is free, `"closed"` when this writer or
   *   the reader is gone (closed or dead), `"timed-out"` when `timeoutMs`
   *   passed first.
   * @throws {TypeError} when `options` is not an object or the signal not an `AbortSignal`.
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
    if (this.#write !== this.#published) this.flush();
    return waitAsync(this.#creditWait, options);
  }

  /**
   * Blocks the thread until a slot is free (`Atomics.wait`): for producers
   * in a Worker. Publishes what is unpublished first. Blocking the main
   * thread stalls its event loop. Like {@linkcode RingWriter.whenWritable},
   * it ends with `"closed"` when the reader dies.
   *
   * @param options A timeout; a signal is checked only before blocking (a
   *   blocked thread runs no event handlers).
   * @returns `"ready"`, `"closed"` (this writer or the reader is gone) or
   *   `"timed-out"`.
   * @throws {TypeError} when `options` is not an object or the signal not an `AbortSignal`.
   * @throws {RangeError} when `timeoutMs` is negative.
   * @throws {unknown} the signal's reason, when it was aborted.
   */
  waitWritable(options?: WaitOptions): WaitResult {
    if (this.#write !== this.#published) this.flush();
    return waitSync(this.#creditWait, options);
  }

  /**
   * Publishes what is unpublished, then resolves once the reader consumed
   * every frame (at once if it has), or is gone (closed or presumed dead).
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
    if (this.#write !== this.#published) this.flush();
    await waitAsync(this.#idleWait, undefined);
  }

  /**
   * Takes a snapshot of the ring's counters.
   *
   * @returns The same figures the reader sees (frames count once published).
   */
  stats(): RingStats {
    return readRingStats(this.#views);
  }

  /**
   * Closes the writing side: publishes what is unpublished, then the
   * reader still gets every frame published and sees the ring as done;
   * `send()` throws and waits end with `"closed"`. Stops the metrics after
   * a final update. Calling it again returns the same report.
   *
   * @returns How many frames the reader had consumed (exactly: each frame
   *   whose callback returned), and had yet to consume, when the writer
   *   closed (await {@linkcode RingWriter.whenIdle} first for the final
   *   count); and, if this writer lost the ring before it could publish
   *   them, its `unpublished` frames.
   */
  close(): RingCloseReport {
    if (this.#closeReport !== undefined) return this.#closeReport;
    const word = Atomics.load(this.#header, WRITER_END);
    if (word === this.#word || word === this.#evicting) {
      this.#publish();
      setEndState(this.#views, WRITER_ROLE, word, CLOSED);
    }
    return this.#finish();
  }

  /** Same as {@linkcode RingWriter.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  readonly #creditWait: RingWait;
  readonly #idleWait: RingWait;

  /** This writer's word while a takeover asks it to stop. */
  get #evicting(): number {
    return (this.#word & ~7) | EVICTING;
  }

  /** Whether the ring has another writer now, or presumed this one dead: its idle is no longer this writer's to wait for. */
  #replaced(): boolean {
    const word = Atomics.load(this.#header, WRITER_END);
    return word >>> 3 !== this.#word >>> 3 || (word & 7) === DEAD;
  }

  #readerGone(): boolean {
    return isGone(Atomics.load(this.#header, READER_END));
  }

  /**
   * Whether this writer is still the ring's; acknowledges an eviction (and
   * then says no), after publishing what it had not: a writer asked to stop
   * still owns the side until it acknowledges.
   */
  #attached(): boolean {
    const word = Atomics.load(this.#header, WRITER_END);
    if (word === this.#word) return true;
    if (word === this.#evicting) {
      this.#publish();
      setEndState(this.#views, WRITER_ROLE, word, CLOSED);
    }
    this.#finish();
    return false;
  }

  /** Ends this writer's life here: the close report (with what it could not publish), the metrics. */
  #finish(): RingCloseReport {
    if (this.#closeReport === undefined) {
      const report = ringCloseReport(this.#stats);
      const lost = this.unpublished;
      if (lost > 0) {
        report.unpublished = lost;
        this.#logger.error(lostLine(this.#name, this.epoch, lost));
      }
      this.#closeReport = report;
    }
    this.#collector?.[Symbol.dispose]();
    this.#collector = undefined;
    return this.#closeReport;
  }

  static {
    checkIn = (writer) => writer.#attached();
  }

  /** Copies a frame into the next slot and counts it; publishes when its batch is due. */
  #copy(bytes: Uint8Array, length: number, inFlight: number): number {
    const w = this.#write;
    const slot = w & this.#mask;
    this.#bytes.set(bytes, this.#payload + slot * this.slotSize);
    this.#lengths[slot] = length;
    const seq = this.#sent;
    this.#sent = seq + 1;
    this.#pendingBytes += length;
    const used = inFlight + 1;
    this.#pendingUtil += used;
    if (used > this.#peak) this.#peak = used;
    this.#write = (w + 1) | 0;
    // Due: a whole batch, a full ring, or a reader that sleeps (it must wake to everything).
    if (
      ((this.#write - this.#published) >>> 0) >= this.publishEvery || used >= this.slots ||
      this.#header[READER_WAITING] !== 0
    ) {
      this.#publish();
    } else if (!this.#turnQueued) {
      // An async writer that stops sending: published at the end of this turn.
      this.#turnQueued = true;
      queueMicrotask(this.#turnFlush);
    }
    return seq;
  }

  /** Counts the unpublished frames, then publishes them and wakes a sleeping reader. */
  #publish(): void {
    const stats = this.#stats;
    // Counted before the frames are published: the reader's count never passes this one.
    stats[FRAMES_SENT] = this.#sent;
    stats[BYTES_SENT]! += this.#pendingBytes;
    stats[UTIL_SUM]! += this.#pendingUtil;
    if (this.#peak > stats[PEAK_IN_FLIGHT]!) stats[PEAK_IN_FLIGHT] = this.#peak;
    this.#pendingBytes = 0;
    this.#pendingUtil = 0;
    this.#published = this.#write;
    Atomics.store(this.#header, WRITE, this.#write);
    signal(this.#header, READER_SIGNAL, READER_WAITING);
  }

  /** The slow path of `send()`: checks everything, then copies or refuses. */
  #sendSlow(bytes: Uint8Array, inFlight: number): number | WouldBlock {
    if (!this.#attached()) throw new ClosedError("RingWriter", "send a frame");
    if (this.#readerGone()) throw new ClosedError("ring's reader", "send a frame");
    const length = requireFrame(bytes, this.slotSize);
    if (inFlight >= this.slots) {
      // Nothing waits for its batch when the producer is told to wait.
      if (this.#write !== this.#published) this.#publish();
      this.#stats[WOULD_BLOCK_COUNT]!++;
      return WOULD_BLOCK;
    }
    try {
      return this.#copy(bytes, length, inFlight);
    } catch (error) {
      // A buffer detached or shrunk under us: nothing was counted or published.
      throw unreadable(error);
    }
  }
}

/** A closed writer on a ring of its own, to keep writers' shape (see `_shape_keeper.ts`). */
function keeper(): RingWriter {
  const writer = new RingWriter(
    createRingBuffer({ slots: 2, slotSize: 8, livenessTimeoutMs: Infinity }),
  );
  writer.close();
  return writer;
}
