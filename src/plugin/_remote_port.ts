// The plugin side of a data port for a worker or process plugin: the
// `PluginDataPort` a remote plugin's `ctx.dataPort(name)` returns. The real
// `DataPort` lives in the kernel; this proxy keeps a send window (credit the
// host grants and returns as the kernel's port takes frames), so nothing is
// dropped: past the window `send()` returns WOULD_BLOCK and
// `whenWritable()` waits. A consuming plugin gets frames in batches and
// recycles them back, which returns the kernel port's credit end to end.

import type { PluginDataPort } from "./author.ts";
import type { DataPortStats } from "../data/data_port_stats.ts";
import type { FrameCallback, FrameMeta } from "../data/data_port_types.ts";
import {
  type WaitOptions,
  type WaitResult,
  WOULD_BLOCK,
  type WouldBlock,
} from "../data/backpressure.ts";
import { ClosedError } from "../errors.ts";
import { requireFunction, requireOptions, show } from "../internal/validate.ts";
import { PluginError } from "./plugin_error.ts";
import { WaitTimer } from "../time/_wait_timer.ts";
import {
  type ErrorInfo,
  type Op,
  packBytes,
  type PackedBytes,
  unpackBytes,
} from "./_remote_protocol.ts";

/** What a port needs from the runtime. */
export interface PortOutbox {
  /** The plugin's name (for errors). */
  readonly plugin: string;
  /** Whether frames travel as text (a process's JSON frames). */
  readonly text: boolean;
  /** Queues an op for the host (never dropped). */
  push(op: Op): void;
}

type PortState = "opening" | "open" | "refused" | "closed";

interface Waiter {
  resolve(result: WaitResult): void;
  reject(reason: unknown): void;
}

/** A data port of the kernel, seen from a worker or process plugin. */
export class RemotePort implements PluginDataPort {
  readonly id: number;
  readonly name: string;
  readonly #out: PortOutbox;
  #state: PortState = "opening";
  #error: Error | undefined;
  #credit = 0;
  #limit = 0;
  #minCredit = Infinity;
  #nextSent = 1;
  #consuming = false;
  #consumer: FrameCallback | undefined;
  #delivering = false;
  readonly #queue: [number, Uint8Array][] = [];
  readonly #held = new Map<number, Uint8Array>();
  #recycled: number[] = [];
  #waiters: Waiter[] = [];
  #framesSent = 0;
  #bytesSent = 0;
  #framesReceived = 0;
  #framesRecycled = 0;
  #wouldBlockCredit = 0;
  #consumerErrors = 0;
  #utilizationSum = 0;
  #peakUtilization = 0;

  /**
   * Opens the port: asks the host for it (the answer comes as `opened` or
   * `refused`).
   */
  constructor(id: number, name: string, out: PortOutbox) {
    this.id = id;
    this.name = name;
    this.#out = out;
    out.push(["do", id, name]);
  }

  /** Credit left in the send window. */
  get credit(): number {
    return this.#credit;
  }

  /** Whether `send()` would take a frame now. */
  get writable(): boolean {
    return this.#state === "open" && this.#credit > 0;
  }

