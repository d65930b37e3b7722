import { requireFunction, requireOptions, show } from "../internal/validate.ts";
import { ClosedError } from "../errors.ts";
import { enterScope, EventScope, leaveScope } from "./event_scope.ts";

/** A subscriber: may return a promise, whose rejection is counted like a throw. */
export type EventHandler<T> = (event: T) => void | Promise<void>;

/** Options of {@linkcode Topic.subscribe}. */
export interface SubscribeOptions {
  /** Unsubscribes when this signal aborts (at once if it already has). */
  signal?: AbortSignal;
  /** Counts this handler's runs, until they finish, in the owner's scope. */
  scope?: EventScope;
}

/** Options of {@linkcode Topic.enqueue}. */
export interface EnqueueOptions {
  /**
   * Higher drains first; equal priorities drain in the order queued.
   *
   * @default {0}
   */
  priority?: number;
  /** Counts the event in this scope until it has been delivered. */
  scope?: EventScope;
}

/** A handle on one subscription. */
export interface Subscription extends Disposable {
  /** Whether the handler still receives events. */
  readonly active: boolean;
  /** Stops delivery to the handler; calling it again does nothing. */
  unsubscribe(): void;
}

/** A snapshot of one topic's counters. */
export interface TopicStats {
  /** The topic's name. */
  topic: string;
  /** Events published (synchronously, or drained from the queue). */
  published: number;
  /** Handler calls made. */
  delivered: number;
  /** Handler calls that threw or whose promise rejected. */
  handlerErrors: number;
  /** Events of this topic waiting in the bus queue. */
  queued: number;
  /** `enqueue()` calls refused because the bus queue was full. */
  rejected: number;
  /** Current subscribers. */
  subscribers: number;
}

/** The queue side of a topic, provided by its bus (not public). */
export interface TopicQueue {
  /**
   * Queues `event` of `topic`; the bus hands it to {@linkcode deliverQueued}
   * when drained, or {@linkcode dropQueued} when it discards it. `false` when
   * full.
   */
  push(
    topic: Topic<never>,
    event: unknown,
    priority: number,
    scope: EventScope | undefined,
  ): boolean;
  /** Reports a handler's error. */
  onHandlerError(error: unknown, topic: string): void;
}

interface Entry<T> {
  handler: EventHandler<T>;
  scope: EventScope | undefined;
  sub: SubscriptionImpl;
}

// Set by Topic's static block: only the bus makes and closes topics, through
// the friend functions at the end of this file.
let construct: (name: string, queue: TopicQueue) => Topic<never>;
let close: (topic: Topic<never>) => void;
let deliver: (topic: Topic<never>, event: unknown) => void;
let drop: (topic: Topic<never>) => void;

/**
 * A named, typed channel of an {@linkcode EventBus}; get one with
 * `bus.topic<T>(name)` (it cannot be constructed directly). `publish()`
 * calls every subscriber synchronously, in subscription order; `enqueue()`
 * leaves the event in the bus queue for `bus.drain()`. A subscriber that
 * throws is counted and reported; the others still run. Once the bus is
 * closed, publishing, queueing and subscribing throw a `ClosedError`.
 *
 * @example Publishing to subscribers and counting
 * ```ts
 * import { EventBus } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * using bus = new EventBus();
 * const temperatures = bus.topic<number>("temperature");
 * const seen: number[] = [];
 * using _sub = temperatures.subscribe((celsius) => void seen.push(celsius));
 * assertEquals(temperatures.publish(21.5), 1); // one handler called
 * assertEquals(seen, [21.5]);
 * assertEquals(temperatures.stats().published, 1);
 * ```
 */
export class Topic<T> {
  /** The topic's name. */
  readonly name: string;
  readonly #queue: TopicQueue;
  /** Copy-on-write: a publish iterates the array it started with. */
  #entries: Entry<T>[] = [];
  /** The handlers alone, while no subscriber has a scope: the fast path. */
  #handlers: EventHandler<T>[] | undefined = [];
  #published = 0;
  #delivered = 0;
  #errors = 0;
  #queued = 0;
  #rejected = 0;
  #closed = false;

