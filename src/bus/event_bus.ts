import { requireName } from "../internal/validate.ts";
import { LogLimiter } from "../internal/log_limiter.ts";
import {
  type MetricsRegistry,
  registerAtomically,
  requireMetricsRegistry,
} from "../metrics/registry.ts";
import { exportKeyedStats, exportStats, type StatMetric } from "../metrics/export_stats.ts";
import {
  requireFunction,
  requireInteger,
  requireLogger,
  requireOptions,
  show,
} from "../internal/validate.ts";
import { ClosedError } from "../errors.ts";
import { CONSOLE_LOGGER, type Logger } from "../logger.ts";
import { type Clock, MONOTONIC_CLOCK, requireClock } from "../time/clock.ts";
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
   * stats either way. If it throws, the throw is contained: counted in
   * `hookErrors` and logged (rate-limited), and the other handlers still run.
   *
   * @default {a rate-limited `logger.error` line}
   */
  onHandlerError?: (error: unknown, topic: string) => void;
  /** Registry to export `chronetix_bus_*` metrics into, per topic. */
  metrics?: MetricsRegistry;
  /**
   * Called when the queue goes from empty to non-empty, and after a
   * {@linkcode EventBus.drain} that left events queued by its handlers, so
   * a host knows to call `drain()` soon: the kernel schedules a drain on its
   * next tick. A bus used without a kernel uses it to drain from its own
   * loop. It may be called again before the host drained: make it
   * idempotent. If it throws, the event stays queued and the throw is
   * contained: counted in `hookErrors` and logged (rate-limited).
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
  /** Calls of the `onHandlerError` or `onQueued` hook that threw (contained). */
  hookErrors: number;
}

