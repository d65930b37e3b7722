import { requireFunction } from "../internal/validate.ts";
import {
  attachRing,
  BYTES_RECEIVED,
  closeSide,
  CONSUMER_ERRORS,
  FRAMES_RECEIVED,
  FRAMES_SENT,
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
  waitAsync,
  waitSync,
  WRITE,
  WRITER_CLOSED,
  WRITER_SIGNAL,
  WRITER_WAITING,
} from "./_ring_layout.ts";

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
 *   while (reader.wait() === "ok") reader.poll((slot, length) => handle(slot, length));
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
  #read = 0;
  #closed = false;

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
    this.#frameWait.header = header;
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
   */
  poll(callback: RingFrameCallback, max = Infinity): number {
    if (typeof callback !== "function") {
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
   * @param timeoutMs Give up after this long.
   * @returns `"ok"` when a frame is waiting, `"closed"` when the writer
   *   closed and everything was consumed, `"timed-out"`.
   */
  wait(timeoutMs = Infinity): "ok" | "closed" | "timed-out" {
    return waitSync(this.#frameWait, timeoutMs);
  }

  /**
   * Resolves when a frame is waiting: the main-thread form of
   * {@linkcode RingReader.wait} (`Atomics.waitAsync`; it does not keep the
   * process alive by itself).
   *
   * @param timeoutMs Give up after this long.
   * @returns `"ok"`, `"closed"` or `"timed-out"`, as for `wait()`.
   */
  whenReadable(timeoutMs = Infinity): Promise<"ok" | "closed" | "timed-out"> {
    return waitAsync(this.#frameWait, timeoutMs);
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
   * reported.
   *
   * @returns Frames consumed, and frames published but never consumed (the
   *   writer's `close()` gives the final count if it was still sending).
   */
  close(): RingCloseReport {
    if (!this.#closed) {
      this.#closed = true;
      closeSide(this.#header, READER_CLOSED, WRITER_SIGNAL);
    }
    const consumed = this.#stats[FRAMES_RECEIVED]!;
    return { consumed, unconsumed: this.#stats[FRAMES_SENT]! - consumed };
  }

  /** Same as {@linkcode RingReader.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  readonly #frameWait: RingWait = {
    header: new Int32Array(0),
    signal: READER_SIGNAL,
    waiting: READER_WAITING,
    ready: () => this.available > 0,
    closed: () => Atomics.load(this.#header, WRITER_CLOSED) !== 0,
    action: "wait for a frame",
  };

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
