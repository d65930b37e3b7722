import { requireFunction, show } from "../internal/validate.ts";
import type { EventScope } from "./event_scope.ts";

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

/** The queue side of a topic, provided by its bus. */
export interface TopicQueue {
  /** Queues `event`; `deliver` publishes it when drained. `false` when full. */
  push(
    deliver: (event: unknown) => void,
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

/**
 * A named, typed channel of an {@linkcode EventBus}; get one with
 * `bus.topic<T>(name)`. `publish()` calls every subscriber synchronously, in
 * subscription order; `enqueue()` leaves the event in the bus queue for
 * `bus.drain()`. A subscriber that throws is counted and reported; the
 * others still run.
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

  /**
   * Creates a topic; use {@linkcode EventBus.topic} instead.
   *
   * @param name The topic's name.
   * @param queue The bus queue that `enqueue()` uses.
   */
  constructor(name: string, queue: TopicQueue) {
    this.name = name;
    this.#queue = queue;
  }

  /**
   * Calls `handler` with every event published from now on.
   *
   * @param handler Receives each event; may be async.
   * @param options An abort signal and the owner's scope.
   * @returns The subscription (also `Disposable`).
   * @throws {TypeError} when `handler` is not a function.
   */
  subscribe(handler: EventHandler<T>, options: SubscribeOptions = {}): Subscription {
    requireFunction("subscribe to a topic", "handler", handler);
    const sub = new SubscriptionImpl(this.#remove);
    if (options.signal?.aborted === true) {
      sub.active = false;
      return sub;
    }
    this.#entries = [...this.#entries, { handler, scope: options.scope, sub }];
    this.#rebuild();
    options.signal?.addEventListener("abort", () => sub.unsubscribe(), { once: true });
    return sub;
  }

  /**
   * Delivers `event` to every subscriber now, in subscription order.
   *
   * @param event The event.
   * @returns How many handlers were called.
   */
  publish(event: T): number {
    this.#published++;
    const handlers = this.#handlers;
    if (handlers === undefined) return this.#publishScoped(event);
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

  /** The general path, when some subscriber has a scope. */
  #publishScoped(event: T): number {
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

  /** Rebuilds the plain handler list after a change; none when a subscriber has a scope. */
  #rebuild(): void {
    this.#handlers = this.#entries.every((e) => e.scope === undefined)
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
   */
  enqueue(event: T, options: EnqueueOptions = {}): boolean {
    const priority = options.priority ?? 0;
    if (typeof priority !== "number" || Number.isNaN(priority)) {
      throw new TypeError(
        `Cannot enqueue an event as 'priority' must be a number: current value is ${
          show(priority)
        }`,
      );
    }
    if (!this.#queue.push(this.#deliver, event, priority, options.scope)) {
      this.#rejected++;
      return false;
    }
    this.#queued++;
    return true;
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

  #deliver = (event: unknown): void => {
    this.#queued--;
    this.publish(event as T);
  };

  #remove = (sub: Subscription): void => {
    this.#entries = this.#entries.filter((e) => e.sub !== sub);
    this.#rebuild();
  };

  #runScoped(entry: Entry<T>, scope: EventScope, event: T): void {
    scope.enter();
    let result: void | Promise<void>;
    try {
      result = entry.handler(event);
    } catch (error) {
      scope.leave();
      this.#failed(error);
      return;
    }
    if (result instanceof Promise) {
      result.then(() => scope.leave(), (error) => {
        scope.leave();
        this.#failed(error);
      });
    } else {
      scope.leave();
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

class SubscriptionImpl implements Subscription {
  active = true;
  readonly #remove: (sub: Subscription) => void;
  constructor(remove: (sub: Subscription) => void) {
    this.#remove = remove;
  }
  unsubscribe(): void {
    if (!this.active) return;
    this.active = false;
    this.#remove(this);
  }
  [Symbol.dispose](): void {
    this.unsubscribe();
  }
}
