import { ClosedError } from "../errors.ts";
import {
  requireFunction,
  requireInteger,
  requireLogger,
  requireOptions,
  show,
} from "../internal/validate.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import { requireName } from "../internal/validate.ts";
import {
  BYTES_RECEIVED,
  claimEnd,
  CLOSED,
  CONSUMER_ERRORS,
  createRingBuffer,
  EVICTING,
  FRAMES_RECEIVED,
  isGone,
  READ,
  READER_BEAT,
  READER_END,
  READER_ROLE,
  type RingViews,
  ringViews,
  setEndState,
  signal,
  WRITE,
  WRITER_END,
  WRITER_SIGNAL,
  WRITER_WAITING,
} from "./_ring_layout.ts";
import { ringSide, type RingWait, waitAsync, waitSync } from "./_ring_wait.ts";
import { requireCurrentEpoch, startBeat, takeOver } from "./_ring_liveness.ts";
import { keepShape } from "./_shape_keeper.ts";
import type { WaitOptions, WaitResult } from "./backpressure.ts";
import { waitSignal } from "./_waiters.ts";
import {
  readRingStats,
  type RingCloseReport,
  ringCloseReport,
  type RingStats,
} from "./ring_stats.ts";
import type { RingTakeoverOptions } from "./ring_writer.ts";

/**
 * Receives one frame of a shared ring, read in place.
 *
 * @param slot The whole slot: the frame is its first `length` bytes. The
 *   view is reused for this slot and the bytes are overwritten once the
 *   callback returns, so copy what must outlive the call.
 * @param length The frame's length in bytes.
 * @param seq The frame's sequence number: 0 for the first frame of the ring.
 */
export type RingFrameCallback = (slot: Uint8Array, length: number, seq: number) => void;

/** Options of a {@linkcode RingReader}. */
export interface RingReaderOptions {
  /**
   * The reader's name in its log lines.
   *
   * @default {"default"}
   */
  name?: string;
  /**
   * Where the reader reports a writer it presumed dead and frame callbacks
   * whose promise rejected (the 1st, 2nd, 4th, 8th, ... of them).
   *
   * @default {CONSOLE_LOGGER}
   */
  logger?: Logger;
}

const ACTION = "attach a RingReader";

/** Return credit to the writer at least this often while polling. */
const RELEASE_EVERY = 64;
const POLL_ACTION = "poll the ring";
const TAKEOVER_ACTION = "take over the ring's reader";
/** A side claimed by `takeover()` for the reader it constructs next (a friend of the constructor). */
let claimed: number | undefined;
/** Whether a reader lives, for its beat loop; assigned in the class's static block. */
let checkIn: (reader: RingReader) => boolean;

/**
 * The consuming end of a shared ring (see {@linkcode RingWriter}). Usually
 * attached inside a Worker from the buffer the producer posted:
 *
 * ```ts ignore
 * self.onmessage = ({ data: buffer }) => {
 *   const reader = new RingReader(buffer);
 *   while (reader.wait() === "ready") reader.poll((slot, length) => handle(slot, length));
 *   reader.close();
 * };
 * ```
 *
 * Frames are read in place, in order, each exactly once. A frame counts as
 * consumed once its callback returned (or threw): the count is exact at any
 * moment, while `poll()` returns the slots to the writer as it goes (every
 * 64 frames and at its end).
 *
 * A reader shows the writer it lives while its thread's event loop runs,
 * while it waits and on each `poll()`; one that goes quiet for the ring's
 * `livenessTimeoutMs` (its Worker terminated, its thread stuck) is presumed
 * dead by the writer's waits. {@linkcode RingReader.takeover} then attaches
 * a replacement that continues with the first frame not consumed.
 *
 * Stopping a reader Worker: `worker.terminate()` takes effect only when the
 * Worker's thread returns to its event loop, never while it blocks in
 * `wait()` or runs a callback. Close the writer, or take the reader over:
 * its `wait()` then returns `"closed"` within a wait slice, its loop ends,
 * and the termination completes.
 *
 * @example Draining what a writer published, then the close
 * ```ts
 * import { RingReader, RingWriter } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const writer = RingWriter.create({ slots: 8, slotSize: 16 });
 * const reader = new RingReader(writer.buffer);
 * writer.send(new TextEncoder().encode("hello"));
 * writer.close();
 * const seen: string[] = [];
 * reader.poll((slot, length) => seen.push(new TextDecoder().decode(slot.subarray(0, length))));
 * assertEquals(seen, ["hello"]);
 * assertEquals(reader.wait(), "closed");
 * assertEquals(reader.close(), { consumed: 1, unconsumed: 0 });
 * assertEquals(reader.close(), { consumed: 1, unconsumed: 0 }); // idempotent
 * ```
 */
