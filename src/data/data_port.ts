import { ClosedError } from "../errors.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import { exportStats } from "../metrics/export_stats.ts";
import { type DataPortCloseReport, type DataPortStats, PORT_METRICS } from "./data_port_stats.ts";
import {
  requireFunction,
  requireInteger,
  requireLogger,
  requireOptions,
  show,
} from "../internal/validate.ts";
import { NO_BLOCK, SlabAllocator, slabCore } from "./slab_allocator.ts";
import type { MemoryWait, SlabCore } from "./_slab_core.ts";
import { type WaitOptions, type WaitResult, WOULD_BLOCK, type WouldBlock } from "./backpressure.ts";
import { Waiters, waitSignal, waitTimeout } from "./_waiters.ts";
import { requireBytes } from "./_checks.ts";
import { requireName } from "../internal/validate.ts";
import { requireMetricsRegistry } from "../metrics/registry.ts";
import type {
  DataPortOptions,
  FrameCallback,
  FrameMeta,
  WouldBlockReason,
} from "./data_port_types.ts";

export {
  DATAPORT_CAPABILITY,
  type DataPortOptions,
  type FrameCallback,
  type FrameMeta,
  type WouldBlockReason,
} from "./data_port_types.ts";

const QUEUED = 1;
const RECEIVED = 2;
const ACTION = "create a DataPort";
const WAIT_ACTION = "wait for credit";
const READY: Promise<WaitResult> = Promise.resolve("ready");
const CLOSED: Promise<WaitResult> = Promise.resolve("closed");
const TIMED_OUT: Promise<WaitResult> = Promise.resolve("timed-out");

/**
 * Moves frames from a producer to a consumer on one thread with credit
 * backpressure and no copy after the first: `send(bytes)` copies the bytes
 * into a slab block and returns its {@linkcode FrameMeta}, the consumer reads
 * the block in place and `recycle()`s it, which returns the credit.
 *
 * Nothing is dropped: when the credit (or the allocator) is exhausted,
 * `send()` returns {@linkcode WOULD_BLOCK} and the producer awaits
 * {@linkcode DataPort.whenWritable}. The fast path allocates nothing.
 *
 * The consumer either pulls with {@linkcode DataPort.receive} or registers
 * {@linkcode DataPort.onFrame}, which delivers queued frames in a microtask
 * after `send()`. Either way it must recycle every frame: frames it forgets
 * hold credit and show as `unrecycled` in {@linkcode DataPort.stats}.
 *
 * `close()` ends the port: sends, receives and new consumers throw
 * {@linkcode ClosedError}, waits resolve `"closed"`. Frames the consumer
 * still holds stay readable and may still be recycled.
 *
 * @example Backpressure with a consumer callback
 * ```ts
 * import { DataPort, WOULD_BLOCK } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * using port = new DataPort({ credit: 4 });
 * let total = 0;
 * port.onFrame((meta, view) => {
 *   total += view[0]!;
 *   port.recycle(meta);
 * });
 * for (let i = 0; i < 100; i++) {
 *   while (port.send(Uint8Array.of(1, 2, 3)) === WOULD_BLOCK) await port.whenWritable();
 * }
 * await port.whenIdle();
 * assertEquals(total, 100);
 * assertEquals(port.stats().minCredit, 0);
 * ```
 */
export class DataPort {
  /** The allocator's bytes: a frame's payload is at `offsetOf(meta)`, `lengthOf(meta)` long. */
  readonly bytes: Uint8Array;
  /** The allocator frames are copied into. */
  readonly allocator: SlabAllocator;

  /** The allocator's core, called directly on the hot path. */
  readonly #slab: SlabCore;
  readonly #creditLimit: number;
  readonly #low: number;
  readonly #unit: number;
  readonly #maxFrame: number;
  readonly #length: Int32Array;
  /** Per block index: QUEUED or RECEIVED while the block is a frame of this port, else 0. */
  readonly #state: Uint8Array;
  readonly #queue: Int32Array;
  readonly #name: string;
  readonly #logger: Logger;
  readonly #ownsAllocator: boolean;
  readonly #writableWaiters = new Waiters();
  readonly #memoryWait: MemoryWait;
  #head = 0;
  #queued = 0;
  #credit: number;
  #minCredit: number;
  /** `!creditBlocked && !memoryBlocked`, kept as one field for the hot path. */
  #writable = true;
  /** The credit ran out and has not risen past the low watermark since. */
  #creditBlocked = false;
  /** A send was refused for memory and no block of its size class is free yet. */
  #memoryBlocked = false;
  /** Why the last `send()` was refused. */
  #lastRefusal: WouldBlockReason = "credit";
  #idleWaiters: PromiseWithResolvers<void> | undefined;
  #consumer: FrameCallback | undefined;
  #deliveryScheduled = false;
  #closeReport: DataPortCloseReport | undefined;
  #closed = false;
  #framesSent = 0;
  #bytesSent = 0;
  #utilSum = 0;
  #peakInFlight = 0;
  #wouldBlockCredit = 0;
  #wouldBlockMemory = 0;
  #consumerErrors = 0;
  #collector: Disposable | undefined;

