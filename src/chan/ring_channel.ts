import { ClosedError } from "../errors.ts";
import {
  type WaitOptions,
  type WaitResult,
  WOULD_BLOCK,
  type WouldBlock,
} from "../data/backpressure.ts";
import { RingReader, type RingReaderOptions } from "../data/ring_reader.ts";
import type { RingCloseReport, RingStats } from "../data/ring_stats.ts";
import { RingWriter, type RingWriterOptions, type SharedRingOptions } from "../data/ring_writer.ts";
import { requireName, requireOptions } from "../internal/validate.ts";
import { RECV_CLOSED, RECV_TIMED_OUT, RECV_WOULD_BLOCK } from "./_recv_results.ts";
import type { Receiver, RecvResult, Sender, SendResult } from "./channel_types.ts";
import { AUTO_CODEC, type FrameCodec, type FrameValue, requireCodec } from "./codec.ts";
import { checkWait } from "./_wait_list.ts";

/**
 * The codec of a ring end. Both ends of a ring must use the same one.
 *
 * @typeParam T The values the ring carries.
 */
export interface RingCodecOptions<T> {
  /**
   * Turns values into frames and back.
   *
   * @default {AUTO_CODEC}
   */
  codec?: FrameCodec<T>;
}

/** Options of {@linkcode RingSender.create} and {@linkcode RingReceiver.create}: the ring's shape, its codec, name, logger and metrics. */
export interface RingChannelOptions<T> extends SharedRingOptions, RingCodecOptions<T> {}

/** Options of `new RingSender(buffer)`: the codec, name, logger, metrics and batching. */
export interface RingSenderOptions<T> extends RingWriterOptions, RingCodecOptions<T> {}

/** Options of `new RingReceiver(buffer)`: the codec, name and logger. */
export interface RingReceiverOptions<T> extends RingReaderOptions, RingCodecOptions<T> {}

const SEND = "send an item";

/** Runs an awaited operation's wait, then tells how long is left of its timeout. */
function remaining(deadline: number): number {
  return deadline === Infinity ? Infinity : Math.max(0, deadline - performance.now());
}

/**
 * The sending end of a channel between threads: a {@linkcode Sender} over
 * the shared ring (`RingWriter`), whose items travel as frames written by a
 * codec (no structured clone, no `postMessage`). Post
 * {@linkcode RingSender.buffer} to the Worker (or island) that receives:
 * there, `new RingReceiver(buffer)` is the other end. One sender per ring:
 * for several producers in one thread, send through an in-thread
 * `channel()` and forward.
 *
 * Waits use the ring's `Atomics` wake-ups and real time (timeouts are not
 * on an injected clock: the other end is another thread).
 *
 * @typeParam T The values it carries (by default those of {@linkcode AUTO_CODEC}).
 *
 * @example Both ends in one thread (usually the receiver is in a Worker)
 * ```ts
 * import { RingReceiver, RingSender } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * using tx = RingSender.create({ slots: 8, slotSize: 64, name: "samples" });
 * using rx = new RingReceiver(tx.buffer);
 * await tx.send(Float64Array.of(1.5, 2.5));
 * tx.trySend({ id: 7 });
 * assertEquals(await rx.recv(), { ok: true, value: Float64Array.of(1.5, 2.5) });
 * assertEquals(rx.tryRecv(), { ok: true, value: { id: 7 } });
 * await tx.whenIdle();
 * tx.close();
 * assertEquals(await rx.recv(), { ok: false, reason: "closed" });
 * ```
 */
export class RingSender<T = FrameValue> implements Sender<T>, Disposable {
  /** The ring's name. */
  readonly name: string;
  readonly #writer: RingWriter;
  readonly #codec: FrameCodec<T>;
  readonly #scratch: Uint8Array;
  /** Views of the scratch buffer by length: a steady stream allocates none. */
  readonly #views: (Uint8Array | undefined)[] = [];