  /**
   * Sends a copy of `bytes` to the kernel's port; WOULD_BLOCK when the window
   * is spent (or the host did not answer the open yet).
   */
  send(bytes: Uint8Array): FrameMeta | WouldBlock {
    this.#check("send a frame");
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot send a frame as 'bytes' must be a Uint8Array: current value is ${show(bytes)}`,
      );
    }
    if (this.#state !== "open" || this.#credit === 0) {
      this.#wouldBlockCredit++;
      return WOULD_BLOCK;
    }
    this.#out.push(["ds", this.id, packBytes(bytes, this.#out.text)]);
    this.#credit--;
    if (this.#credit < this.#minCredit) this.#minCredit = this.#credit;
    this.#framesSent++;
    this.#bytesSent += bytes.length;
    const used = this.#limit === 0 ? 0 : (this.#limit - this.#credit) / this.#limit;
    this.#utilizationSum += used;
    if (used > this.#peakUtilization) this.#peakUtilization = used;
    return this.#nextSent++ as FrameMeta;
  }

  /** The next frame for a consuming plugin, or WOULD_BLOCK when none is here. */
  receive(): FrameMeta | WouldBlock {
    this.#check("receive a frame");
    this.#consume();
    const next = this.#queue.shift();
    if (next === undefined) return WOULD_BLOCK;
    this.#held.set(next[0], next[1]);
    this.#framesReceived++;
    return next[0] as FrameMeta;
  }

  /** The bytes of a frame this port handed out and that was not recycled. */
  view(meta: FrameMeta): Uint8Array {
    const bytes = this.#held.get(meta as number);
    if (bytes === undefined) {
      throw new RangeError(
        `Cannot view frame ${
          show(meta)
        } of data port "${this.name}" as it must be a frame the port handed out and not recycled yet`,
      );
    }
    return bytes;
  }

  /** Gives a received frame back: its credit returns to the kernel's port. */
  recycle(meta: FrameMeta): void {
    if (!this.#held.delete(meta as number)) {
      throw new RangeError(
        `Cannot recycle frame ${
          show(meta)
        } of data port "${this.name}" as it must be a frame the port handed out and not recycled yet`,
      );
    }
    this.#framesRecycled++;
    if (this.#state === "closed") return;
    if (this.#recycled.length === 0) queueMicrotask(this.#sendRecycled);
    this.#recycled.push(meta as number);
  }

  /** Makes `callback` the consumer: each frame arrives with its bytes; recycle it after. */
  onFrame(callback: FrameCallback): Disposable {
    requireFunction("register a frame consumer", "callback", callback);
    this.#check("register a frame consumer");
    if (this.#consumer !== undefined) {
      throw new TypeError(
        "Cannot register a frame consumer as the DataPort already has one: dispose it first",
      );
    }
    this.#consumer = callback;
    this.#consume();
    this.#deliverSoon();
    return {
      [Symbol.dispose]: () => {
        if (this.#consumer === callback) this.#consumer = undefined;
      },
    };
  }

  /** Resolves `"ready"` once `send()` would take a frame, `"closed"` if the port closed. */
  whenWritable(options: WaitOptions = {}): Promise<WaitResult> {
    requireOptions("wait for credit", "options", options);
    if (this.#state === "refused") return Promise.reject(this.#error);
    if (this.#state === "closed") return Promise.resolve("closed");
    if (this.writable) return Promise.resolve("ready");
    const { timeoutMs, signal } = options;
    signal?.throwIfAborted();
    return new Promise<WaitResult>((resolve, reject) => {
      let timer: WaitTimer | undefined;
      const onAbort = () => settle(() => reject(signal!.reason));
      const settle = (action: () => void) => {
        timer?.clear();
        signal?.removeEventListener("abort", onAbort);
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        action();
      };
      const waiter: Waiter = {
        resolve: (result) => settle(() => resolve(result)),
        reject: (reason) => settle(() => reject(reason)),
      };
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
        timer = new WaitTimer(() => waiter.resolve("timed-out"));
        timer.set(timeoutMs);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** What the proxy saw (the kernel's port has its own stats). */
  stats(): DataPortStats {
    const inFlight = this.#limit - this.#credit;
    return {
      framesSent: this.#framesSent,
      bytesSent: this.#bytesSent,
      framesReceived: this.#framesReceived,
      framesRecycled: this.#framesRecycled,
      creditLimit: this.#limit,
      credit: this.#credit,
      minCredit: Number.isFinite(this.#minCredit) ? this.#minCredit : this.#credit,
      unreceived: this.#queue.length,
      unrecycled: this.#held.size,
      utilizationRatio: this.#limit === 0 ? 0 : inFlight / this.#limit,
      averageUtilizationRatio: this.#framesSent === 0 ? 0 : this.#utilizationSum / this.#framesSent,
      peakUtilizationRatio: this.#peakUtilization,
      wouldBlockCredit: this.#wouldBlockCredit,
      wouldBlockMemory: 0,
      consumerErrors: this.#consumerErrors,
    };
  }

  // ---- from the host ----

  /** The host granted the port with a send window of `credit` frames. */
  opened(credit: number): void {
    if (this.#state !== "opening") return;
    this.#state = "open";
    this.#limit = credit;
    this.#credit = credit;
    this.#wake("ready");
  }

  /** The host has no such port for the plugin. */
  refused(error: ErrorInfo): void {
    if (this.#state !== "opening") return;
    this.#state = "refused";
    this.#error = new PluginError("E_PLUGIN_NO_DATAPORT", this.#out.plugin, error.message);
    for (const waiter of [...this.#waiters]) waiter.reject(this.#error);
  }

  /** The kernel's port took `n` frames: credit back. */
  credited(n: number): void {
    if (this.#state !== "open") return;
    this.#credit = Math.min(this.#limit, this.#credit + n);
    if (this.#credit > 0) this.#wake("ready");
  }

  /** Frames for the consumer. */
  frames(frames: [number, PackedBytes][]): void {
    for (const [id, packed] of frames) this.#queue.push([id, unpackBytes(packed)]);
    this.#deliverSoon();
  }

  /** The kernel's port closed, or the instance ends. */
  closed(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#credit = 0;
    this.#wake("closed");
  }

  // ---- inside ----

  #check(action: string): void {
    if (this.#state === "refused") throw this.#error;
    if (this.#state === "closed") throw new ClosedError(`data port "${this.name}"`, action);
  }

  #consume(): void {
    if (this.#consuming) return;
    this.#consuming = true;
    this.#out.push(["dc", this.id]);
  }

  #wake(result: WaitResult): void {
    for (const waiter of [...this.#waiters]) waiter.resolve(result);
  }

  #sendRecycled = (): void => {
    if (this.#recycled.length === 0) return;
    const ids = this.#recycled;
    this.#recycled = [];
    this.#out.push(["dr", this.id, ids]);
  };

  #deliverSoon(): void {
    if (this.#delivering || this.#consumer === undefined || this.#queue.length === 0) return;
    this.#delivering = true;
    queueMicrotask(this.#deliver);
  }

  #deliver = (): void => {
    this.#delivering = false;
    while (this.#consumer !== undefined && this.#queue.length > 0) {
      const consumer = this.#consumer;
      const [id, bytes] = this.#queue.shift()!;
      this.#held.set(id, bytes);
      this.#framesReceived++;
      try {
        const result = consumer(id as FrameMeta, bytes);
        if (result !== undefined && typeof result.then === "function") {
          result.then(undefined, () => this.#consumerFailed(id));
        }
      } catch {
        this.#consumerFailed(id);
      }
    }
  };

  /** A consumer that threw: its frame is recycled, as the kernel's DataPort does. */
  #consumerFailed(id: number): void {
    this.#consumerErrors++;
    if (this.#held.has(id)) this.recycle(id as FrameMeta);
  }
}
