import { ClosedError } from "../errors.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import { exportStats } from "../metrics/export_stats.ts";
import { type DataPortCloseReport, type DataPortStats, PORT_METRICS } from "./data_port_stats.ts";
import {
  requireFunction,
  requireInteger,
  requireLogger,
  requireNonEmptyString,
  show,
} from "../internal/validate.ts";
import { type BlockHandle, NO_BLOCK, SlabAllocator, slabCore } from "./slab_allocator.ts";
import type { SlabCore } from "./_slab_core.ts";
import { type WaitOptions, type WaitResult, WOULD_BLOCK, type WouldBlock } from "./backpressure.ts";
import { Waiters, waitSignal, waitTimeout } from "./_waiters.ts";

/**
 * A frame in flight on a {@linkcode DataPort}: the handle of the slab block
 * that holds its bytes. Read it with {@linkcode DataPort.offsetOf},
 * {@linkcode DataPort.lengthOf} or {@linkcode DataPort.view}; give it back
 * with {@linkcode DataPort.recycle}.
 */
export type FrameMeta = BlockHandle;

/**
 * The capability a plugin manifest must declare before the kernel hands the
 * plugin a {@linkcode DataPort}. A port holds no ambient authority: there is
 * no global lookup, so code reaches a port only when given one. Not public:
 * for the kernel's plugin loader.
 */
export const DATAPORT_CAPABILITY = "dataport";

/** Receives each frame of a {@linkcode DataPort}; see {@linkcode DataPort.onFrame}. */
export type FrameCallback = (meta: FrameMeta, view: Uint8Array) => void;

