import { ClosedError } from "../errors.ts";
import { requireFunction } from "../internal/validate.ts";
import {
  attachRing,
  BYTES_RECEIVED,
  closeSide,
  CONSUMER_ERRORS,
  FRAMES_RECEIVED,
  READ,
  READER_CLOSED,
  READER_SIGNAL,
  READER_WAITING,
  type RingViews,
  signal,
  WRITE,
  WRITER_CLOSED,
  WRITER_SIGNAL,
  WRITER_WAITING,
} from "./_ring_layout.ts";
import { type RingWait, waitAsync, waitSync } from "./_ring_wait.ts";
import type { WaitOptions, WaitResult } from "./backpressure.ts";
import {
  readRingStats,
  type RingCloseReport,
  ringCloseReport,
  type RingStats,
} from "./ring_writer.ts";

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

/** Return credit to the writer at least this often while polling. */
const RELEASE_EVERY = 64;

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
 * Frames are read in place, in order, each exactly once. `poll()` returns
 * the slots to the writer as it goes (every 64 frames and at its end).
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
  #read = 0;
  #closeReport: RingCloseReport | undefined;

  /**
   * Attaches the reader of a ring (a ring has one reader).
   *
   * @param buffer A ring's buffer, from {@linkcode RingWriter.buffer}.
   * @throws {TypeError} when `buffer` is not a ring or already has a reader.
   */
  constructor(buffer: SharedArrayBuffer) {
    this.#views = attachRing("reader", buffer);
    this.buffer = buffer;
    const { layout, header, stats, lengths } = this.#views;
    this.slots = layout.slots;
    this.slotSize = layout.slotSize;
    this.#header = header;
    this.#stats = stats;
    this.#lengths = lengths;
    this.#payload = layout.payloadOffset;
    this.#mask = layout.slots - 1;
    this.#slotViews = new Array(layout.slots);
    this.#read = Atomics.load(header, READ);
    this.#frameWait = {
      side: { header, signal: READER_SIGNAL, waiting: READER_WAITING, sleepers: 0 },
      ready: () => this.#closeReport === undefined && this.available > 0,
      closed: () => this.#closeReport !== undefined || Atomics.load(header, WRITER_CLOSED) !== 0,
      action: "wait for a frame",
    };
  }

  /** Whether {@linkcode RingReader.close} was called. */
  get closed(): boolean {
    return this.#closeReport !== undefined;
  }

  /** Frames published and not yet consumed. */
  get available(): number {
    return (Atomics.load(this.#header, WRITE) - this.#read) >>> 0;
  }

  /** Whether the writer closed and every frame it published was consumed. */
  get done(): boolean {
    return Atomics.load(this.#header, WRITER_CLOSED) !== 0 && this.available === 0;
  }

  /**
   * Hands each waiting frame, oldest first, to `callback`, then returns its
   * slot to the writer.
   *
   * @param callback Receives the slot, the frame's length and its sequence number.
   * @param max Consume at most this many frames.
   * @returns How many frames were consumed.
   * @throws {unknown} what `callback` throws; that frame counts as consumed
   *   (and in `consumerErrors`), the ones after it stay in the ring.
   * @throws {ClosedError} when the reader is closed.
   */
  poll(callback: RingFrameCallback, max = Infinity): number {
    if (typeof callback !== "function" || this.#closeReport !== undefined) {
      if (this.#closeReport !== undefined) throw new ClosedError("RingReader", "poll the ring");
      requireFunction("poll the ring", "callback", callback);
    }
    const header = this.#header;
    const stats = this.#stats;
    const available = (Atomics.load(header, WRITE) - this.#read) >>> 0;
    const n = available < max ? available : max;
    const first = stats[FRAMES_RECEIVED]!;
    let r = this.#read;
    let bytes = 0;
    let done = 0;
    try {
      while (done < n) {
        const slot = r & this.#mask;
        const length = this.#lengths[slot]!;
        const seq = first + done;
        r = (r + 1) | 0;
        done++;
        bytes += length;
        callback(this.#slotViews[slot] ?? this.#slotView(slot), length, seq);
        if (done % RELEASE_EVERY === 0) {
          this.#release(r, bytes);
          bytes = 0;
        }
      }
    } catch (error) {
      stats[CONSUMER_ERRORS]!++;
      throw error;
    } finally {
      this.#release(r, bytes);
    }
    return done;
  }

  /**
   * Blocks the thread until a frame is waiting (`Atomics.wait`): for readers
   * in a Worker. Blocking the main thread stalls its event loop; use
   * {@linkcode RingReader.whenReadable} there.
   *
   * @param options A timeout; a signal is checked only before blocking (a
   *   blocked thread runs no event handlers).
   * @returns `"ready"` when a frame is waiting, `"closed"` when the writer
   *   closed and everything was consumed (or this reader closed),
   *   `"timed-out"` when `timeoutMs` passed first.
   * @throws {RangeError} when `timeoutMs` is negative.
   * @throws {unknown} the signal's reason, when it was aborted.
   */
  wait(options?: WaitOptions): WaitResult {
    return waitSync(this.#frameWait, options);
  }

  /**
   * Resolves when a frame is waiting: the main-thread form of
   * {@linkcode RingReader.wait} (`Atomics.waitAsync`; it does not keep the
   * process alive by itself).
   *
   * @param options A timeout and an abort signal.
   * @returns `"ready"`, `"closed"` or `"timed-out"`, as for `wait()`.
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
    this.#closeReport = ringCloseReport(this.#stats);
    closeSide(this.#header, READER_CLOSED, WRITER_SIGNAL);
    return this.#closeReport;
  }

  /** Same as {@linkcode RingReader.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #slotView(slot: number): Uint8Array {
    const start = this.#payload + slot * this.slotSize;
    const view = new Uint8Array(this.buffer, start, this.slotSize);
    this.#slotViews[slot] = view;
    return view;
  }

  /** Publishes consumption up to `r`: counters first, then the slots. */
  #release(r: number, bytes: number): void {
    if (r === this.#read) return;
    const stats = this.#stats;
    stats[FRAMES_RECEIVED]! += (r - this.#read) >>> 0;
    stats[BYTES_RECEIVED]! += bytes;
    this.#read = r;
    Atomics.store(this.#header, READ, r);
    signal(this.#header, WRITER_SIGNAL, WRITER_WAITING);
  }
}