export class RingReader {
  /** The ring's buffer. */
  readonly buffer: SharedArrayBuffer;
  /** Slots in the ring. */
  readonly slots: number;
  /** Bytes per slot. */
  readonly slotSize: number;

  readonly #views: RingViews;
  readonly #header: Int32Array;
  readonly #stats: Float64Array;
  readonly #lengths: Int32Array;
  readonly #payload: number;
  readonly #mask: number;
  readonly #slotViews: (Uint8Array | undefined)[];
  readonly #frameWait: RingWait;
  readonly #name: string;
  readonly #logger: Logger;
  /** This end's word: while the ring's reader word equals it, this reader is the ring's. */
  readonly #word: number;
  /** The position after the last frame consumed. */
  #read = 0;
  /** Frames consumed since the ring began (by this reader and those before it). */
  #received = 0;
  #closeReport: RingCloseReport | undefined;

  /**
   * Replaces the ring's reader of `epoch` (see {@linkcode RingReader.epoch})
   * with a new one: at once when that reader closed or was presumed dead;
   * when it is still attached, it is asked to stop, and the takeover waits
   * until it does (at its next call, wait slice or beat) or shows no sign of
   * life for the ring's liveness timeout. The new reader starts with the
   * first frame the old one did not consume: a frame whose callback was
   * running when the old reader died is delivered again, every other frame
   * exactly once.
   *
   * @param buffer The ring's buffer.
   * @param epoch The epoch of the reader to replace.
   * @param options An abort signal.
   * @returns The new reader.
   * @throws {TypeError} when `buffer` is not a ring or an option has the wrong type.
   * @throws {RangeError} when `epoch` is not the epoch of the ring's reader.
   * @throws {ChronetixError} `E_TAKEN_OVER` when `epoch` is stale: another end took the
   *   side over first.
   *
   * @example Replacing a reader that stopped half way
   * ```ts
   * import { RingReader, RingWriter } from "@chronetix/core";
   * import { assertEquals } from "@std/assert";
   *
   * using writer = RingWriter.create({ slots: 8, slotSize: 8 });
   * const first = new RingReader(writer.buffer); // say, in a Worker that was terminated
   * for (let i = 0; i < 5; i++) writer.send(Uint8Array.of(i));
   * first.poll(() => {}, 2);
   * using reader = await RingReader.takeover(writer.buffer, first.epoch);
   * assertEquals(first.closed, true, "the old reader acknowledged");
   * const seen: number[] = [];
   * reader.poll((slot) => seen.push(slot[0]!));
   * assertEquals(seen, [2, 3, 4]);
   * assertEquals(writer.stats().readerTakeovers, 1);
   * ```
   */
  static async takeover(
    buffer: SharedArrayBuffer,
    epoch: number,
    options: RingReaderOptions & RingTakeoverOptions = {},
  ): Promise<RingReader> {
    readerOptions(options);
    const abort = waitSignal(TAKEOVER_ACTION, options);
    const views = ringViews(READER_ROLE, buffer);
    requireCurrentEpoch(views, READER_ROLE, epoch);
    claimed = await takeOver(views, READER_ROLE, epoch, abort);
    try {
      return new RingReader(buffer, options);
    } finally {
      claimed = undefined;
    }
  }