/** Options of a {@linkcode DataPort}. */
export interface DataPortOptions {
  /**
   * The credit: how many frames may be in flight (sent and not yet
   * recycled). This is the high watermark; `send()` returns
   * {@linkcode WOULD_BLOCK} once it is spent.
   *
   * @default {1024}
   */
  credit?: number;
  /**
   * After the credit ran out, the port is writable again (and
   * {@linkcode DataPort.whenWritable} resolves) once the credit rises past
   * this many frames. The gap to 0 keeps a producer from waking per frame.
   *
   * @default {credit / 4, rounded down}
   */
  lowWatermark?: number;
  /**
   * The allocator frames are copied into; share one among ports to pool memory.
   *
   * @default {a new SlabAllocator with 4 slabs of 1 MiB, closed with the port}
   */
  allocator?: SlabAllocator;
  /**
   * Registry to export `chronetix_dataport_*` metrics into (see
   * `docs/metrics.md`) until the port closes.
   */
  metrics?: MetricsRegistry;
  /**
   * The port's name: the `port` label of its metrics and the name in its
   * log lines.
   *
   * @default {"default"}
   */
  name?: string;
  /**
   * Where frame callbacks that throw are reported (the 1st, 2nd, 4th, 8th,
   * ... error, so a consumer that always throws cannot flood it).
   *
   * @default {CONSOLE_LOGGER}
   */
  logger?: Logger;
}

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
  readonly #state: Uint8Array;
  /** The frame handle of each block in flight, by block index. */
  readonly #handle: Int32Array;
  readonly #queue: Int32Array;
  readonly #name: string;
  readonly #logger: Logger;
  readonly #ownsAllocator: boolean;
  readonly #writableWaiters = new Waiters();
  #head = 0;
  #queued = 0;
  #credit: number;
  #minCredit: number;
  #writable = true;
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
   * @throws {TypeError} when the allocator is not a {@linkcode SlabAllocator}
   *   or the name is empty.
   */
  constructor(options: DataPortOptions = {}) {
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
    this.#name = requireNonEmptyString(ACTION, "name", options.name ?? "default");
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
    const blocks = this.#slab.word.length;
    this.#length = new Int32Array(blocks);
    this.#state = new Uint8Array(blocks);
    this.#handle = new Int32Array(blocks);
    this.#queue = new Int32Array(credit);
    if (options.metrics !== undefined) {
      this.#collector = exportStats(options.metrics, () => this.stats(), PORT_METRICS, {
        labels: { port: this.#name },
      });
    }
  }

  /** Credit left: how many more frames `send()` accepts before it returns {@linkcode WOULD_BLOCK}. */
  get credit(): number {
    return this.#credit;
  }

  /**
   * `false` from the moment the credit runs out until it rises past the low
   * watermark again.
   */
  get writable(): boolean {
    return this.#writable;
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
   *   allocator is exhausted (nothing is queued then).
   * @throws {RangeError} when `bytes` is larger than the largest block.
   * @throws {ClosedError} when the port is closed.
   */
  send(bytes: Uint8Array): FrameMeta | WouldBlock {
    const length = bytes.length;
    if (
      this.#credit === 0 || this.#closed || !(length <= this.#maxFrame) ||
      !(bytes instanceof Uint8Array)
    ) {
      return this.#refuse(bytes);
    }
    const meta = this.#slab.alloc(length === 0 ? 1 : length) as FrameMeta;
    if (meta === NO_BLOCK) return this.#refuse(bytes);
    const g = this.#slab.lastIndex;
    this.bytes.set(bytes, g * this.#unit);
    this.#handle[g] = meta;
    this.#length[g] = length;
    this.#state[g] = QUEUED;
    this.#framesSent++;
    this.#bytesSent += length;
    const credit = --this.#credit;
    if (credit < this.#minCredit) this.#minCredit = credit;
    const inFlight = this.#creditLimit - credit;
    this.#utilSum += inFlight;
    if (inFlight > this.#peakInFlight) this.#peakInFlight = inFlight;
    if (credit === 0) this.#writable = false;
    let tail = this.#head + this.#queued++;
    if (tail >= this.#creditLimit) tail -= this.#creditLimit;
    this.#queue[tail] = g;
    if (this.#consumer !== undefined && !this.#deliveryScheduled) {
      this.#deliveryScheduled = true;
      queueMicrotask(this.#deliver);
    }
    return meta;
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
    const g = this.#queue[this.#head]!;
    this.#head = this.#head + 1 === this.#creditLimit ? 0 : this.#head + 1;
    this.#queued--;
    this.#state[g] = RECEIVED;
    return this.#handle[g]! as FrameMeta;
  }

  /** Takes the oldest queued frame; there is one. */
  #take(): FrameMeta {
    const g = this.#queue[this.#head]!;
    this.#head = this.#head + 1 === this.#creditLimit ? 0 : this.#head + 1;
    this.#queued--;
    this.#state[g] = RECEIVED;
    return this.#handle[g]! as FrameMeta;
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
    if (!this.#writable && credit > this.#low) this.#becomeWritable();
    if (credit === this.#creditLimit && this.#idleWaiters !== undefined) {
      this.#idleWaiters.resolve();
      this.#idleWaiters = undefined;
    }
  }

  /**
   * The byte offset of a frame's payload in {@linkcode DataPort.bytes}.
   *
   * @param meta A frame in flight.
   * @returns The offset.
   * @throws {RangeError} when the frame is not in flight.
   */
  offsetOf(meta: FrameMeta): number {
    return this.#slab.validate(meta, "read block") * this.#unit;
  }

  /**
   * The payload length of a frame.
   *
   * @param meta A frame in flight.
   * @returns Bytes.
   * @throws {RangeError} when the frame is not in flight.
   */
  lengthOf(meta: FrameMeta): number {
    return this.#length[this.#slab.validate(meta, "read block")]!;
  }

  /**
   * A view of a frame's payload, without copying (allocates the view object).
   *
   * @param meta A frame in flight.
   * @returns A `Uint8Array` over the payload; valid until the frame is recycled.
   * @throws {RangeError} when the frame is not in flight.
   */
  view(meta: FrameMeta): Uint8Array {
    const g = this.#slab.validate(meta, "read block");
    const offset = g * this.#unit;
    return this.bytes.subarray(offset, offset + this.#length[g]!);
  }

  /**
   * Registers the consumer: queued frames are delivered to `callback` in
   * order, in a microtask after `send()`. The callback must recycle each
   * frame (now or later); if it throws, the error is counted and the frame
   * recycled.
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
   * rose past the low watermark after it ran out.
   *
   * @param options A timeout and an abort signal.
   * @returns `"ready"` when `send()` may succeed again, `"closed"` when the
   *   port closed, `"timed-out"` when `timeoutMs` passed first.
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
    if (this.#closed) return CLOSED;
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
    this.#consumer = undefined;
    const unreceived = this.#queued;
    while (this.#queued > 0) this.recycle(this.#take());
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
    while (this.#consumer !== undefined) {
      if (this.#queued === 0) return;
      const meta = this.#take();
      const g = this.#slab.liveIndex(meta);
      const offset = g * this.#unit;
      try {
        this.#consumer(meta, bytes.subarray(offset, offset + this.#length[g]!));
      } catch (error) {
        this.#consumerFailed(error);
        if (this.#state[g] === RECEIVED && this.#slab.liveIndex(meta) === g) {
          this.recycle(meta);
        }
      }
    }
  };

  /** Counts a frame callback's error, and logs the 1st, 2nd, 4th, 8th, ... */
  #consumerFailed(error: unknown): void {
    const n = ++this.#consumerErrors;
    if ((n & (n - 1)) !== 0) return;
    this.#logger.error(
      `Frame callback of DataPort "${this.#name}" threw, its frame was recycled (${n} ${
        n === 1 ? "error" : "errors"
      } so far; logged at 1, 2, 4, 8, ...): ${error instanceof Error ? error.stack : show(error)}`,
    );
  }

  /** The slow path of `send()`: no credit, no memory, closed, or a bad frame. */
  #refuse(bytes: Uint8Array): WouldBlock {
    if (this.#closed) throw new ClosedError("DataPort", "send a frame");
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot send a frame as 'bytes' must be a Uint8Array: current value is ${show(bytes)}`,
      );
    }
    if (bytes.length > this.#maxFrame) {
      throw new RangeError(
        `Cannot send a frame of ${bytes.length} bytes as the largest block is ${this.#maxFrame} bytes`,
      );
    }
    if (this.#credit === 0) this.#wouldBlockCredit++;
    else this.#wouldBlockMemory++;
    this.#writable = false;
    return WOULD_BLOCK;
  }

  #becomeWritable(): void {
    this.#writable = true;
    this.#writableWaiters.settle("ready");
  }

  #badRecycle(meta: FrameMeta, g: number): never {
    const why = g >= 0 && this.#state[g] === QUEUED
      ? "it has not been received yet"
      : g < 0 && this.#slab.handleState(meta) === "freed"
      ? "it was already recycled"
      : "it is not a frame in flight on this port";
    throw new RangeError(`Cannot recycle frame as ${why}: current value is ${show(meta)}`);
  }
}
