import { assert, assertEquals, assertThrows } from "@std/assert";
import { EventBus } from "../../src/bus/event_bus.ts";
import { EventScope } from "../../src/bus/event_scope.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";

function quietBus(options: ConstructorParameters<typeof EventBus>[0] = {}) {
  const errors: string[] = [];
  const bus = new EventBus({
    onHandlerError: (error, topic) => errors.push(`${topic}: ${(error as Error).message}`),
    ...options,
  });
  return { bus, errors };
}

Deno.test("EventBus.publish() calls subscribers synchronously in subscription order", () => {
  const { bus } = quietBus();
  const topic = bus.topic<number>("t");
  const calls: string[] = [];
  topic.subscribe((n) => void calls.push(`a${n}`));
  topic.subscribe((n) => void calls.push(`b${n}`));
  topic.subscribe((n) => void calls.push(`c${n}`));
  assertEquals(topic.publish(1), 3);
  assertEquals(calls, ["a1", "b1", "c1"]);
  assertEquals(bus.topic<number>("t"), topic, "one name is one topic");
});

Deno.test("EventBus isolates throwing and rejecting subscribers and counts them", async () => {
  const { bus, errors } = quietBus();
  const topic = bus.topic<number>("t");
  const seen: number[] = [];
  topic.subscribe(() => {
    throw new Error("sync bug");
  });
  topic.subscribe(() => Promise.reject(new Error("async bug")));
  topic.subscribe((n) => void seen.push(n));
  topic.publish(7);
  await Promise.resolve();
  await Promise.resolve();
  assertEquals(seen, [7], "the healthy subscriber still ran");
  assertEquals(topic.stats().handlerErrors, 2);
  assertEquals(errors, ["t: sync bug", "t: async bug"]);
});

Deno.test("Topic.subscribe() can be undone by handle, by dispose and by AbortSignal", () => {
  const { bus } = quietBus();
  const topic = bus.topic<number>("t");
  let a = 0, b = 0, c = 0, d = 0;
  const sa = topic.subscribe(() => void a++);
  {
    using _sb = topic.subscribe(() => void b++);
    topic.publish(1);
  }
  const controller = new AbortController();
  topic.subscribe(() => void c++, { signal: controller.signal });
  const aborted = AbortSignal.abort();
  const sd = topic.subscribe(() => void d++, { signal: aborted });
  assertEquals(sd.active, false);
  topic.publish(2);
  sa.unsubscribe();
  sa.unsubscribe();
  controller.abort();
  topic.publish(3);
  assertEquals([a, b, c, d], [2, 1, 1, 0]);
  assertEquals(topic.subscribers, 0);
});

Deno.test("Topic.publish() works on the subscriber list it started with", () => {
  const { bus } = quietBus();
  const topic = bus.topic<number>("t");
  const calls: string[] = [];
  const first = topic.subscribe(() => {
    calls.push("first");
    topic.subscribe(() => void calls.push("late"));
    second.unsubscribe();
  });
  const second = topic.subscribe(() => void calls.push("second"));
  topic.publish(1);
  assertEquals(calls, ["first", "second"]);
  first.unsubscribe();
  topic.publish(2);
  assertEquals(calls, ["first", "second", "late"]);
});

Deno.test("EventBus.drain() delivers queued events by priority, then in order, and respects the cap", () => {
  let notified = 0;
  const { bus } = quietBus({ queueCap: 4, onQueued: () => void notified++ });
  const seen: string[] = [];
  bus.topic<string>("a").subscribe((e) => void seen.push(e));
  bus.topic<string>("b").subscribe((e) => void seen.push(e));
  assert(bus.topic<string>("a").enqueue("a-low-1"));
  assert(bus.topic<string>("b").enqueue("b-high", { priority: 5 }));
  assert(bus.topic<string>("a").enqueue("a-low-2"));
  assert(bus.topic<string>("a").enqueue("a-mid", { priority: 1 }));
  assertEquals(bus.topic<string>("a").enqueue("overflow"), false);
  assertEquals(bus.topic<string>("a").stats().rejected, 1);
  assertEquals(bus.queued, 4);
  assertEquals(notified, 1, "onQueued fires when the queue stops being empty");
  assertEquals(bus.drain(2), 2);
  assertEquals(bus.drain(), 2);
  assertEquals(seen, ["b-high", "a-mid", "a-low-1", "a-low-2"]);
  assertThrows(
    () => bus.topic("a").enqueue("x", { priority: NaN }),
    TypeError,
    "'priority' must be a number",
  );
});

Deno.test("EventScope counts an owner's queued events and running handlers until they finish", async () => {
  const { bus } = quietBus();
  const scope = new EventScope("plugin-a");
  const topic = bus.topic<number>("t");
  let finish!: () => void;
  const gate = new Promise<void>((resolve) => finish = resolve);
  topic.subscribe(() => gate, { scope });
  topic.enqueue(1, { scope });
  assertEquals(scope.inFlight, 1, "queued");
  bus.drain();
  assertEquals(scope.inFlight, 1, "delivered; its handler is still running");
  let drained = false;
  const done = scope.whenDrained().then(() => drained = true);
  await Promise.resolve();
  assertEquals(drained, false);
  finish();
  await done;
  assertEquals(scope.inFlight, 0);
  assertEquals(scope.total, 2);
  assertThrows(() => new EventScope(""), TypeError, "'owner' must be a non-empty string");
});

Deno.test("EventBus exports chronetix_bus_* metrics per topic", () => {
  const metrics = new MetricsRegistry();
  const { bus } = quietBus({ metrics });
  const topic = bus.topic<number>("alarms");
  topic.subscribe(() => {});
  topic.subscribe(() => {
    throw new Error("x");
  });
  topic.publish(1);
  topic.enqueue(2);
  const text = metrics.exposeText();
  for (
    const line of [
      'chronetix_bus_published_total{topic="alarms"} 1',
      'chronetix_bus_delivered_total{topic="alarms"} 2',
      'chronetix_bus_handler_errors_total{topic="alarms"} 1',
      'chronetix_bus_queue_depth{topic="alarms"} 1',
    ]
  ) assert(text.includes(line), `${line} not in:\n${text}`);
});