const BUS_METRICS: readonly StatMetric<{ hookErrors: number }>[] = [
  {
    name: "chronetix_bus_hook_errors_total",
    help: "Calls of the bus's onHandlerError or onQueued hook that threw; contained",
    type: "counter",
    value: (s) => s.hookErrors,
  },
];

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
 * and logged (rate-limited); the others still run. So is a hook
 * (`onHandlerError`, `onQueued`) that throws: nothing a handler or hook
 * does escapes into `publish()`, `enqueue()` or `drain()`, or becomes an
 * unhandled rejection. Metrics per topic, labelled with the bus's name:
 * published, delivered, handler errors, rejected, queue depth; and per bus,
 * hook errors. `close()` (or `using`) discards the queue and the
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
  #hookErrors = 0;
  /** A binary heap by (priority desc, seq asc). */
  readonly #heap: Queued[] = [];
  #seq = 0;
  #collectors: Disposable[] = [];
  readonly #onQueued: (() => void) | undefined;
  #closed = false;

  /**
   * Creates a bus.
   *
   * @param options Name, logger, clock, queue cap, error handler, metrics and queue hook.
   * @throws {TypeError} when `options` is not an object, `name` is not a
   * non-empty string of well-formed Unicode, `logger` is not a Logger,
   * `clock` is not a Clock, `metrics` is not a MetricsRegistry, or a hook is
   * not a function.
   * @throws {RangeError} when `queueCap` is not an integer >= 1.
   */
  constructor(options: EventBusOptions = {}) {
    const action = "create an EventBus";
    requireOptions(action, "options", options);
    // Each option is read once, and all are checked before anything is made.
    const { name, logger, clock, queueCap, onHandlerError, metrics, onQueued } = options;
    this.name = requireName(action, "name", name ?? "bus");
    this.#cap = requireInteger(action, "queueCap", queueCap ?? 65536, 1, 2 ** 30);
    this.#logger = requireLogger(action, "logger", logger ?? CONSOLE_LOGGER);
    this.#clock = clock === undefined ? MONOTONIC_CLOCK : requireClock(action, "clock", clock);
    this.#onHandlerError = onHandlerError === undefined
      ? this.#logHandlerError
      : requireFunction(action, "onHandlerError", onHandlerError);
    if (onQueued !== undefined) this.#onQueued = requireFunction(action, "onQueued", onQueued);
    const registry = metrics === undefined
      ? undefined
      : requireMetricsRegistry(action, "metrics", metrics);
    this.#errorLog = new LogLimiter(this.#logger);
    if (registry !== undefined) {
      const labels = { labels: { bus: this.name } };
      registerAtomically(registry, () => {
        const topics = exportKeyedStats(
          registry,
          () => this.#topicStats(),
          { label: "topic", of: (s) => s.topic },
          TOPIC_METRICS,
          labels,
        );
        this.#collectors.push(topics);
        try {
          const figures = { hookErrors: 0 };
          this.#collectors.push(
            exportStats(
              registry,
              () => {
                figures.hookErrors = this.#hookErrors;
                return figures;
              },
              BUS_METRICS,
              labels,
            ),
          );
        } catch (error) {
          this.#collectors.pop()?.[Symbol.dispose]();
          throw error;
        }
      });
    }
  }

  /**
   * The topic called `name`, created on first use. The type parameter is the
   * caller's claim about the events; one name is one topic.
   *
   * @param name The topic's name (its metrics label).
   * @returns The topic.
   * @throws {TypeError} when `name` is not a non-empty string of
   * well-formed Unicode.
   * @throws {ClosedError} when the bus is closed.
   */
  topic<T>(name: string): Topic<T> {
    if (this.#closed) throw new ClosedError("EventBus", "get a topic");
    let topic = this.#topics.get(name);
    if (topic === undefined) {
      requireName("get a topic", "name", name);
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
   * Delivers queued events, highest priority first (then oldest first): at
   * most `max`, and never more than were queued when it was called, so a
   * handler that queues an event on every delivery cannot keep it from
   * returning. Events queued by its handlers wait for the next call; when
   * some remain, `onQueued` is called again (unless the caller's `max` ended
   * the drain), so the host drains again on its next tick.
   *
   * @param max Deliver at most this many: an integer >= 0, or `Infinity`.
   * @returns How many were delivered.
   * @throws {RangeError} when `max` is not an integer >= 0 or `Infinity`.
   * @throws {ClosedError} when the bus is closed.
   */
  drain(max: number = Infinity): number {
    if (this.#closed) throw new ClosedError("EventBus", "drain the queue");
    if (max !== Infinity && !(Number.isInteger(max) && max >= 0)) {
      const Err = typeof max === "number" ? RangeError : TypeError;
      throw new Err(
        `Cannot drain the queue as 'max' must be an integer >= 0 or Infinity: current value is ${
          show(max)
        }`,
      );
    }
    const queuedAtStart = this.#heap.length;
    const limit = Math.min(max, queuedAtStart);
    let done = 0;
    while (done < limit && this.#heap.length > 0) {
      const item = this.#pop();
      done++;
      try {
        deliverQueued(item.topic, item.event);
      } finally {
        if (item.scope !== undefined) leaveScope(item.scope);
      }
    }
    if (!this.#closed && this.#heap.length > 0 && limit === queuedAtStart) this.#notifyQueued();
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
    return {
      name: this.name,
      queued: this.#heap.length,
      topics: [...this.#topicStats()],
      hookErrors: this.#hookErrors,
    };
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
    for (const collector of this.#collectors.splice(0)) collector[Symbol.dispose]();
  }

  /** Same as {@linkcode EventBus.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  *#topicStats(): Generator<TopicStats> {
    for (const topic of this.#topics.values()) yield topic.stats();
  }

  #logHandlerError = (error: unknown, topic: string): void => {
    this.#errorLog.error(
      topic,
      this.#clock.now(),
      `Event handler on topic "${topic}" of bus "${this.name}" failed: ${describe(error)}`,
    );
  };

  /** Reports a handler's error; nothing it does escapes into a publish or a promise. */
  #handlerFailed(error: unknown, topic: string): void {
    try {
      this.#onHandlerError(error, topic);
    } catch (hookError) {
      if (this.#onHandlerError === this.#logHandlerError) return; // the logger or clock threw
      this.#hookFailed(
        "onHandlerError",
        hookError,
        ` (handler error on topic "${topic}": ${describe(error)})`,
      );
    }
  }

  #notifyQueued(): void {
    if (this.#onQueued === undefined) return;
    try {
      this.#onQueued();
    } catch (error) {
      this.#hookFailed("onQueued", error, "");
    }
  }

  /** Counts and logs (rate-limited) a hook that threw. */
  #hookFailed(hook: string, error: unknown, context: string): void {
    this.#hookErrors++;
    try {
      this.#errorLog.error(
        `hook:${hook}`,
        this.#clock.now(),
        `The ${hook} hook of bus "${this.name}" threw: ${describe(error)}${context}`,
      );
    } catch {
      // The logger or the clock threw as well: the count above is all there is.
    }
  }

  readonly #queue: TopicQueue = {
    push: (topic, event, priority, scope) => {
      if (this.#closed) throw new ClosedError("EventBus", "enqueue an event");
      if (this.#heap.length >= this.#cap) return false;
      if (scope !== undefined) enterScope(scope);
      this.#push({ topic, event, priority, seq: this.#seq++, scope });
      if (this.#heap.length === 1) this.#notifyQueued();
      return true;
    },
    onHandlerError: (error, topic) => this.#handlerFailed(error, topic),
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

/** An error's message for a log line, whatever was thrown; never throws. */
function describe(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : show(error);
  } catch {
    return show(error);
  }
}

function before(a: Queued, b: Queued): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
}