  /**
   * Creates a ring and attaches its sending end.
   *
   * @param options The ring's shape (`slots`, `slotSize`: the largest
   *   encoded item), codec, name, logger, metrics and batching.
   * @returns The sender of a new, empty ring.
   * @throws {RangeError} when the ring's shape is out of range (see `RingWriter.create()`).
   * @throws {TypeError} when an option has the wrong type.
   */
  static create<T = FrameValue>(options: RingChannelOptions<T> = {}): RingSender<T> {
    requireOptions("create a ring channel", "options", options);
    requireCodec("create a ring channel", options.codec ?? AUTO_CODEC);
    return new RingSender<T>(RingWriter.createBuffer(options), options);
  }

  /**
   * Attaches the sending end of an existing ring, or wraps a ring writer
   * you already hold (an island's `ctx.rings.out`, say; the sender then
   * owns it: closing one closes the other).
   *
   * @param ring A ring's buffer (`RingReceiver.buffer`,
   *   `RingWriter.createBuffer()`), or its `RingWriter`.
   * @param options Codec, name, logger, metrics and batching (only the
   *   codec and name apply to a writer that is wrapped).
   * @throws {TypeError} when `ring` is not a ring, or already has a writer,
   *   or an option has the wrong type.
   */
  constructor(ring: SharedArrayBuffer | RingWriter, options: RingSenderOptions<T> = {}) {
    const action = "attach a RingSender";
    requireOptions(action, "options", options);
    this.#codec = requireCodec<T>(action, options.codec ?? AUTO_CODEC);
    const { codec: _codec, ...writerOptions } = options;
    this.#writer = ring instanceof RingWriter ? ring : new RingWriter(ring, writerOptions);
    this.name = requireName(action, "name", options.name ?? "default");
    this.#scratch = new Uint8Array(this.#writer.slotSize);
  }

  /** The ring's buffer: post it to the thread that receives. */
  get buffer(): SharedArrayBuffer {
    return this.#writer.buffer;
  }

  /** Whether this end is done: it closed, or the ring is no longer its own. */
  get closed(): boolean {
    return this.#writer.closed;
  }

