import { ClosedError } from "../errors.ts";
import {
  type WaitOptions,
  type WaitResult,
  WOULD_BLOCK,
  type WouldBlock,
} from "../data/backpressure.ts";
import {
  requireInteger,
  requireLogger,
  requireName,
  requireOptions,
} from "../internal/validate.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import { exportStats } from "../metrics/export_stats.ts";
import { requireMetricsRegistry } from "../metrics/registry.ts";
import { type Clock, MONOTONIC_CLOCK, requireClock } from "../time/clock.ts";
import { CHANNEL_METRICS } from "./_channel_metrics.ts";
import { Deque } from "./_deque.ts";
import { arm, checkWait, end, type Pending, WaitList } from "./_wait_list.ts";
import { RECV_CLOSED, RECV_TIMED_OUT, RECV_WOULD_BLOCK } from "./_recv_results.ts";
import type {
  ChannelCloseReport,
  ChannelOptions,
  ChannelStats,
  Receiver,
  RecvResult,
  Sender,
  SendResult,
} from "./channel_types.ts";

const CREATE = "create a channel";
const SEND = "send an item";
const RECV = "receive an item";
const WAIT = "wait on a channel";

const SENT: Promise<SendResult> = Promise.resolve("sent");
const SEND_TIMED_OUT: Promise<SendResult> = Promise.resolve("timed-out");
const READY: Promise<WaitResult> = Promise.resolve("ready");
const CLOSED: Promise<WaitResult> = Promise.resolve("closed");
const TIMED_OUT: Promise<WaitResult> = Promise.resolve("timed-out");

/** Whether a queued wait is still pending. */
function live(pending: Pending<unknown>): boolean {
  return !pending.ended;
}

/** A send waiting for room, with its item. */
interface SendWait<T> extends Pending<SendResult> {
  value: T;
}

/**
 * Creates a bounded multi-producer single-consumer channel: any number of
 * tasks send, one receives, items arrive in the order they were accepted.
 * A full channel makes `send()` wait (backpressure) and `trySend()` answer
 * `WOULD_BLOCK`; nothing is ever dropped. An unbounded channel must be asked
 * for: `channel(Infinity)`.
 *
 * @typeParam T The item type.
 * @param capacity Items the channel holds before senders wait: an integer
 *   from 1, or `Infinity` for an unbounded channel.
 * @param options Name, logger, metrics and the clock of timeouts.
 * @returns The channel: both its ends, a {@linkcode Sender} and a {@linkcode Receiver}.
 * @throws {RangeError} when `capacity` is not an integer from 1 nor `Infinity`.
 * @throws {TypeError} when `capacity` is not a number or an option has the wrong type.
 *
 * @example Backpressure: a full channel makes the producer wait
 * ```ts
 * import { channel, WOULD_BLOCK } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * using ch = channel<string>(2);
 * assertEquals(ch.trySend("a"), 0);
 * assertEquals(await ch.send("b"), "sent");
 * assertEquals(ch.trySend("c"), WOULD_BLOCK); // full: nothing dropped
 * const third = ch.send("c"); // waits for room
 * assertEquals(await ch.recv(), { ok: true, value: "a" });
 * assertEquals(await third, "sent");
 * assertEquals(ch.stats().depth, 2);
 * assertEquals(ch.stats().sendWaits, 1);
 * ```
 */
export function channel<T>(capacity: number, options?: ChannelOptions): Channel<T> {
  return new Channel<T>(capacity, options);
}

/**
 * A bounded multi-producer single-consumer channel in one thread (see
 * {@linkcode channel}, which creates one). It is both its ends: pass it as
 * a {@linkcode Sender} to producers and as a {@linkcode Receiver} to the
 * consumer, or to `select()`.
 *
 * Receiving: `recv()` waits for the oldest item, `tryRecv()` takes it if
 * there is one, `for await (const item of ch)` takes items until the
 * channel closes. Closing: `close()` ends both sides at once; items not yet
 * received come back in its report (nothing vanishes). To let the receiver
 * finish first, `await ch.whenIdle()` (every item taken), then `close()`.
 *
 * Timeouts (`timeoutMs` of `send()`, `recv()` and the waits) run on the
 * channel's `clock`: on a `VirtualClock` they fire exactly when the test
 * advances it.
 *
 * @typeParam T The item type.
 *
 * @example A consumer that iterates until the producers are done
 * ```ts
 * import { channel } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const ch = channel<number>(4, { name: "jobs" });
 * const producers = [1, 2].map(async (p) => {
 *   for (let i = 0; i < 3; i++) await ch.send(p * 10 + i);
 * });
 * const seen: number[] = [];
 * const consumer = (async () => {
 *   for await (const item of ch) seen.push(item);
 * })();
 * await Promise.all(producers);
 * await ch.whenIdle(); // the consumer took everything
 * assertEquals(ch.close().undelivered, []);
 * await consumer;
 * assertEquals(seen.sort(), [10, 11, 12, 20, 21, 22]);
 * ```
 *
 * @example Timeouts on a virtual clock
 * ```ts
 * import { channel } from "@chronetix/core";
 * import { VirtualClock } from "@chronetix/core/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new VirtualClock();
 * using ch = channel<number>(1, { clock });
 * const waiting = ch.recv({ timeoutMs: 50 });
 * clock.advance(50);
 * assertEquals(await waiting, { ok: false, reason: "timed-out" });
 * assertEquals(ch.stats().timeouts, 1);
 * ```
 */
