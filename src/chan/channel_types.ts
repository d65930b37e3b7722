// The shapes every channel shares: the sending and receiving interfaces (an
// in-thread `Channel` and the ring-backed ends implement them), what a
// receive gives, and a channel's options, stats and close report.

import type { WaitOptions, WaitResult, WouldBlock } from "../data/backpressure.ts";
import type { Logger } from "../logger.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import type { Clock } from "../time/clock.ts";

/**
 * What a receive gives: `{ ok: true, value }`, or `{ ok: false, reason }`
 * when there is no item: `"closed"` (the channel closed and nothing is left
 * for this receiver), `"timed-out"` (`recv()`'s `timeoutMs` passed first) or
 * `"would-block"` (`tryRecv()` found nothing waiting). Like Go's
 * `v, ok := <-ch`, it tells an item apart from the end whatever `T` is.
 *
 * @typeParam T The item type.
 */
export type RecvResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: "closed" | "timed-out" | "would-block" };

/**
 * How an awaited send ended: `"sent"` (the channel took the item) or
 * `"timed-out"` (`timeoutMs` passed first; the item was not sent). A send on
 * a closed channel rejects with `ClosedError` instead.
 */
export type SendResult = "sent" | "timed-out";

/**
 * The sending end of a channel: an in-thread {@linkcode Channel} or the
 * sending end of a ring between threads (`RingSender`). `select()` takes
 * any `Sender`.
 *
 * @typeParam T The item type.
 */
export interface Sender<T> {
  /** The channel's name: its metrics label and its name in log lines. */
  readonly name: string;
  /** Whether the channel is closed: sends throw `ClosedError`. */
  readonly closed: boolean;
  /**
   * Sends `value` now if the channel has room.
   *
   * @returns The item's sequence number (0 for the channel's first), or
   *   `WOULD_BLOCK` when the channel is full: nothing was sent.
   * @throws {ClosedError} when the channel is closed.
   */
  trySend(value: T): number | WouldBlock;
  /**
   * Sends `value`, waiting while the channel is full (backpressure).
   *
   * @returns `"sent"`, or `"timed-out"` when `timeoutMs` passed first.
   * @throws {ClosedError} (as a rejection) when the channel is or gets closed
   *   before it took the item.
   * @throws {unknown} (as a rejection) the signal's reason, when it aborts first.
   */
  send(value: T, options?: WaitOptions): Promise<SendResult>;
  /** Resolves when a send may succeed: `"ready"`, `"closed"` or `"timed-out"`. */
  whenWritable(options?: WaitOptions): Promise<WaitResult>;
}

/**
 * The receiving end of a channel: an in-thread {@linkcode Channel} or the
 * receiving end of a ring between threads (`RingReceiver`). Iterate it with
 * `for await`; `select()` takes any `Receiver`.
 *
 * @typeParam T The item type.
 */
export interface Receiver<T> extends AsyncIterable<T> {
  /** The channel's name. */
  readonly name: string;
  /** Whether the channel is closed. */
  readonly closed: boolean;
  /** Takes the oldest item if there is one: `reason` is `"would-block"` or `"closed"` otherwise. */
  tryRecv(): RecvResult<T>;
  /**
   * Takes the oldest item, waiting until there is one.
   *
   * @returns The item, or `{ ok: false }` with `"closed"` or `"timed-out"`.
   * @throws {unknown} (as a rejection) the signal's reason, when it aborts first.
   */
  recv(options?: WaitOptions): Promise<RecvResult<T>>;
  /** Resolves when an item is waiting: `"ready"`, `"closed"` or `"timed-out"`. */
  whenReadable(options?: WaitOptions): Promise<WaitResult>;
}

/** Options of {@linkcode channel}. */
export interface ChannelOptions {
  /**
   * The channel's name: the `channel` label of its metrics.
   *
   * @default {"default"}
   */
  name?: string;
  /**
   * Where the channel reports what a person should read (a dispose that
   * discarded items, with their count).
   *
   * @default {CONSOLE_LOGGER}
   */
  logger?: Logger;
  /** Registry to export `chronetix_channel_*` metrics into, until the channel closes. */
  metrics?: MetricsRegistry;
  /**
   * The clock that times `timeoutMs` of sends, receives and waits: a
   * `VirtualClock` makes them deterministic.
   *
   * @default {MONOTONIC_CLOCK}
   */
  clock?: Clock;
}

/** A snapshot of a channel's counters (see {@linkcode Channel.stats}). */
export interface ChannelStats {
  /** Items waiting in the channel now: its queue depth. */
  depth: number;
  /** The most items that ever waited at once. */
  peakDepth: number;
  /** Items the channel holds at most (`Infinity`: unbounded). */
  capacity: number;
  /** Items accepted (by `send()` and `trySend()`). */
  sent: number;
  /** Items handed to the receiver. */
  received: number;
  /** Sends that had to wait for room: the backpressure the producers felt. */
  sendWaits: number;
  /** Receives that had to wait for an item. */
  recvWaits: number;
  /** `trySend()` calls refused with `WOULD_BLOCK` because the channel was full. */
  wouldBlocks: number;
  /** Sends and receives whose `timeoutMs` passed first. */
  timeouts: number;
  /** Sends waiting for room now. */
  waitingSenders: number;
  /** Receives waiting for an item now. */
  waitingReceivers: number;
}

/**
 * What {@linkcode Channel.close} reports: nothing vanishes without a count.
 *
 * @typeParam T The item type.
 */
export interface ChannelCloseReport<T> {
  /** Items handed to the receiver before the close. */
  received: number;
  /**
   * Items the channel had accepted and never delivered, oldest first: given
   * back to the caller of `close()`, which may re-route them.
   */
  undelivered: T[];
  /** Sends that were waiting for room: they rejected with `ClosedError`, their items never entered. */
  rejectedSends: number;
}