  /**
   * Creates a port.
   *
   * @param options Credit, watermark, allocator, metrics, name and logger.
   * @throws {RangeError} when the credit or watermark is out of range.
   * @throws {TypeError} when `options` is not an object, the allocator is
   *   not a {@linkcode SlabAllocator}, the metrics not a `MetricsRegistry`,
   *   the logger not a `Logger` or the name empty.
   */
  constructor(options: DataPortOptions = {}) {
    requireOptions(ACTION, "options", options);
    const credit = requireInteger(ACTION, "credit", options.credit ?? 1024, 1, 1 << 24);
    this.#low = requireInteger(
      ACTION,
      "lowWatermark",
      options.lowWatermark ?? Math.floor(credit / 4),
      0,
      credit - 1,
    );
    if (options.allocator !== undefined && !(options.allocator instanceof SlabAllocator)) {
      throw new TypeError(
        `Cannot ${ACTION} as 'allocator' must be a SlabAllocator: current value is ${
          show(options.allocator)
        }`,
      );
    }
    const metrics = options.metrics === undefined
      ? undefined
      : requireMetricsRegistry(ACTION, "metrics", options.metrics);
    this.#name = requireName(ACTION, "name", options.name ?? "default");
    this.#logger = requireLogger(ACTION, "logger", options.logger ?? CONSOLE_LOGGER);
    this.#ownsAllocator = options.allocator === undefined;
    this.allocator = options.allocator ?? new SlabAllocator();
    this.bytes = this.allocator.bytes;
    this.#slab = slabCore(this.allocator);
    this.#unit = this.allocator.sizeClasses[0]!;
    this.#maxFrame = this.allocator.maxBlockSize;
    this.#creditLimit = credit;
    this.#credit = credit;
    this.#minCredit = credit;
    const blocks = this.#slab.granules;
    this.#length = new Int32Array(blocks);
    this.#state = new Uint8Array(blocks);
    this.#queue = new Int32Array(credit);
    this.#memoryWait = { cls: 0, wake: (closed) => this.#memoryFreed(closed) };
    if (metrics !== undefined) {
      try {
        this.#collector = exportStats(metrics, () => this.stats(), PORT_METRICS, {
          labels: { port: this.#name },
        });
      } catch (error) {
        if (this.#ownsAllocator) this.allocator.close();
        throw error;
      }
    }
  }

  /** Credit left: how many more frames `send()` accepts before it returns {@linkcode WOULD_BLOCK}. */
  get credit(): number {
    return this.#credit;
  }

  /**
   * `false` from a refused `send()` until the port can take frames again:
   * after the credit ran out, until it rises past the low watermark; after
   * a refusal for memory, until the allocator has a block of the refused
   * frame's size class free (a block freed by any owner of a shared
   * allocator counts).
   */
  get writable(): boolean {
    return this.#writable;
  }

  /**
   * Why the port is not writable, `undefined` when it is: after `send()`
   * returned {@linkcode WOULD_BLOCK}, this tells whether that send was
   * refused because the consumer holds all the credit (`"credit"`) or
   * because the allocator, maybe shared with other ports, has no block for
   * the frame (`"memory"`). It stays until the cause is gone; then it names
   * the other cause if that one still holds. {@linkcode DataPort.whenWritable}
   * waits for both to clear.
   *
   * @example Telling a full allocator from spent credit
   * ```ts
   * import { DataPort, SlabAllocator, WOULD_BLOCK } from "@chronetix/core";
   * import { assertEquals } from "@std/assert";
   *
   * using allocator = new SlabAllocator({ slabs: 1, slabSize: 1024, sizeClasses: [1024] });
   * using port = new DataPort({ credit: 4, allocator });
   * port.send(new Uint8Array(1000));
   * assertEquals(port.send(new Uint8Array(10)), WOULD_BLOCK);
   * assertEquals(port.wouldBlockReason, "memory");
   * const writable = port.whenWritable();
   * const meta = port.receive();
   * if (meta !== WOULD_BLOCK) port.recycle(meta); // frees the block
   * assertEquals(await writable, "ready");
   * assertEquals(port.wouldBlockReason, undefined);
   * ```
   */
  get wouldBlockReason(): WouldBlockReason | undefined {
    const credit = this.#creditBlocked;
    const memory = this.#memoryBlocked;
    return credit && memory ? this.#lastRefusal : credit ? "credit" : memory ? "memory" : undefined;
  }

  /** Whether {@linkcode DataPort.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Copies `bytes` into a new frame and queues it for the consumer.
   *
   * @param bytes The payload, at most the allocator's largest block.
   * @returns The frame, or {@linkcode WOULD_BLOCK} when the credit or the
   *   allocator is exhausted (nothing is queued then;
   *   {@linkcode DataPort.wouldBlockReason} tells which).
   * @throws {TypeError} when `bytes` is not a `Uint8Array` or its buffer was
   *   detached.
   * @throws {RangeError} when `bytes` is larger than the largest block.
   * @throws {ClosedError} when the port (or its allocator) is closed.
   */
  send(bytes: Uint8Array): FrameMeta | WouldBlock {
    // A plain, non-empty Uint8Array: its `length` is the real one. Anything
    // else (a subclass, an empty or detached array, a bad value) and every
    // refusal take the slow path.
    if (
      !ArrayBuffer.isView(bytes) || bytes.constructor !== Uint8Array || this.#credit === 0 ||
      this.#closed
    ) {
      return this.#sendSlow(bytes);
    }
    const length = bytes.length;
    if (length === 0 || length > this.#maxFrame) return this.#sendSlow(bytes);
    const meta = this.#slab.alloc(length) as FrameMeta;
    if (meta === NO_BLOCK) return this.#refuseMemory(length);
    return this.#enqueue(bytes, length, meta);
  }

  /**
   * Takes the oldest queued frame (the pull alternative to
   * {@linkcode DataPort.onFrame}).
   *
   * @returns The frame, or {@linkcode WOULD_BLOCK} when none is queued.
   * @throws {ClosedError} when the port is closed.
   */
  receive(): FrameMeta | WouldBlock {
    if (this.#queued === 0) {
      if (this.#closed) throw new ClosedError("DataPort", "receive a frame");
      return WOULD_BLOCK;
    }
    return this.#slab.word[this.#take()]! as FrameMeta;
  }

  /** Takes the oldest queued frame (there is one); returns its block index. */
  #take(): number {
    const g = this.#queue[this.#head]!;
    this.#head = this.#head + 1 === this.#creditLimit ? 0 : this.#head + 1;
    this.#queued--;
    this.#state[g] = RECEIVED;
    return g;
  }

  /**
   * Frees a received frame's block and returns its credit; when the credit
   * rises past the low watermark, the port becomes writable again.
   *
   * Frames the consumer still holds may be recycled after the port closed.
   *
   * @param meta A frame this port sent and the consumer received.
   * @throws {RangeError} when the frame was already recycled, was not yet
   *   received, or does not belong to this port.
   */
  recycle(meta: FrameMeta): void {
    const g = this.#slab.liveIndex(meta);
    if (g < 0 || this.#state[g] !== RECEIVED) this.#badRecycle(meta, g);
    this.#state[g] = 0;
    this.#slab.freeAt(g);
    const credit = ++this.#credit;
    if (!this.#writable) this.#creditReturned(credit);
    if (credit === this.#creditLimit && this.#idleWaiters !== undefined) {
      this.#idleWaiters.resolve();
      this.#idleWaiters = undefined;
    }
  }

  /**
   * The byte offset of a frame's payload in {@linkcode DataPort.bytes}.
   *
   * @param meta A frame in flight on this port.
   * @returns The offset.
   * @throws {RangeError} when the frame is not in flight on this port.
   */
  offsetOf(meta: FrameMeta): number {
    return this.#frameIndex(meta) * this.#unit;
  }

  /**
   * The payload length of a frame.
   *
   * @param meta A frame in flight on this port.
   * @returns Bytes.
   * @throws {RangeError} when the frame is not in flight on this port.
   */
  lengthOf(meta: FrameMeta): number {
    return this.#length[this.#frameIndex(meta)]!;
  }

  /**
   * A view of a frame's payload, without copying (allocates the view object).
   *
   * @param meta A frame in flight on this port.
   * @returns A `Uint8Array` over the payload; valid until the frame is recycled.
   * @throws {RangeError} when the frame is not in flight on this port.
   */
  view(meta: FrameMeta): Uint8Array {
    const g = this.#frameIndex(meta);
    const offset = g * this.#unit;
    return this.bytes.subarray(offset, offset + this.#length[g]!);
  }

  /**
   * Registers the consumer: queued frames are delivered to `callback` in
   * order, in a microtask after `send()`. The callback must recycle each
   * frame (now or later); if it throws, or returns a promise that rejects,
   * the error is counted and logged and the frame recycled (if it still
   * holds it).
   *
   * @param callback Receives each frame and a view of its payload.
   * @returns A handle that unregisters the consumer.
   * @throws {TypeError} when a consumer is already registered (a port has one
   *   consumer) or `callback` is not a function.
   * @throws {ClosedError} when the port is closed.
   */
  onFrame(callback: FrameCallback): Disposable {
    requireFunction("register a frame consumer", "callback", callback);
    if (this.#closed) {
      throw new ClosedError("DataPort", "register a frame consumer");
    }
    if (this.#consumer !== undefined) {
      throw new TypeError(
        "Cannot register a frame consumer as the DataPort already has one: dispose it first",
      );
    }
    this.#consumer = callback;
    if (this.#queued > 0 && !this.#deliveryScheduled) {
      this.#deliveryScheduled = true;
      queueMicrotask(this.#deliver);
    }
    return {
      [Symbol.dispose]: () => {
        if (this.#consumer === callback) this.#consumer = undefined;
      },
    };
  }

  /**
   * Resolves when the port is writable (at once if it is): when the credit
   * rose past the low watermark after it ran out, or memory for the refused
   * frame was freed (by this port's consumer or by any other owner of a
   * shared allocator).
   *
   * @param options A timeout and an abort signal.
   * @returns `"ready"` when `send()` may succeed again, `"closed"` when the
   *   port or its allocator closed, `"timed-out"` when `timeoutMs` passed first.
   * @throws {TypeError} when `options` is not an object or the signal not an `AbortSignal`.
   * @throws {RangeError} when `timeoutMs` is negative.
   * @throws {unknown} (as a rejection) the signal's reason, when it aborts first.
   *
   * @example Waiting for credit, with a timeout
   * ```ts
   * import { DataPort, WOULD_BLOCK } from "@chronetix/core";
   * import { assertEquals } from "@std/assert";
   *
   * const port = new DataPort({ credit: 1 });
   * port.send(Uint8Array.of(1));
   * assertEquals(await port.whenWritable({ timeoutMs: 0 }), "timed-out");
   * const waiting = port.whenWritable();
   * const meta = port.receive();
   * if (meta !== WOULD_BLOCK) port.recycle(meta);
   * assertEquals(await waiting, "ready");
   * port.close();
   * assertEquals(await port.whenWritable(), "closed");
   * ```
   */
  whenWritable(options?: WaitOptions): Promise<WaitResult> {
    const timeoutMs = waitTimeout(WAIT_ACTION, options);
    const signal = waitSignal(WAIT_ACTION, options);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#closed || this.#slab.closed) return CLOSED;
    if (this.#writable) return READY;
    if (timeoutMs === 0) return TIMED_OUT;
    return this.#writableWaiters.wait(timeoutMs, signal);
  }

  /**
   * Resolves when every frame sent has been recycled (all credit is back),
   * at once if it has, or when the port closes.
   *
   * @returns A promise that resolves when nothing is in flight.
   */
  whenIdle(): Promise<void> {
    if (this.#credit === this.#creditLimit || this.#closed) {
      return Promise.resolve();
    }
    this.#idleWaiters ??= Promise.withResolvers<void>();
    return this.#idleWaiters.promise;
  }

  /**
   * Takes a snapshot of the counters.
   *
   * @returns The current figures.
   */
  stats(): DataPortStats {
    const limit = this.#creditLimit;
    const inFlight = limit - this.#credit;
    return {
      framesSent: this.#framesSent,
      bytesSent: this.#bytesSent,
      framesReceived: this.#framesSent - this.#queued,
      framesRecycled: this.#framesSent - inFlight,
      creditLimit: limit,
      credit: this.#credit,
      minCredit: this.#minCredit,
      unreceived: this.#queued,
      unrecycled: inFlight - this.#queued,
      utilizationRatio: inFlight / limit,
      averageUtilizationRatio: this.#framesSent === 0
        ? 0
        : this.#utilSum / this.#framesSent / limit,
      peakUtilizationRatio: this.#peakInFlight / limit,
      wouldBlockCredit: this.#wouldBlockCredit,
      wouldBlockMemory: this.#wouldBlockMemory,
      consumerErrors: this.#consumerErrors,
    };
  }

  /**
   * Closes the port: frames the consumer never received are recycled and
   * reported, waits resolve `"closed"`, later sends, receives and consumer
   * registrations throw {@linkcode ClosedError}, and the metrics stop after
   * a final update. An allocator the port created is closed with it.
   * Calling it again returns the same report.
   *
   * @returns How many frames were left unreceived and unrecycled.
   *
   * @example What a close reports
   * ```ts
   * import { DataPort, WOULD_BLOCK } from "@chronetix/core";
   * import { assertEquals, assertThrows } from "@std/assert";
   *
   * const port = new DataPort({ credit: 4 });
   * port.send(Uint8Array.of(1));
   * port.send(Uint8Array.of(2));
   * const held = port.receive(); // the consumer still holds it
   * assertEquals(port.close(), { unreceived: 1, unrecycled: 1 });
   * assertEquals(port.close(), { unreceived: 1, unrecycled: 1 }); // idempotent
   * assertThrows(() => port.send(Uint8Array.of(3)), Error, "the DataPort is closed");
   * if (held !== WOULD_BLOCK) port.recycle(held); // still allowed
   * assertEquals(port.credit, 4);
   * ```
   */
  close(): DataPortCloseReport {
    if (this.#closeReport !== undefined) return this.#closeReport;
    this.#closed = true;
    // Before the recycling below, which would make the port writable.
    this.#writableWaiters.settle("closed");
    this.#slab.deleteMemoryWait(this.#memoryWait);
    this.#consumer = undefined;
    const unreceived = this.#queued;
    while (this.#queued > 0) this.recycle(this.#slab.word[this.#take()]! as FrameMeta);
    this.#closeReport = { unreceived, unrecycled: this.#creditLimit - this.#credit };
    this.#idleWaiters?.resolve();
    this.#idleWaiters = undefined;
    this.#collector?.[Symbol.dispose]();
    this.#collector = undefined;
    if (this.#ownsAllocator) this.allocator.close();
    return this.#closeReport;
  }

  /** Same as {@linkcode DataPort.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #deliver = (): void => {
    this.#deliveryScheduled = false;
    const bytes = this.bytes;
    const word = this.#slab.word;
    while (this.#consumer !== undefined) {
      if (this.#queued === 0) return;
      const g = this.#take();
      const meta = word[g]! as FrameMeta;
      const offset = g * this.#unit;
      try {
        const result: unknown = this.#consumer(
          meta,
          bytes.subarray(offset, offset + this.#length[g]!),
        );
        if (result !== undefined) this.#watch(result, meta, g);
      } catch (error) {
        this.#consumerFailed(error, meta, g);
      }
    }
  };

  /** A callback's result: a promise that rejects counts as a throw. */
  #watch(result: unknown, meta: FrameMeta, g: number): void {
    if (typeof (result as PromiseLike<unknown>)?.then !== "function") return;
    Promise.resolve(result).then(undefined, (error) => this.#consumerFailed(error, meta, g));
  }

  /**
   * Counts a frame callback's error (a throw or a rejection), recycles its
   * frame if the consumer still holds it, and logs the 1st, 2nd, 4th, 8th, ...
   */
  #consumerFailed(error: unknown, meta: FrameMeta, g: number): void {
    if (this.#state[g] === RECEIVED && this.#slab.word[g] === meta) this.recycle(meta);
    const n = ++this.#consumerErrors;
    if ((n & (n - 1)) !== 0) return;
    this.#logger.error(
      `Frame callback of DataPort "${this.#name}" threw, its frame was recycled (${n} ${
        n === 1 ? "error" : "errors"
      } so far; logged at 1, 2, 4, 8, ...): ${error instanceof Error ? error.stack : show(error)}`,
    );
  }

  /** Copies a frame into its block `meta` and queues it. */
  #enqueue(bytes: Uint8Array, length: number, meta: FrameMeta): FrameMeta {
    const g = this.#slab.lastIndex;
    try {
      this.bytes.set(bytes, g * this.#unit);
    } catch (error) {
      // A buffer detached or shrunk under us: give the block back.
      this.#slab.freeAt(g);
      throw new TypeError(
        `Cannot send a frame as 'bytes' could not be read: ${
          error instanceof Error ? error.message : show(error)
        }`,
      );
    }
    this.#length[g] = length;
    this.#state[g] = QUEUED;
    this.#framesSent++;
    this.#bytesSent += length;
    const credit = --this.#credit;
    if (credit < this.#minCredit) this.#minCredit = credit;
    const inFlight = this.#creditLimit - credit;
    this.#utilSum += inFlight;
    if (inFlight > this.#peakInFlight) this.#peakInFlight = inFlight;
    if (credit === 0) {
      this.#creditBlocked = true;
      this.#writable = false;
    }
    let tail = this.#head + this.#queued++;
    if (tail >= this.#creditLimit) tail -= this.#creditLimit;
    this.#queue[tail] = g;
    if (this.#consumer !== undefined && !this.#deliveryScheduled) {
      this.#deliveryScheduled = true;
      queueMicrotask(this.#deliver);
    }
    return meta;
  }

  /** The slow path of `send()`: checks everything, then sends or refuses. */
  #sendSlow(bytes: Uint8Array): FrameMeta | WouldBlock {
    if (this.#closed) throw new ClosedError("DataPort", "send a frame");
    const length = requireBytes("send a frame", "bytes", bytes);
    if (length > this.#maxFrame) {
      throw new RangeError(
        `Cannot send a frame as 'bytes' is longer than the largest block (${this.#maxFrame} bytes): current length is ${length}`,
      );
    }
    if (this.#credit === 0) {
      this.#wouldBlockCredit++;
      this.#lastRefusal = "credit";
      this.#creditBlocked = true;
      this.#writable = false;
      return WOULD_BLOCK;
    }
    const meta = this.#slab.alloc(length === 0 ? 1 : length) as FrameMeta;
    if (meta === NO_BLOCK) return this.#refuseMemory(length);
    return this.#enqueue(bytes, length, meta);
  }

  /** Refuses a frame of `length` bytes for memory; waits for a block of its class. */
  #refuseMemory(length: number): WouldBlock {
    this.#wouldBlockMemory++;
    this.#lastRefusal = "memory";
    this.#memoryBlocked = true;
    this.#writable = false;
    this.#memoryWait.cls = this.#slab.classOf(length);
    this.#slab.addMemoryWait(this.#memoryWait);
    return WOULD_BLOCK;
  }

  /** The allocator can serve the refused frame now (or closed). */
  #memoryFreed(closed: boolean): void {
    // A closed allocator never has room again: the port stays blocked on memory.
    if (closed) return this.#writableWaiters.settle("closed");
    this.#memoryBlocked = false;
    if (!this.#creditBlocked) this.#becomeWritable();
  }

  /** A recycle while not writable: lifts the credit block past the low watermark. */
  #creditReturned(credit: number): void {
    if (this.#creditBlocked && credit > this.#low) this.#creditBlocked = false;
    if (!this.#creditBlocked && !this.#memoryBlocked) this.#becomeWritable();
  }

  #becomeWritable(): void {
    this.#writable = true;
    this.#writableWaiters.settle("ready");
  }

  /** The block index of a frame in flight on this port; throws when `meta` is none. */
  #frameIndex(meta: FrameMeta): number {
    const g = this.#slab.liveIndex(meta);
    if (g < 0 || this.#state[g] === 0) {
      throw new RangeError(
        `Cannot read frame as 'meta' is not a frame in flight on this port: current value is ${
          show(meta)
        }`,
      );
    }
    return g;
  }

  #badRecycle(meta: FrameMeta, g: number): never {
    const why = g >= 0 && this.#state[g] === QUEUED
      ? "'meta' has not been received yet"
      : g < 0 && this.#slab.handleState(meta) === "freed"
      ? "'meta' was already recycled"
      : "'meta' is not a frame in flight on this port";
    throw new RangeError(`Cannot recycle frame as ${why}: current value is ${show(meta)}`);
  }
}