  /**
   * Attaches the reader of a ring (a ring has one reader; replace a gone
   * one with {@linkcode RingReader.takeover}).
   *
   * @param buffer A ring's buffer, from {@linkcode RingWriter.buffer}.
   * @param options The reader's name and logger.
   * @throws {TypeError} when `buffer` is not a whole ring or already has a
   *   reader, or an option has the wrong type; nothing is claimed then.
   */
  constructor(buffer: SharedArrayBuffer, options: RingReaderOptions = {}) {
    const { name, logger } = readerOptions(options);
    const views = ringViews(READER_ROLE, buffer);
    this.#word = claimed ?? claimEnd(READER_ROLE, views);
    claimed = undefined;
    this.#views = views;
    this.buffer = buffer;
    const { layout, header, stats, lengths } = views;
    this.slots = layout.slots;
    this.slotSize = layout.slotSize;
    this.#header = header;
    this.#stats = stats;
    this.#lengths = lengths;
    this.#payload = layout.payloadOffset;
    this.#mask = layout.slots - 1;
    this.#slotViews = new Array(layout.slots);
    // Continue after the last frame consumed: a reader that died may not
    // have released the frames it consumed since its last release.
    this.#received = stats[FRAMES_RECEIVED]!;
    this.#read = (this.#received % 2 ** 32) | 0;
    const released = Atomics.load(header, READ);
    if (released !== this.#read && ((this.#read - released) >>> 0) <= layout.slots) {
      // Their bytes were counted at the release that never came.
      for (let r = released; r !== this.#read; r = (r + 1) | 0) {
        stats[BYTES_RECEIVED]! += lengths[r & this.#mask]!;
      }
      Atomics.store(header, READ, this.#read);
      signal(header, WRITER_SIGNAL, WRITER_WAITING);
    }
    this.#name = name;
    this.#logger = logger;
    this.#frameWait = {
      side: ringSide(views, READER_ROLE, (epoch, silentMs) =>
        logger.error(
          `Writer of the ring of RingReader "${name}" (epoch ${epoch}) showed no sign of life for ${
            Math.round(silentMs)
          } ms: presumed dead, the reader drains what it published`,
        )),
      ready: () => this.available > 0 && this.#attached(),
      units: () => this.available,
      closed: () => !this.#attached() || (this.#writerGone() && this.available === 0),
      action: "wait for a frame",
    };
    startBeat(views, READER_ROLE, this, checkIn);
    keepShape(RingReader, keeper);
  }

  /**
   * This reader's epoch: 1 for a ring's first reader, one more for each
   * takeover. Pass it to {@linkcode RingReader.takeover} to replace this
   * reader.
   */
  get epoch(): number {
    return this.#word >>> 3;
  }

  /**
   * Whether this reader is done: it closed, or it is no longer the ring's
   * (presumed dead, or taken over).
   */
  get closed(): boolean {
    return !this.#attached();
  }

  /** Frames published and not yet consumed. */
  get available(): number {
    return (Atomics.load(this.#header, WRITE) - this.#read) >>> 0;
  }

  /** Whether the writer is gone (closed or presumed dead) and every frame it published was consumed. */
  get done(): boolean {
    return this.#writerGone() && this.available === 0;
  }

  /**
   * Hands each waiting frame, oldest first, to `callback`, then returns its
   * slot to the writer. Each frame counts as consumed as soon as its
   * callback returns. Stops early when this reader is asked to stop (a
   * takeover): the next call then throws {@linkcode ClosedError}.
   *
   * @param callback Receives the slot, the frame's length and its sequence number.
   * @param max Consume at most this many frames: a whole number, or `Infinity`.
   * @returns How many frames were consumed.
   * @throws {TypeError} when `callback` is not a function or `max` not a number.
   * @throws {RangeError} when `max` is negative or not whole.
   * @throws {unknown} what `callback` throws; that frame counts as consumed
   *   (and in `consumerErrors`), the ones after it stay in the ring. A
   *   callback that returns a promise that rejects is counted in
   *   `consumerErrors` too (its frame was consumed; the poll went on).
   * @throws {ClosedError} when the reader is closed or no longer the ring's.
   */
  poll(callback: RingFrameCallback, max: number = Infinity): number {
    const header = this.#header;
    const word = this.#word;
    if (typeof callback !== "function" || max !== Infinity || header[READER_END] !== word) {
      this.#checkPoll(callback, max);
    }
    header[READER_BEAT] = (header[READER_BEAT]! + 1) | 0;
    const stats = this.#stats;
    const lengths = this.#lengths;
    const mask = this.#mask;
    const available = (Atomics.load(header, WRITE) - this.#read) >>> 0;
    const n = available < max ? available : max;
    let r = this.#read;
    let received = this.#received;
    let done = 0;
    let length = 0;
    let bytes = 0;
    try {
      while (done < n) {
        const slot = r & mask;
        length = lengths[slot]!;
        const result: unknown = callback(
          this.#slotViews[slot] ?? this.#slotView(slot),
          length,
          received,
        );
        if (result !== undefined) this.#watch(result);
        // Asked to stop while the callback ran: count this frame and stop; replaced: just stop.
        const lost = header[READER_END] !== word;
        if (lost && !this.#stopping()) return done;
        r = (r + 1) | 0;
        done++;
        // The count is exact at every moment, for a close report while a callback hangs.
        stats[FRAMES_RECEIVED] = ++received;
        bytes += length;
        if (lost || done % RELEASE_EVERY === 0) {
          stats[BYTES_RECEIVED]! += bytes;
          bytes = 0;
          this.#release(r);
          if (lost) break;
        }
      }
    } catch (error) {
      // The callback threw: its frame counts as consumed (unless the ring is no longer ours).
      if (this.#mayRelease()) {
        r = (r + 1) | 0;
        done++;
        stats[FRAMES_RECEIVED] = ++received;
        bytes += length;
        stats[CONSUMER_ERRORS]!++;
      }
      throw error;
    } finally {
      this.#received = received;
      if (this.#mayRelease()) stats[BYTES_RECEIVED]! += bytes;
      this.#release(r);
      if (header[READER_END] !== word) this.#attached();
    }
    return done;
  }

  /**
   * Blocks the thread until a frame is waiting (`Atomics.wait`): for readers
   * in a Worker. Blocking the main thread stalls its event loop; use
   * {@linkcode RingReader.whenReadable} there.
   *
   * Like every wait of a ring end, it first spins on the ring for a while
   * that adapts to the stream: while frames flow (gaps under about 100 µs)
   * it spins instead of sleeping and, when only a few frames are waiting,
   * lets a batch of them (a quarter of the slots, at most 256) come in for
   * up to 50 µs while more keep arriving, so reader and writer stay off
   * each other's cache lines; once the stream is idle it spins a few
   * microseconds and sleeps, using no CPU.
   *
   * @param options A timeout; a signal is checked only before blocking (a
   *   blocked thread runs no event handlers).
   * @returns `"ready"` when a frame is waiting, `"closed"` when the writer
   *   is gone (closed or presumed dead) and everything was consumed, or this
   *   reader is (closed, or taken over), `"timed-out"` when `timeoutMs`
   *   passed first.
   * @throws {TypeError} when `options` is not an object or the signal not an `AbortSignal`.
   * @throws {RangeError} when `timeoutMs` is negative.
   * @throws {unknown} the signal's reason, when it was aborted.
   */
  wait(options?: WaitOptions): WaitResult {
    return waitSync(this.#frameWait, options);
  }

  /**
   * Resolves when a frame is waiting: the main-thread form of
   * {@linkcode RingReader.wait} (`Atomics.waitAsync`).
   *
   * @param options A timeout and an abort signal.
   * @returns `"ready"`, `"closed"` or `"timed-out"`, as for `wait()`.
   * @throws {TypeError} when `options` is not an object or the signal not an `AbortSignal`.
   * @throws {RangeError} when `timeoutMs` is negative.
   * @throws {unknown} (as a rejection) the signal's reason, when it aborts first.
   *
   * @example Reading on the main thread until the writer closes
   * ```ts
   * import { RingReader, RingWriter } from "@chronetix/core";
   * import { assertEquals, assertRejects } from "@std/assert";
   *
   * const writer = RingWriter.create({ slots: 4, slotSize: 8 });
   * using reader = new RingReader(writer.buffer);
   * assertEquals(await reader.whenReadable({ timeoutMs: 0 }), "timed-out");
   * await assertRejects(() => reader.whenReadable({ signal: AbortSignal.abort() }));
   * writer.send(Uint8Array.of(42));
   * writer.close();
   * const seen: number[] = [];
   * while (await reader.whenReadable() === "ready") reader.poll((slot) => seen.push(slot[0]!));
   * assertEquals(seen, [42]);
   * ```
   */
  whenReadable(options?: WaitOptions): Promise<WaitResult> {
    return waitAsync(this.#frameWait, options);
  }

  /**
   * Takes a snapshot of the ring's counters.
   *
   * @returns The same figures the writer sees.
   */
  stats(): RingStats {
    return readRingStats(this.#views);
  }

  /**
   * Closes the reading side: the writer's next `send()` throws, its waits
   * end with `"closed"`. Frames still in the ring are not consumed, and are
   * reported. Calling it again returns the same report.
   *
   * @returns Frames consumed, and frames published but never consumed (the
   *   writer's `close()` gives the final count if it was still sending).
   */
  close(): RingCloseReport {
    if (this.#closeReport !== undefined) return this.#closeReport;
    const word = Atomics.load(this.#header, READER_END);
    if (word === this.#word || word === this.#evicting) {
      setEndState(this.#views, READER_ROLE, word, CLOSED);
    }
    return this.#closeReport ??= ringCloseReport(this.#stats);
  }

  /** Same as {@linkcode RingReader.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  static {
    checkIn = (reader) => reader.#attached();
  }

  /** A callback's result: a promise that rejects counts as a consumer error (its frame was consumed). */
  #watch(result: unknown): void {
    if (typeof (result as PromiseLike<unknown>)?.then !== "function") return;
    Promise.resolve(result).then(undefined, (error) => {
      const n = ++this.#stats[CONSUMER_ERRORS]!;
      if ((n & (n - 1)) !== 0) return;
      this.#logger.error(
        `Frame callback of RingReader "${this.#name}" rejected (${n} consumer ${
          n === 1 ? "error" : "errors"
        } so far; logged at 1, 2, 4, 8, ...): ${
          error instanceof Error ? error.stack : show(error)
        }`,
      );
    });
  }

  /** This reader's word while a takeover asks it to stop. */
  get #evicting(): number {
    return (this.#word & ~7) | EVICTING;
  }

  #writerGone(): boolean {
    return isGone(Atomics.load(this.#header, WRITER_END));
  }

  /** Whether this reader is still the ring's; acknowledges an eviction (and then says no). */
  #attached(): boolean {
    const word = Atomics.load(this.#header, READER_END);
    if (word === this.#word) return true;
    if (word === this.#evicting) setEndState(this.#views, READER_ROLE, word, CLOSED);
    this.#closeReport ??= ringCloseReport(this.#stats);
    return false;
  }

  /** Whether this reader, found not attached, is being evicted (and may still count and release). */
  #stopping(): boolean {
    return Atomics.load(this.#header, READER_END) === this.#evicting;
  }

  /** Whether this reader may still count and release frames: it is the ring's, or being evicted. */
  #mayRelease(): boolean {
    const word = Atomics.load(this.#header, READER_END);
    return word === this.#word || word === this.#evicting;
  }

  /** The checks of `poll()` off its fast path. */
  #checkPoll(callback: RingFrameCallback, max: number): void {
    if (!this.#attached()) throw new ClosedError("RingReader", POLL_ACTION);
    requireFunction(POLL_ACTION, "callback", callback);
    if (typeof max !== "number") {
      throw new TypeError(
        `Cannot ${POLL_ACTION} as 'max' must be a number: current value is ${show(max)}`,
      );
    }
    if (max !== Infinity) requireInteger(POLL_ACTION, "max", max, 0, Number.MAX_SAFE_INTEGER);
  }

  #slotView(slot: number): Uint8Array {
    const start = this.#payload + slot * this.slotSize;
    const view = new Uint8Array(this.buffer, start, this.slotSize);
    this.#slotViews[slot] = view;
    return view;
  }

  /** Returns the slots up to `r` to the writer, unless this reader lost the ring. */
  #release(r: number): void {
    if (r === this.#read || !this.#mayRelease()) return;
    this.#read = r;
    Atomics.store(this.#header, READ, r);
    signal(this.#header, WRITER_SIGNAL, WRITER_WAITING);
  }
}

/** Checks a reader's options; returns them. */
function readerOptions(options: RingReaderOptions | undefined): { name: string; logger: Logger } {
  requireOptions(ACTION, "options", options);
  const name = requireName(ACTION, "name", options?.name ?? "default");
  const logger = requireLogger(ACTION, "logger", options?.logger ?? CONSOLE_LOGGER);
  return { name, logger };
}

/** A closed reader on a ring of its own, to keep readers' shape (see `_shape_keeper.ts`). */
function keeper(): RingReader {
  const reader = new RingReader(
    createRingBuffer({ slots: 2, slotSize: 8, livenessTimeoutMs: Infinity }),
  );
  reader.close();
  return reader;
}
