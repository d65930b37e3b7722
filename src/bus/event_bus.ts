import { LogLimiter } from "../internal/log_limiter.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import { exportKeyedStats, type StatMetric } from "../metrics/export_stats.ts";
import {
  requireFunction,
  requireInteger,
  requireLogger,
  requireNonEmptyString,
  show,
} from "../internal/validate.ts";
import { ClosedError } from "../errors.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import { type Clock, MONOTONIC_CLOCK } from "../time/clock.ts";
import { enterScope, type EventScope, leaveScope } from "./event_scope.ts";
import {
  closeTopic,
  createTopic,
  deliverQueued,
  dropQueued,
  type Topic,
  type TopicQueue,
  type TopicStats,
} from "./topic.ts";

/** Options of an {@linkcode EventBus}. */
export interface EventBusOptions {
  /**
   * The bus's name: the `bus` label of its metrics, so two buses can share
   * one registry, and the name in its log lines.
   *
   * @default {"bus"}
   */
  name?: string;
  /**
   * Where handler errors are logged (`logger.error`, naming the topic), at
   * most one line per topic per second of `clock`; the next line says how
   * many were not logged. Not used when `onHandlerError` is given.
   *
   * @default {CONSOLE_LOGGER}
   */
  logger?: Logger;
  /**
   * The clock that rate-limits the handler error log.
   *
   * @default {MONOTONIC_CLOCK}
   */
  clock?: Clock;
  /**
   * How many queued events the bus holds; `enqueue()` past it returns `false`.
   *
   * @default {65536}
   */
  queueCap?: number;
  /**
   * Called with every handler error (a throw or a rejected promise) and the
   * topic's name, instead of logging it: for an application that routes
   * handler errors itself (to its own error tracker, or to fail a test).
   * Every error is passed, without rate limit; the count is in the topic's
   * stats either way.
   *
   * @default {a rate-limited `logger.error` line}
   */
  onHandlerError?: (error: unknown, topic: string) => void;
  /** Registry to export `chronetix_bus_*` metrics into, per topic. */
  metrics?: MetricsRegistry;
  /**
   * Called when the queue goes from empty to non-empty, so a host knows to
   * call {@linkcode EventBus.drain} soon: the kernel schedules a drain on its
   * next tick. A bus used without a kernel uses it to drain from its own loop.
   */
  onQueued?: () => void;
}

/** A snapshot of a bus. */
export interface EventBusStats {
  /** The bus's name. */
  name: string;
  /** Events waiting in the queue, all topics. */
  queued: number;
  /** Every topic's counters. */
  topics: TopicStats[];
}

const TOPIC_METRICS: readonly StatMetric<TopicStats>[] = [
  {
    name: "chronetix_bus_published_total",
    help: "Events published on a topic, synchronously or from the queue",
    type: "counter",
    value: (s) => s.published,
  },
  {
    name: "chronetix_bus_delivered_total",
    help: "Handler calls made for a topic's events",
    type: "counter",
    value: (s) => s.delivered,
  },
  {
    name: "chronetix_bus_handler_errors_total",
    help: "Handlers that threw or rejected; the other handlers still ran",
    type: "counter",
    value: (s) => s.handlerErrors,
  },
  {
    name: "chronetix_bus_rejected_total",
    help: "Queued publishes refused because the bus queue was full",
    type: "counter",
    value: (s) => s.rejected,
  },
  {
    name: "chronetix_bus_queue_depth",
    help: "Events of a topic waiting in the bus queue",
    type: "gauge",
    value: (s) => s.queued,
  },
];

interface Queued {
  topic: Topic<never>;
  event: unknown;
  priority: number;
  seq: number;
  scope: EventScope | undefined;
}

/**
 * Typed topics with synchronous publish and a priority queue drained by the
 * kernel's tick. A throwing (or rejecting) subscriber is isolated, counted
 * and logged (rate-limited); the others still run. Metrics per topic,
 * labelled with the bus's name: published, delivered, handler errors,
 * rejected, queue depth. `close()` (or `using`) discards the queue and the
 * subscribers; further use throws a `ClosedError`.
 *
 * @example Synchronous and queued publish
 * ```ts
 * import { EventBus } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * using bus = new EventBus();
 * const alarms = bus.topic<{ level: number }>("alarms");
 * const seen: number[] = [];
 * using _sub = alarms.subscribe((alarm) => void seen.push(alarm.level));
 * alarms.publish({ level: 1 }); // delivered now
 * alarms.enqueue({ level: 2 }); // delivered by drain(), by priority
 * alarms.enqueue({ level: 3 }, { priority: 10 });
 * assertEquals(seen, [1]);
 * bus.drain();
 * assertEquals(seen, [1, 3, 2]);
 * ```
 */
export class EventBus {
  /** The bus's name (its metrics label and the name in its log lines). */
  readonly name: string;
  readonly #topics = new Map<string, Topic<never>>();
  readonly #cap: number;
  readonly #onHandlerError: (error: unknown, topic: string) => void;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #errorLog: LogLimiter;
  /** A binary heap by (priority desc, seq asc). */
  readonly #heap: Queued[] = [];
  #seq = 0;
  #collector: Disposable | undefined;
  readonly #onQueued: (() => void) | undefined;
  #closed = false;

