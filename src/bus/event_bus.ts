import type { MetricsRegistry } from "../metrics/registry.ts";
import type { Counter, Gauge } from "../metrics/families.ts";
import { requireFunction, requireInteger, requireNonEmptyString } from "../internal/validate.ts";
import type { EventScope } from "./event_scope.ts";
import { Topic, type TopicQueue, type TopicStats } from "./topic.ts";

/** Options of an {@linkcode EventBus}. */
export interface EventBusOptions {
  /**
   * How many queued events the bus holds; `enqueue()` past it returns `false`.
   *
   * @default {65536}
   */
  queueCap?: number;
  /**
   * Called with each handler error (a throw or a rejected promise).
   *
   * @default {a console.error line naming the topic}
   */
  onHandlerError?: (error: unknown, topic: string) => void;
  /** Registry to export `chronetix_bus_*` metrics into, per topic. */
  metrics?: MetricsRegistry;
  /**
   * Called when the queue goes from empty to non-empty: the kernel uses it
   * to schedule a drain on its next tick.
   */
  onQueued?: () => void;
}

/** A snapshot of a bus. */
export interface EventBusStats {
  /** Events waiting in the queue, all topics. */
  queued: number;
  /** Every topic's counters. */
  topics: TopicStats[];
}

interface Queued {
  deliver: (event: unknown) => void;
  event: unknown;
  priority: number;
  seq: number;
  scope: EventScope | undefined;
}

/**
 * Typed topics with synchronous publish and a priority queue drained by the
 * kernel's tick. A throwing (or rejecting) subscriber is isolated and
 * counted; the others still run. Metrics per topic: published, delivered,
 * handler errors, queue depth.
 *
 * @example Synchronous and queued publish
 * ```ts
 * import { EventBus } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * const bus = new EventBus();
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
  readonly #topics = new Map<string, Topic<never>>();
  readonly #cap: number;
  readonly #onHandlerError: (error: unknown, topic: string) => void;
  /** A binary heap by (priority desc, seq asc). */
  readonly #heap: Queued[] = [];
  #seq = 0;
  #collector: Disposable | undefined;
  readonly #onQueued: (() => void) | undefined;

  /**
   * Creates a bus.
   *
   * @param options Queue cap, error reporter and metrics.
   * @throws {RangeError} when `queueCap` is not an integer >= 1.
   */
  constructor(options: EventBusOptions = {}) {
    this.#cap = requireInteger(
      "create an EventBus",
      "queueCap",
      options.queueCap ?? 65536,
      1,
      2 ** 30,
    );
    this.#onHandlerError = options.onHandlerError === undefined
      ? (error, topic) => console.error(`Event handler on topic "${topic}" failed:`, error)
      : requireFunction("create an EventBus", "onHandlerError", options.onHandlerError);
    if (options.onQueued !== undefined) {
      this.#onQueued = requireFunction("create an EventBus", "onQueued", options.onQueued);
    }
    if (options.metrics !== undefined) this.#collector = this.#exportMetrics(options.metrics);
  }

  /**
   * The topic called `name`, created on first use. The type parameter is the
   * caller's claim about the events; one name is one topic.
   *
   * @param name The topic's name.
   * @returns The topic.
   * @throws {TypeError} when `name` is not a non-empty string.
   */
  topic<T>(name: string): Topic<T> {
    let topic = this.#topics.get(name);
    if (topic === undefined) {
      requireNonEmptyString("get a topic", "name", name);
      topic = new Topic<never>(name, this.#queue);
      this.#topics.set(name, topic);
    }
    return topic as unknown as Topic<T>;
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
   */
  drain(max = Infinity): number {
    let done = 0;
    while (done < max && this.#heap.length > 0) {
      const item = this.#pop();
      done++;
      try {
        item.deliver(item.event);
      } finally {
        item.scope?.leave();
      }
    }
    return done;
  }

  /**
   * Drops every queued event (each still leaves its scope).
   *
   * @returns How many were dropped.
   */
  clearQueue(): number {
    const dropped = this.#heap.length;
    for (const item of this.#heap.splice(0)) item.scope?.leave();
    return dropped;
  }

  /**
   * Takes a snapshot of every topic.
   *
   * @returns Queue depth and per-topic counters.
   */
  stats(): EventBusStats {
    return { queued: this.#heap.length, topics: [...this.#topics.values()].map((t) => t.stats()) };
  }

  /** Stops exporting metrics, after a final update. */
  [Symbol.dispose](): void {
    this.#collector?.[Symbol.dispose]();
    this.#collector = undefined;
  }

  readonly #queue: TopicQueue = {
    push: (deliver, event, priority, scope) => {
      if (this.#heap.length >= this.#cap) return false;
      scope?.enter();
      this.#push({ deliver, event, priority, seq: this.#seq++, scope });
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

  #exportMetrics(registry: MetricsRegistry): Disposable {
    const labelNames = ["topic"];
    const published = registry.counter({
      name: "chronetix_bus_published_total",
      help: "Events published on a topic, synchronously or from the queue",
      labelNames,
    });
    const delivered = registry.counter({
      name: "chronetix_bus_delivered_total",
      help: "Handler calls made for a topic's events",
      labelNames,
    });
    const errors = registry.counter({
      name: "chronetix_bus_handler_errors_total",
      help: "Handlers that threw or rejected; the other handlers still ran",
      labelNames,
    });
    const rejected = registry.counter({
      name: "chronetix_bus_rejected_total",
      help: "Queued publishes refused because the bus queue was full",
      labelNames,
    });
    const depth = registry.gauge({
      name: "chronetix_bus_queue_depth",
      help: "Events of a topic waiting in the bus queue",
      labelNames,
    });
    const handles = new Map<string, [Counter, Counter, Counter, Counter, Gauge]>();
    const collect = () => {
      for (const topic of this.#topics.values()) {
        let h = handles.get(topic.name);
        if (h === undefined) {
          const n = topic.name;
          h = [
            published.labels(n),
            delivered.labels(n),
            errors.labels(n),
            rejected.labels(n),
            depth.labels(n),
          ];
          handles.set(n, h);
        }
        const s = topic.stats();
        h[0].advanceTo(s.published);
        h[1].advanceTo(s.delivered);
        h[2].advanceTo(s.handlerErrors);
        h[3].advanceTo(s.rejected);
        h[4].set(s.queued);
      }
    };
    const collector = registry.addCollector(collect);
    return {
      [Symbol.dispose]() {
        collect();
        collector[Symbol.dispose]();
      },
    };
  }
}

function before(a: Queued, b: Queued): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
}