  private constructor(name: string, queue: TopicQueue) {
    this.name = name;
    this.#queue = queue;
  }

  static {
    construct = (name, queue) => new Topic<never>(name, queue);
    close = (topic) => topic.#close();
    deliver = (topic, event) => {
      topic.#queued--;
      topic.publish(event as never);
    };
    drop = (topic) => void topic.#queued--;
  }

  /**
   * Calls `handler` with every event published from now on. A rejected
   * call subscribes nothing.
   *
   * @param handler Receives each event; may be async.
   * @param options An abort signal and the owner's scope.
   * @returns The subscription (also `Disposable`).
   * @throws {TypeError} when `handler` is not a function, `options` is not
   * an object, `signal` is not an AbortSignal or `scope` is not an EventScope.
   * @throws {ClosedError} when the bus is closed.
   */
  subscribe(handler: EventHandler<T>, options: SubscribeOptions = {}): Subscription {
    const action = "subscribe to a topic";
    if (this.#closed) throw new ClosedError("EventBus", action);
    requireFunction(action, "handler", handler);
    requireOptions(action, "options", options);
    const { signal, scope } = options;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(
        `Cannot ${action} as 'signal' must be an AbortSignal: current value is ${show(signal)}`,
      );
    }
    if (scope !== undefined) requireScope(action, scope);
    if (signal?.aborted === true) return new SubscriptionImpl(this.#remove, undefined, false);
    const sub = new SubscriptionImpl(this.#remove, signal, true);
    this.#entries = [...this.#entries, { handler, scope, sub }];
    this.#rebuild();
    return sub;
  }

  /**
   * Delivers `event` to every subscriber now, in subscription order.
   *
   * @param event The event.
   * @returns How many handlers were called.
   * @throws {ClosedError} when the bus is closed.
   */
  publish(event: T): number {
    const handlers = this.#handlers;
    if (handlers === undefined) return this.#publishScoped(event);
    this.#published++;
    const n = handlers.length;
    this.#delivered += n;
    for (let i = 0; i < n; i++) {
      try {
        const result = handlers[i]!(event);
        if (result !== undefined) this.#watch(result);
      } catch (error) {
        this.#failed(error);
      }
    }
    return n;
  }

  /** The general path, when some subscriber has a scope or the bus is closed. */
  #publishScoped(event: T): number {
    if (this.#closed) throw new ClosedError("EventBus", "publish an event");
    this.#published++;
    const entries = this.#entries;
    const n = entries.length;
    this.#delivered += n;
    for (let i = 0; i < n; i++) {
      const entry = entries[i]!;
      const scope = entry.scope;
      if (scope !== undefined) {
        this.#runScoped(entry, scope, event);
        continue;
      }
      try {
        const result = entry.handler(event);
        if (result !== undefined) this.#watch(result);
      } catch (error) {
        this.#failed(error);
      }
    }
    return n;
  }

  /**
   * Rebuilds the plain handler list after a change; none when a subscriber
   * has a scope or the bus is closed (the fast path then never runs).
   */
  #rebuild(): void {
    this.#handlers = !this.#closed && this.#entries.every((e) => e.scope === undefined)
      ? this.#entries.map((e) => e.handler)
      : undefined;
  }

  /**
   * Queues `event` for the next `bus.drain()`, by priority.
   *
   * @param event The event.
   * @param options Priority and the publisher's scope.
   * @returns `false` when the bus queue is full (the event is not queued,
   *   and counted as rejected).
   * @throws {TypeError} when `options` is not an object, `priority` is not a
   * number or `scope` is not an EventScope.
   * @throws {ClosedError} when the bus is closed.
   */
  enqueue(event: T, options: EnqueueOptions = {}): boolean {
    const action = "enqueue an event";
    if (this.#closed) throw new ClosedError("EventBus", action);
    requireOptions(action, "options", options);
    const { priority = 0, scope } = options;
    if (typeof priority !== "number" || Number.isNaN(priority)) {
      throw new TypeError(
        `Cannot ${action} as 'priority' must be a number: current value is ${show(priority)}`,
      );
    }
    if (scope !== undefined) requireScope(action, scope);
    // Counted before the push: the bus's onQueued hook may drain at once.
    this.#queued++;
    let queued = false;
    try {
      queued = this.#queue.push(this as unknown as Topic<never>, event, priority, scope);
    } finally {
      if (!queued) this.#queued--;
    }
    if (!queued) this.#rejected++;
    return queued;
  }

  /** How many handlers are subscribed. */
  get subscribers(): number {
    return this.#entries.length;
  }

  /**
   * Takes a snapshot of the counters.
   *
   * @returns The current figures.
   */
  stats(): TopicStats {
    return {
      topic: this.name,
      published: this.#published,
      delivered: this.#delivered,
      handlerErrors: this.#errors,
      queued: this.#queued,
      rejected: this.#rejected,
      subscribers: this.#entries.length,
    };
  }

  /** The bus closed: drop every subscriber and refuse further use. */
  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const entries = this.#entries;
    this.#entries = [];
    this.#rebuild();
    for (const entry of entries) entry.sub.end();
  }

  #remove = (sub: Subscription): void => {
    this.#entries = this.#entries.filter((e) => e.sub !== sub);
    this.#rebuild();
  };

