/**
 * The event bus: typed topics, synchronous publish in subscription order, a
 * priority queue drained by the kernel, and {@linkcode EventScope}s that
 * count each owner's events in flight.
 *
 * @example Unsubscribing with an AbortSignal
 * ```ts
 * import { EventBus } from "@chronetix/core";
 * import { assertEquals } from "@std/assert";
 *
 * using bus = new EventBus();
 * const controller = new AbortController();
 * let count = 0;
 * bus.topic<string>("log").subscribe(() => void count++, { signal: controller.signal });
 * bus.topic<string>("log").publish("a");
 * controller.abort();
 * bus.topic<string>("log").publish("b");
 * assertEquals(count, 1);
 * ```
 *
 * @module
 */
export { EventBus, type EventBusOptions, type EventBusStats } from "./event_bus.ts";
export { EventScope } from "./event_scope.ts";
export {
  type EnqueueOptions,
  type EventHandler,
  type SubscribeOptions,
  type Subscription,
  Topic,
  type TopicStats,
} from "./topic.ts";