export class Channel<T> implements Sender<T>, Receiver<T>, Disposable {
  /** The channel's name: the `channel` label of its metrics. */
  readonly name: string;
  /** Items the channel holds before senders wait (`Infinity`: unbounded). */
  readonly capacity: number;

  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #items = new Deque<T>();
  /** Receives waiting for an item; live only while the channel is empty. */
  readonly #receivers = new Deque<Pending<RecvResult<T>>>();
  /** Sends waiting for room, with their items; live only while the channel is full. */
  readonly #senders = new Deque<SendWait<T>>();
  readonly #readable: WaitList;
  readonly #writable: WaitList;
  readonly #idle: WaitList;
  /**
   * The oldest waiting receive when it has no options (the common case): it
   * is older than every receive in the queue.
   */
  #parked: ((result: RecvResult<T>) => void) | undefined;
  /** Waiting receives, the parked one included. */
  #liveReceivers = 0;
  #liveSenders = 0;
  #sent = 0;
  #received = 0;
  #peak = 0;
  #sendWaits = 0;
  #recvWaits = 0;
  #wouldBlocks = 0;
  #timeouts = 0;
  #closeReport: ChannelCloseReport<T> | undefined;
  #collector: Disposable | undefined;

  /**
   * Creates a channel; {@linkcode channel} is the same.
   *
   * @param capacity An integer from 1, or `Infinity` (unbounded).
   * @param options Name, logger, metrics and clock.
   * @throws {RangeError} when `capacity` is out of range.
   * @throws {TypeError} when an argument has the wrong type.
   */
  constructor(capacity: number, options: ChannelOptions = {}) {
    if (capacity !== Infinity) {
      requireInteger(CREATE, "capacity", capacity, 1, Number.MAX_SAFE_INTEGER);
    }
    requireOptions(CREATE, "options", options);
    this.capacity = capacity;
    this.name = requireName(CREATE, "name", options.name ?? "default");
    this.#logger = requireLogger(CREATE, "logger", options.logger ?? CONSOLE_LOGGER);
    this.#clock = requireClock(CREATE, "clock", options.clock ?? MONOTONIC_CLOCK);
    this.#readable = new WaitList(this.#clock);
    this.#writable = new WaitList(this.#clock);
    this.#idle = new WaitList(this.#clock);
    if (options.metrics !== undefined) {
      const registry = requireMetricsRegistry(CREATE, "metrics", options.metrics);
      this.#collector = exportStats(registry, () => this.stats(), CHANNEL_METRICS, {
        labels: { channel: this.name },
      });
    }
  }

  /** Whether {@linkcode Channel.close} was called. */
  get closed(): boolean {
    return this.#closeReport !== undefined;
  }

  /** Items waiting in the channel now. */
  get depth(): number {
    return this.#items.size;
  }

  /**
   * Sends `value` now if there is room (or a receive waits for it).
   *
   * @param value The item.
   * @returns The item's sequence number (0 for the channel's first), or
   *   {@linkcode WOULD_BLOCK} when the channel is full: nothing was sent.
   * @throws {ClosedError} when the channel is closed.
   *
   * @example Trying without waiting
   * ```ts
   * import { channel, WOULD_BLOCK } from "@chronetix/core";
   * import { assertEquals } from "@std/assert";
   *
   * using ch = channel<number>(1);
   * assertEquals(ch.trySend(7), 0);
   * assertEquals(ch.trySend(8), WOULD_BLOCK);
   * assertEquals(ch.stats().wouldBlocks, 1);
   * ```
   */
  trySend(value: T): number | WouldBlock {
    if (this.#closeReport !== undefined) throw new ClosedError(`channel "${this.name}"`, SEND);
    if (this.#accept(value)) return this.#sent - 1;
    this.#wouldBlocks++;
    return WOULD_BLOCK;
  }

  /**
   * Sends `value`, waiting while the channel is full. Waiting sends are
   * served in the order they came.
   *
   * @param value The item.
   * @param options A timeout (on the channel's clock) and an abort signal.
   * @returns `"sent"` once the channel took the item, `"timed-out"` when
   *   `timeoutMs` passed first (the item was not sent).
   * @throws {ClosedError} (as a rejection) when the channel is closed, or
   *   closes while the send waits (the item was not sent).
   * @throws {TypeError} when `options` is not an object or the signal not an `AbortSignal`.
   * @throws {RangeError} when `timeoutMs` is negative.
   * @throws {unknown} (as a rejection) the signal's reason, when it aborts first.
   */
  send(value: T, options?: WaitOptions): Promise<SendResult> {
    if (this.#closeReport !== undefined) {
      return Promise.reject(new ClosedError(`channel "${this.name}"`, SEND));
    }
    if (this.#accept(value)) return SENT;
    let wait;
    try {
      wait = checkWait(SEND, options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (wait.signal?.aborted) return Promise.reject(wait.signal.reason);
    if (wait.timeoutMs === 0) {
      this.#timeouts++;
      return SEND_TIMED_OUT;
    }
    const { promise, resolve, reject } = Promise.withResolvers<SendResult>();
    const pending = arm<SendResult>(this.#clock, wait, resolve, reject, (p) => {
      if (this.#dropSender(p)) {
        this.#timeouts++;
        p.resolve("timed-out");
      }
    }, (p) => {
      if (this.#dropSender(p)) p.reject(p.signal!.reason);
    }) as SendWait<T>;
    pending.value = value;
    this.#senders.push(pending);
    this.#liveSenders++;
    this.#sendWaits++;
    return promise;
  }

  /**
   * Takes the oldest item if there is one.
   *
   * @returns `{ ok: true, value }`, or `{ ok: false, reason }` with
   *   `"would-block"` (nothing waiting) or `"closed"`.
   *
   * @example Polling a channel
   * ```ts
   * import { channel } from "@chronetix/core";
   * import { assertEquals } from "@std/assert";
   *
   * const ch = channel<string>(4);
   * assertEquals(ch.tryRecv(), { ok: false, reason: "would-block" });
   * ch.trySend("x");
   * assertEquals(ch.tryRecv(), { ok: true, value: "x" });
   * ch.close();
   * assertEquals(ch.tryRecv(), { ok: false, reason: "closed" });
   * ```
   */
  tryRecv(): RecvResult<T> {
    if (this.#items.size > 0) return { ok: true, value: this.#take() };
    return this.#closeReport !== undefined ? RECV_CLOSED : RECV_WOULD_BLOCK;
  }

  /**
   * Takes the oldest item, waiting until there is one. After a close it
   * resolves `{ ok: false, reason: "closed" }` (the end of the stream).
   *
   * @param options A timeout (on the channel's clock) and an abort signal.
   * @returns The item, or `{ ok: false }` with `"closed"` or `"timed-out"`.
   * @throws {TypeError} when `options` is not an object or the signal not an `AbortSignal`.
   * @throws {RangeError} when `timeoutMs` is negative.
   * @throws {unknown} (as a rejection) the signal's reason, when it aborts first.
   */
  recv(options?: WaitOptions): Promise<RecvResult<T>> {
    if (this.#items.size > 0) return Promise.resolve({ ok: true, value: this.#take() });
    if (this.#closeReport !== undefined) return Promise.resolve(RECV_CLOSED);
    if (options === undefined && this.#liveReceivers === 0) {
      // The common case, one consumer waiting without options: no timer, no
      // listener, no queue entry.
      this.#liveReceivers = 1;
      this.#recvWaits++;
      return new Promise((resolve) => this.#parked = resolve);
    }
    let wait;
    try {
      wait = checkWait(RECV, options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (wait.signal?.aborted) return Promise.reject(wait.signal.reason);
    if (wait.timeoutMs === 0) {
      this.#timeouts++;
      return Promise.resolve(RECV_TIMED_OUT);
    }
    const { promise, resolve, reject } = Promise.withResolvers<RecvResult<T>>();
    const pending = arm<RecvResult<T>>(this.#clock, wait, resolve, reject, (p) => {
      if (this.#dropReceiver(p)) {
        this.#timeouts++;
        p.resolve(RECV_TIMED_OUT);
      }
    }, (p) => {
      if (this.#dropReceiver(p)) p.reject(p.signal!.reason);
    });
    this.#receivers.push(pending);
    this.#liveReceivers++;
    this.#recvWaits++;
    return promise;
  }

  /**
   * Resolves when an item is waiting (at once if one is).
   *
   * @param options A timeout (on the channel's clock) and an abort signal.
   * @returns `"ready"`, `"closed"` or `"timed-out"`.
   * @throws {TypeError} when `options` is not an object or the signal not an `AbortSignal`.
   * @throws {RangeError} when `timeoutMs` is negative.
   * @throws {unknown} (as a rejection) the signal's reason, when it aborts first.
   */
  whenReadable(options?: WaitOptions): Promise<WaitResult> {
    if (this.#items.size > 0) return READY;
    if (this.#closeReport !== undefined) return CLOSED;
    return this.#waitOn(this.#readable, options);
  }

  /**
   * Resolves when a send may succeed at once: there is room, or a receive
   * waits (at once if so).
   *
   * @param options A timeout (on the channel's clock) and an abort signal.
   * @returns `"ready"`, `"closed"` or `"timed-out"`.
   * @throws {TypeError} when `options` is not an object or the signal not an `AbortSignal`.
   * @throws {RangeError} when `timeoutMs` is negative.
   * @throws {unknown} (as a rejection) the signal's reason, when it aborts first.
   */
  whenWritable(options?: WaitOptions): Promise<WaitResult> {
    if (this.#closeReport !== undefined) return CLOSED;
    if (this.#hasRoom()) return READY;
    return this.#waitOn(this.#writable, options);
  }

  /**
   * Resolves once the receiver took every item and no send waits (at once
   * if so), or the channel closed: then `close()` loses nothing.
   *
   * @returns A promise that resolves when nothing is pending.
   */
  async whenIdle(): Promise<void> {
    if (this.#closeReport !== undefined || (this.#items.size === 0 && this.#liveSenders === 0)) {
      return;
    }
    await this.#idle.wait({ timeoutMs: Infinity, signal: undefined });
  }

  /**
   * Takes a snapshot of the channel's counters.
   *
   * @returns Depth, capacity, counts of items, waits, would-blocks and timeouts.
   */
  stats(): ChannelStats {
    return {
      depth: this.#items.size,
      peakDepth: this.#peak,
      capacity: this.capacity,
      sent: this.#sent,
      received: this.#received,
      sendWaits: this.#sendWaits,
      recvWaits: this.#recvWaits,
      wouldBlocks: this.#wouldBlocks,
      timeouts: this.#timeouts,
      waitingSenders: this.#liveSenders,
      waitingReceivers: this.#liveReceivers,
    };
  }

  /**
   * Closes the channel, both sides at once: items not yet received are
   * taken out and returned in the report, waiting sends reject with
   * {@linkcode ClosedError} (their items never entered), waiting receives
   * resolve `{ ok: false, reason: "closed" }`, waits resolve `"closed"`,
   * later sends throw `ClosedError`, iteration ends. Stops the metrics after
   * a final update. Calling it again returns the same report.
   *
   * @returns Items received, the undelivered items, and the rejected sends.
   *
   * @example What a close reports
   * ```ts
   * import { channel, ClosedError } from "@chronetix/core";
   * import { assertEquals, assertRejects } from "@std/assert";
   *
   * const ch = channel<string>(1);
   * ch.trySend("a");
   * const blocked = ch.send("b");
   * const report = ch.close();
   * assertEquals(report, { received: 0, undelivered: ["a"], rejectedSends: 1 });
   * await assertRejects(() => blocked, ClosedError);
   * assertEquals(ch.close(), report); // idempotent
   * ```
   */
  close(): ChannelCloseReport<T> {
    if (this.#closeReport !== undefined) return this.#closeReport;
    const undelivered = this.#items.drain();
    let rejectedSends = 0;
    const report: ChannelCloseReport<T> = { received: this.#received, undelivered, rejectedSends };
    this.#closeReport = report;
    for (let s = this.#senders.shift(); s !== undefined; s = this.#senders.shift()) {
      if (!end(s)) continue;
      rejectedSends++;
      s.reject(new ClosedError(`channel "${this.name}"`, SEND));
    }
    report.rejectedSends = rejectedSends;
    this.#liveSenders = 0;
    this.#parked?.(RECV_CLOSED);
    this.#parked = undefined;
    for (let r = this.#receivers.shift(); r !== undefined; r = this.#receivers.shift()) {
      if (end(r)) r.resolve(RECV_CLOSED);
    }
    this.#liveReceivers = 0;
    this.#readable.settle("closed");
    this.#writable.settle("closed");
    this.#idle.settle("closed");
    this.#collector?.[Symbol.dispose]();
    this.#collector = undefined;
    return report;
  }

  /**
   * Same as {@linkcode Channel.close}; as its report is not returned, a
   * close that discards items or rejects sends logs a warning with their
   * counts.
   */
  [Symbol.dispose](): void {
    if (this.#closeReport !== undefined) return;
    const { undelivered, rejectedSends } = this.close();
    if (undelivered.length === 0 && rejectedSends === 0) return;
    this.#logger.warn(
      `Channel "${this.name}" was disposed with ${undelivered.length} undelivered ${
        undelivered.length === 1 ? "item" : "items"
      } (discarded) and ${rejectedSends} waiting ${
        rejectedSends === 1 ? "send" : "sends"
      } rejected: await whenIdle() before closing to deliver everything`,
    );
  }

  /**
   * Iterates the items as they arrive until the channel closes. Breaking
   * out of the loop leaves the channel open.
   *
   * @returns An iterator over the items.
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: (): Promise<IteratorResult<T>> => {
        if (this.#items.size > 0) return Promise.resolve({ done: false, value: this.#take() });
        return this.recv().then((r) =>
          r.ok ? { done: false, value: r.value } : { done: true, value: undefined }
        );
      },
    };
  }

  /** Hands `value` to a waiting receive, or queues it if there is room; `false` when full. */
  #accept(value: T): boolean {
    if (this.#liveReceivers > 0) {
      const parked = this.#parked;
      if (parked !== undefined) {
        this.#parked = undefined;
        this.#liveReceivers--;
        this.#sent++;
        this.#received++;
        parked({ ok: true, value });
        return true;
      }
      for (let r = this.#receivers.shift(); r !== undefined; r = this.#receivers.shift()) {
        if (!end(r)) continue;
        this.#liveReceivers--;
        this.#sent++;
        this.#received++;
        r.resolve({ ok: true, value });
        return true;
      }
    }
    const items = this.#items;
    if (items.size >= this.capacity) return false;
    items.push(value);
    this.#sent++;
    if (items.size > this.#peak) this.#peak = items.size;
    if (this.#readable.size > 0) this.#readable.settle("ready");
    return true;
  }

  /** Takes the oldest item (there is one), then lets the first waiting send in. */
  #take(): T {
    const value = this.#items.shift() as T;
    this.#received++;
    if (this.#liveSenders > 0) {
      for (let s = this.#senders.shift(); s !== undefined; s = this.#senders.shift()) {
        if (!end(s)) continue;
        this.#liveSenders--;
        this.#items.push(s.value);
        this.#sent++;
        s.resolve("sent");
        return value;
      }
    }
    if (this.#writable.size > 0) this.#writable.settle("ready");
    if (this.#items.size === 0 && this.#idle.size > 0) this.#idle.settle("ready");
    return value;
  }

  /** Takes a waiting send out (its timeout or abort); `false` if it already ended. */
  #dropSender(pending: Pending<SendResult>): boolean {
    if (!end(pending)) return false;
    this.#liveSenders--;
    // The queue keeps the ended entry until it reaches the head; drop its item now.
    (pending as SendWait<T>).value = undefined as T;
    if (this.#senders.size > 2 * this.#liveSenders + 32) this.#senders.compact(live);
    if (this.#liveSenders === 0 && this.#items.size === 0 && this.#idle.size > 0) {
      this.#idle.settle("ready");
    }
    return true;
  }

  /** Takes a waiting receive out (its timeout or abort); `false` if it already ended. */
  #dropReceiver(pending: Pending<RecvResult<T>>): boolean {
    if (!end(pending)) return false;
    this.#liveReceivers--;
    // Receives that poll with short timeouts on an idle channel do not pile up.
    if (this.#receivers.size > 2 * this.#liveReceivers + 32) this.#receivers.compact(live);
    return true;
  }

  #hasRoom(): boolean {
    return this.#liveReceivers > 0 || this.#items.size < this.capacity;
  }

  #waitOn(list: WaitList, options: WaitOptions | undefined): Promise<WaitResult> {
    let wait;
    try {
      wait = checkWait(WAIT, options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (wait.signal?.aborted) return Promise.reject(wait.signal.reason);
    if (wait.timeoutMs === 0) return TIMED_OUT;
    return list.wait(wait);
  }
}