  #runScoped(entry: Entry<T>, scope: EventScope, event: T): void {
    enterScope(scope);
    let result: void | Promise<void>;
    try {
      result = entry.handler(event);
    } catch (error) {
      leaveScope(scope);
      this.#failed(error);
      return;
    }
    if (result instanceof Promise) {
      result.then(() => leaveScope(scope), (error) => {
        leaveScope(scope);
        this.#failed(error);
      });
    } else {
      leaveScope(scope);
    }
  }

  #watch(result: unknown): void {
    if (result instanceof Promise) result.catch((error) => this.#failed(error));
  }

  #failed(error: unknown): void {
    this.#errors++;
    this.#queue.onHandlerError(error, this.name);
  }
}

function requireScope(action: string, scope: unknown): void {
  if (!(scope instanceof EventScope)) {
    throw new TypeError(
      `Cannot ${action} as 'scope' must be an EventScope: current value is ${show(scope)}`,
    );
  }
}

class SubscriptionImpl implements Subscription {
  #active: boolean;
  readonly #remove: (sub: Subscription) => void;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = () => this.unsubscribe();
  constructor(
    remove: (sub: Subscription) => void,
    signal: AbortSignal | undefined,
    active: boolean,
  ) {
    this.#remove = remove;
    this.#active = active;
    this.#signal = active ? signal : undefined;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
  }
  get active(): boolean {
    return this.#active;
  }
  unsubscribe(): void {
    if (!this.#active) return;
    this.end();
    this.#remove(this);
  }
  /** Stops it without touching the topic (the topic closed); lets go of the signal. */
  end(): void {
    this.#active = false;
    // The signal may outlive many subscriptions: do not leave listeners on it.
    this.#signal?.removeEventListener("abort", this.#onAbort);
  }
  [Symbol.dispose](): void {
    this.unsubscribe();
  }
}

/** Makes a topic of a bus (for the bus only). */
export function createTopic(name: string, queue: TopicQueue): Topic<never> {
  return construct(name, queue);
}

/** Closes a topic with its bus: subscribers are dropped, further use throws (for the bus only). */
export function closeTopic(topic: Topic<never>): void {
  close(topic);
}

/** Publishes a queued event of `topic` as it leaves the bus queue (for the bus only). */
export function deliverQueued(topic: Topic<never>, event: unknown): void {
  deliver(topic, event);
}

/** Counts a queued event of `topic` the bus discarded (for the bus only). */
export function dropQueued(topic: Topic<never>): void {
  drop(topic);
}