  /**
   * Encodes `value` and sends it now if the ring has a free slot.
   *
   * @param value The item.
   * @returns Its sequence number, or {@linkcode WOULD_BLOCK} when every slot is taken.
   * @throws {TypeError} when the codec cannot carry `value`.
   * @throws {RangeError} when the encoded item is larger than a slot.
   * @throws {ClosedError} when this end or the receiver closed (or is gone).
   */
  trySend(value: T): number | WouldBlock {
    if (this.#writer.closed) throw new ClosedError(`ring channel "${this.name}"`, SEND);
    const n = this.#codec.encode(value, this.#scratch);
    if (!(n >= 1 && n <= this.#scratch.length && Number.isInteger(n))) {
      throw new RangeError(
        `Cannot ${SEND} as codec "${this.#codec.name}" must return a length in [1, ${this.#scratch.length}]: current value is ${n}`,
      );
    }
    return this.#writer.send(this.#views[n] ??= this.#scratch.subarray(0, n));
  }

  /**
   * Encodes and sends `value`, waiting while the ring is full.
   *
   * @param value The item.
   * @param options A timeout and an abort signal.
   * @returns `"sent"`, or `"timed-out"` when `timeoutMs` passed first.
   * @throws {ClosedError} (as a rejection) when this end or the receiver closed (or is gone).
   * @throws {TypeError} (as a rejection) when the codec cannot carry `value` or an option has the wrong type.
   * @throws {RangeError} (as a rejection) when the encoded item is larger than a slot.
   * @throws {unknown} (as a rejection) the signal's reason, when it aborts first.
   */
  async send(value: T, options?: WaitOptions): Promise<SendResult> {
    if (this.trySend(value) !== WOULD_BLOCK) return "sent";
    const { timeoutMs, signal } = checkWait(SEND, options);
    const deadline = timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
    for (;;) {
      const w = await this.#writer.whenWritable({ timeoutMs: remaining(deadline), signal });
      if (w === "closed") throw new ClosedError(`ring channel "${this.name}"`, SEND);
      if (this.trySend(value) !== WOULD_BLOCK) return "sent";
      if (w === "timed-out" || remaining(deadline) === 0) return "timed-out";
    }
  }

  /**
   * Resolves when a slot is free (see `RingWriter.whenWritable()`).
   *
   * @param options A timeout and an abort signal.
   * @returns `"ready"`, `"closed"` or `"timed-out"`.
   */
  whenWritable(options?: WaitOptions): Promise<WaitResult> {
    return this.#writer.whenWritable(options);
  }

  /**
   * Resolves once the receiver took every item sent, or is gone.
   *
   * @returns A promise that resolves when nothing is in flight.
   */
  whenIdle(): Promise<void> {
    return this.#writer.whenIdle();
  }

  /**
   * Takes a snapshot of the ring's counters.
   *
   * @returns The ring's stats (frames, bytes, would-blocks, peak in flight).
   */
  stats(): RingStats {
    return this.#writer.stats();
  }

  /**
   * Closes the sending end: the receiver still gets every item sent, then
   * sees the end. Calling it again returns the same report.
   *
   * @returns Items the receiver had taken, and had yet to take.
   */
  close(): RingCloseReport {
    return this.#writer.close();
  }

  /** Same as {@linkcode RingSender.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The receiving end of a channel between threads: a {@linkcode Receiver}
 * over the shared ring (`RingReader`), decoding each frame with the codec.
 * Items come in order, each once. `recv()` and `for await` wait without
 * blocking the thread; in a Worker that does nothing else,
 * {@linkcode RingReceiver.recvSync} blocks instead (fastest).
 *
 * A frame the codec cannot read makes that receive throw
 * `FrameCodecError`; the frame is skipped and the next receive goes on
 * with the frame after it.
 *
 * @typeParam T The values it carries.
 *
 * @example A Worker sends, the main thread receives
 * ```ts
 * import { RingReceiver, RingSender } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * using rx = RingReceiver.create<number>({ slots: 16, slotSize: 16 });
 * // In the Worker: const tx = new RingSender<number>(buffer); ...
 * const tx = new RingSender<number>(rx.buffer);
 * for (let i = 1; i <= 3; i++) tx.trySend(i);
 * tx.close();
 * const seen: number[] = [];
 * for await (const n of rx) seen.push(n);
 * assertEquals(seen, [1, 2, 3]);
 * ```
 */
export class RingReceiver<T = FrameValue> implements Receiver<T>, Disposable {
  /** The ring's name. */
  readonly name: string;
  readonly #reader: RingReader;
  readonly #codec: FrameCodec<T>;
  #got: T | undefined;
  readonly #onFrame = (slot: Uint8Array, length: number): void => {
    this.#got = this.#codec.decode(slot.subarray(0, length));
  };

  /**
   * Creates a ring and attaches its receiving end (for items that a Worker
   * sends to this thread: post {@linkcode RingReceiver.buffer} to it).
   *
   * @param options The ring's shape, codec, name and logger.
   * @returns The receiver of a new, empty ring.
   * @throws {RangeError} when the ring's shape is out of range.
   * @throws {TypeError} when an option has the wrong type.
   */
  static create<T = FrameValue>(options: RingChannelOptions<T> = {}): RingReceiver<T> {
    requireOptions("create a ring channel", "options", options);
    requireCodec("create a ring channel", options.codec ?? AUTO_CODEC);
    return new RingReceiver<T>(RingWriter.createBuffer(options), {
      codec: options.codec,
      name: options.name,
      logger: options.logger,
    });
  }

  /**
   * Attaches the receiving end of an existing ring, or wraps a ring reader
   * you already hold (an island's `island.rings.out`, say; the receiver
   * then owns it: closing one closes the other).
   *
   * @param ring A ring's buffer (`RingSender.buffer`), or its `RingReader`.
   * @param options Codec, name and logger (only the codec and name apply
   *   to a reader that is wrapped).
   * @throws {TypeError} when `ring` is not a ring, or already has a reader,
   *   or an option has the wrong type.
   */
  constructor(ring: SharedArrayBuffer | RingReader, options: RingReceiverOptions<T> = {}) {
    const action = "attach a RingReceiver";
    requireOptions(action, "options", options);
    this.#codec = requireCodec<T>(action, options.codec ?? AUTO_CODEC);
    if (ring instanceof RingReader) {
      this.#reader = ring;
    } else {
      const readerOptions: RingReaderOptions = {};
      if (options.name !== undefined) readerOptions.name = options.name;
      if (options.logger !== undefined) readerOptions.logger = options.logger;
      this.#reader = new RingReader(ring, readerOptions);
    }
    this.name = requireName(action, "name", options.name ?? "default");
  }

  /** The ring's buffer: post it to the thread that sends. */
  get buffer(): SharedArrayBuffer {
    return this.#reader.buffer;
  }

  /** Whether the channel ended: this end closed, or the sender is gone and every item was taken. */
  get closed(): boolean {
    return this.#reader.closed || this.#reader.done;
  }

  /**
   * Takes the oldest item if there is one.
   *
   * @returns `{ ok: true, value }`, or `{ ok: false }` with `"would-block"` or `"closed"`.
   * @throws {FrameCodecError} when the codec cannot read the frame (it is skipped).
   */
  tryRecv(): RecvResult<T> {
    const reader = this.#reader;
    if (reader.closed) return RECV_CLOSED;
    if (reader.poll(this.#onFrame, 1) === 1) {
      const value = this.#got as T;
      this.#got = undefined;
      return { ok: true, value };
    }
    return reader.done ? RECV_CLOSED : RECV_WOULD_BLOCK;
  }

  /**
   * Takes the oldest item, waiting (without blocking the thread) until there is one.
   *
   * @param options A timeout and an abort signal.
   * @returns The item, or `{ ok: false }` with `"closed"` or `"timed-out"`.
   * @throws {FrameCodecError} (as a rejection) when the codec cannot read the frame (it is skipped).
   * @throws {unknown} (as a rejection) the signal's reason, when it aborts first.
   */
  async recv(options?: WaitOptions): Promise<RecvResult<T>> {
    const first = this.tryRecv();
    if (first !== RECV_WOULD_BLOCK) return first;
    const { timeoutMs, signal } = checkWait("receive an item", options);
    const deadline = timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
    for (;;) {
      const w = await this.#reader.whenReadable({ timeoutMs: remaining(deadline), signal });
      const r = this.tryRecv();
      if (r !== RECV_WOULD_BLOCK) return r;
      if (w === "closed") return RECV_CLOSED;
      if (w === "timed-out" || remaining(deadline) === 0) return RECV_TIMED_OUT;
    }
  }

  /**
   * Takes the oldest item, blocking the thread (`Atomics.wait`) until there
   * is one: for a Worker that only receives. On the main thread it stalls
   * the event loop; use {@linkcode RingReceiver.recv} there.
   *
   * @param options A timeout; a signal is checked only before blocking.
   * @returns The item, or `{ ok: false }` with `"closed"` or `"timed-out"`.
   * @throws {FrameCodecError} when the codec cannot read the frame (it is skipped).
   */
  recvSync(options?: WaitOptions): RecvResult<T> {
    const first = this.tryRecv();
    if (first !== RECV_WOULD_BLOCK) return first;
    const w = this.#reader.wait(options);
    const r = this.tryRecv();
    if (r !== RECV_WOULD_BLOCK) return r;
    return w === "timed-out" ? RECV_TIMED_OUT : RECV_CLOSED;
  }

  /**
   * Resolves when an item is waiting (see `RingReader.whenReadable()`).
   *
   * @param options A timeout and an abort signal.
   * @returns `"ready"`, `"closed"` or `"timed-out"`.
   */
  whenReadable(options?: WaitOptions): Promise<WaitResult> {
    return this.#reader.whenReadable(options);
  }

  /**
   * Takes a snapshot of the ring's counters.
   *
   * @returns The ring's stats.
   */
  stats(): RingStats {
    return this.#reader.stats();
  }

  /**
   * Closes the receiving end: the sender's next send throws `ClosedError`.
   * Calling it again returns the same report.
   *
   * @returns Items taken, and items sent but never taken.
   */
  close(): RingCloseReport {
    return this.#reader.close();
  }

  /** Same as {@linkcode RingReceiver.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Iterates the items as they arrive until the sender closes (or this end does).
   *
   * @returns An iterator over the items.
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: async (): Promise<IteratorResult<T>> => {
        const r = await this.recv();
        return r.ok ? { done: false, value: r.value } : { done: true, value: undefined };
      },
    };
  }
}