  /**
   * Creates a bus.
   *
   * @param options Name, logger, clock, queue cap, error handler, metrics and queue hook.
   * @throws {TypeError} when `name` is empty, `logger` is not a Logger, or a
   * hook is not a function.
   * @throws {RangeError} when `queueCap` is not an integer >= 1.
   */
  constructor(options: EventBusOptions = {}) {
    const action = "create an EventBus";
    this.name = requireNonEmptyString(action, "name", options.name ?? "bus");
    this.#cap = requireInteger(action, "queueCap", options.queueCap ?? 65536, 1, 2 ** 30);
    const logger = requireLogger(action, "logger", options.logger ?? CONSOLE_LOGGER);
    if (logger === null || typeof logger !== "object" || typeof logger.error !== "function") {
      throw new TypeError(
        `Cannot ${action} as 'logger' must be a Logger (an object with error, warn and info methods): current value is ${
          show(logger)
        }`,
      );
    }
    this.#logger = logger;
    this.#errorLog = new LogLimiter(logger);
    this.#clock = options.clock ?? MONOTONIC_CLOCK;
    this.#onHandlerError = options.onHandlerError === undefined
      ? this.#logHandlerError
      : requireFunction(action, "onHandlerError", options.onHandlerError);
    if (options.onQueued !== undefined) {
      this.#onQueued = requireFunction(action, "onQueued", options.onQueued);
    }
    if (options.metrics !== undefined) {
      this.#collector = exportKeyedStats(
        options.metrics,
        () => this.#topicStats(),
        { label: "topic", of: (s) => s.topic },
        TOPIC_METRICS,
        { labels: { bus: this.name } },
      );
    }
  }

  /**
   * The topic called `name`, created on first use. The type parameter is the
   * caller's claim about the events; one name is one topic.
   *
   * @param name The topic's name.
   * @returns The topic.
   * @throws {TypeError} when `name` is not a non-empty string.
   * @throws {ClosedError} when the bus is closed.
   */
  topic<T>(name: string): Topic<T> {
    if (this.#closed) throw new ClosedError("EventBus", "get a topic");
    let topic = this.#topics.get(name);
    if (topic === undefined) {
      requireNonEmptyString("get a topic", "name", name);
      topic = createTopic(name, this.#queue);
      this.#topics.set(name, topic);
    }
    return topic as unknown as Topic<T>;
  }

  /** Whether {@linkcode EventBus.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Events waiting in the queue, all topics. */
  get queued(): number {
    return this.#heap.length;
  }

  /**
   * Delivers queued events, highest priority first (then oldest first).
   *
   * @param max Deliver at most this many.
   * @returns How many were delivered.
   * @throws {ClosedError} when the bus is closed.
   */
  drain(max = Infinity): number {
    if (this.#closed) throw new ClosedError("EventBus", "drain the queue");
    let done = 0;
    while (done < max && this.#heap.length > 0) {
      const item = this.#pop();
      done++;
      try {
        deliverQueued(item.topic, item.event);
      } finally {
        if (item.scope !== undefined) leaveScope(item.scope);
      }
    }
    return done;
  }

  /**
   * Drops every queued event (each still leaves its scope).
   *
   * @returns How many were dropped (0 once closed).
   */
  clearQueue(): number {
    const items = this.#heap.splice(0);
    for (const item of items) {
      dropQueued(item.topic);
      if (item.scope !== undefined) leaveScope(item.scope);
    }
    return items.length;
  }

  /**
   * Takes a snapshot of every topic (also after close).
   *
   * @returns The name, queue depth and per-topic counters.
   */
  stats(): EventBusStats {
    return { name: this.name, queued: this.#heap.length, topics: [...this.#topicStats()] };
  }

  /**
   * Closes the bus: discards queued events (each leaves its scope, so
   * {@linkcode EventScope.whenIdle} waiters are not kept waiting for them),
   * drops every subscriber, and stops exporting metrics after a final
   * update (the series stay). Then `topic()`, `drain()`, and a topic's
   * `publish()`, `enqueue()` and `subscribe()` throw a `ClosedError`;
   * `stats()` still works. Calling it again does nothing. Async handlers
   * still running finish, and their errors are still reported.
   *
   * @example Closing a bus
   * ```ts
   * import { ClosedError, EventBus } from "@chronetix/core";
   * import { assertEquals, assertThrows } from "@std/assert";
   *
   * const bus = new EventBus();
   * const log = bus.topic<string>("log");
   * log.enqueue("never delivered");
   * bus.close();
   * bus.close(); // idempotent
   * assertEquals(bus.stats().queued, 0);
   * assertThrows(() => log.publish("late"), ClosedError, "Cannot publish an event as the EventBus is closed");
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.clearQueue();
    for (const topic of this.#topics.values()) closeTopic(topic);
    this.#collector?.[Symbol.dispose]();
    this.#collector = undefined;
  }

  /** Same as {@linkcode EventBus.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  *#topicStats(): Generator<TopicStats> {
    for (const topic of this.#topics.values()) yield topic.stats();
  }

  #logHandlerError = (error: unknown, topic: string): void => {
    const message = error instanceof Error ? error.message : show(error);
    this.#errorLog.error(
      topic,
      this.#clock.now(),
      `Event handler on topic "${topic}" of bus "${this.name}" failed: ${message}`,
    );
  };

  readonly #queue: TopicQueue = {
    push: (topic, event, priority, scope) => {
      if (this.#closed) throw new ClosedError("EventBus", "enqueue an event");
      if (this.#heap.length >= this.#cap) return false;
      if (scope !== undefined) enterScope(scope);
      this.#push({ topic, event, priority, seq: this.#seq++, scope });
      if (this.#heap.length === 1) this.#onQueued?.();
      return true;
    },
    onHandlerError: (error, topic) => this.#onHandlerError(error, topic),
  };

  #push(item: Queued): void {
    const heap = this.#heap;
    let i = heap.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = item;
  }

  #pop(): Queued {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const r = l + 1;
        const c = r < heap.length && before(heap[r]!, heap[l]!) ? r : l;
        if (!before(heap[c]!, last)) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    return top;
  }
}

function before(a: Queued, b: Queued): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
}
