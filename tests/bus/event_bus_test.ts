import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { EventBus } from "../../src/bus/event_bus.ts";
import { EventScope } from "../../src/bus/event_scope.ts";
import { Topic } from "../../src/bus/topic.ts";
import { ClosedError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";

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
  const done = scope.whenIdle().then(() => drained = true);
  await Promise.resolve();
  assertEquals(drained, false);
  finish();
  await done;
  assertEquals(scope.inFlight, 0);
  assertEquals(scope.total, 2);
  assertThrows(() => new EventScope(""), TypeError, "'owner' must be a non-empty string");
});

Deno.test("EventBus exports chronetix_bus_* metrics per topic, labelled with its name", () => {
  const metrics = new MetricsRegistry({ selfMetrics: false });
  const { bus } = quietBus({ metrics, name: "main", queueCap: 1 });
  const topic = bus.topic<number>("alarms");
  topic.subscribe(() => {});
  topic.subscribe(() => {
    throw new Error("x");
  });
  topic.publish(1);
  topic.enqueue(2);
  topic.enqueue(3); // rejected: the queue holds one
  const text = metrics.exposeText();
  for (
    const line of [
      'chronetix_bus_published_total{bus="main",topic="alarms"} 1\n',
      'chronetix_bus_delivered_total{bus="main",topic="alarms"} 2\n',
      'chronetix_bus_handler_errors_total{bus="main",topic="alarms"} 1\n',
      'chronetix_bus_rejected_total{bus="main",topic="alarms"} 1\n',
      'chronetix_bus_queue_depth{bus="main",topic="alarms"} 1\n',
    ]
  ) assert(text.includes(line), `${line} not in:\n${text}`);
  assert(!text.includes('topic="*"'), "no all-topics series");
  assertEquals(
    metrics.inventory().map((m) => [m.name, m.labels]),
    [
      ["chronetix_bus_published_total", ["bus", "topic"]],
      ["chronetix_bus_delivered_total", ["bus", "topic"]],
      ["chronetix_bus_handler_errors_total", ["bus", "topic"]],
      ["chronetix_bus_rejected_total", ["bus", "topic"]],
      ["chronetix_bus_queue_depth", ["bus", "topic"]],
      ["chronetix_bus_hook_errors_total", ["bus"]],
    ],
  );
});

Deno.test("EventBus gives two buses on one registry distinct series", () => {
  const metrics = new MetricsRegistry({ selfMetrics: false });
  using a = new EventBus({ metrics, name: "a" });
  using b = new EventBus({ metrics, name: "b" });
  a.topic<number>("t").publish(1);
  b.topic<number>("t").publish(1);
  b.topic<number>("t").publish(2);
  const text = metrics.exposeText();
  assert(text.includes('chronetix_bus_published_total{bus="a",topic="t"} 1\n'), text);
  assert(text.includes('chronetix_bus_published_total{bus="b",topic="t"} 2\n'), text);
});

Deno.test("EventBus.close() runs a final metrics update and keeps the series", () => {
  const metrics = new MetricsRegistry({ selfMetrics: false });
  const bus = new EventBus({ metrics, name: "main" });
  const topic = bus.topic<number>("t");
  topic.publish(1);
  topic.enqueue(2);
  bus.close(); // discards the queued event: depth 0
  const text = metrics.exposeText();
  assert(text.includes('chronetix_bus_published_total{bus="main",topic="t"} 1\n'), text);
  assert(text.includes('chronetix_bus_queue_depth{bus="main",topic="t"} 0\n'), text);
});

Deno.test("EventBus.close() is idempotent and later use throws ClosedError", () => {
  const { bus } = quietBus();
  const topic = bus.topic<number>("t");
  let calls = 0;
  const sub = topic.subscribe(() => void calls++);
  assertEquals(bus.closed, false);
  bus.close();
  bus.close();
  assertEquals(bus.closed, true);
  assertEquals(sub.active, false, "subscribers are dropped");
  assertEquals(topic.subscribers, 0);
  sub.unsubscribe(); // still allowed: does nothing
  for (
    const [use, message] of [
      [() => bus.topic("t"), "Cannot get a topic as the EventBus is closed"],
      [() => bus.drain(), "Cannot drain the queue as the EventBus is closed"],
      [() => topic.publish(1), "Cannot publish an event as the EventBus is closed"],
      [() => topic.enqueue(1), "Cannot enqueue an event as the EventBus is closed"],
      [() => topic.subscribe(() => {}), "Cannot subscribe to a topic as the EventBus is closed"],
    ] as const
  ) {
    const error = assertThrows(use, ClosedError, message);
    assertEquals(error.code, "E_CLOSED");
  }
  assertEquals(calls, 0);
  assertEquals(bus.clearQueue(), 0);
  assertEquals(bus.stats().topics[0]?.published, 0, "stats still work");
});

Deno.test("EventBus.close() refuses a publish on a topic whose subscribers have scopes", () => {
  const { bus } = quietBus();
  const topic = bus.topic<number>("t");
  topic.subscribe(() => {}, { scope: new EventScope("owner") });
  bus.close();
  assertThrows(() => topic.publish(1), ClosedError);
  assertEquals(topic.stats().published, 0);
});

Deno.test("EventBus.close() discards queued events, which leave their scopes", async () => {
  const { bus } = quietBus();
  const scope = new EventScope("plugin-a");
  const topic = bus.topic<number>("t");
  topic.enqueue(1, { scope });
  topic.enqueue(2, { scope });
  assertEquals(scope.inFlight, 2);
  const idle = scope.whenIdle();
  bus.close();
  await idle;
  assertEquals(scope.inFlight, 0);
  assertEquals([bus.queued, topic.stats().queued], [0, 0]);
});

Deno.test("EventBus[Symbol.dispose]() closes the bus", () => {
  let topic: Topic<number>;
  {
    using bus = new EventBus();
    topic = bus.topic<number>("t");
  }
  assertThrows(() => topic.publish(1), ClosedError);
});

Deno.test("EventBus.clearQueue() drops queued events from each topic's queue depth", () => {
  const { bus } = quietBus();
  const topic = bus.topic<number>("t");
  topic.enqueue(1);
  topic.enqueue(2);
  assertEquals(topic.stats().queued, 2);
  assertEquals(bus.clearQueue(), 2);
  assertEquals([bus.queued, topic.stats().queued], [0, 0]);
  assertEquals(bus.drain(), 0);
});

function recorder(lines: string[]): Logger {
  return {
    error: (m) => lines.push(`error: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    info: (m) => lines.push(`info: ${m}`),
  };
}

Deno.test("EventBus logs handler errors at most once per topic per second of its clock", () => {
  const lines: string[] = [];
  const clock = new VirtualClock();
  using bus = new EventBus({ name: "main", logger: recorder(lines), clock });
  const fail = (message: string) => () => {
    throw new Error(message);
  };
  bus.topic<number>("a").subscribe(fail("a broke"));
  bus.topic<number>("b").subscribe(fail("b broke"));
  for (let i = 0; i < 3; i++) bus.topic<number>("a").publish(i);
  bus.topic<number>("b").publish(0);
  assertEquals(lines, [
    'error: Event handler on topic "a" of bus "main" failed: a broke',
    'error: Event handler on topic "b" of bus "main" failed: b broke',
  ]);
  clock.advance(999);
  bus.topic<number>("a").publish(3);
  assertEquals(lines.length, 2, "still within the second");
  clock.advance(1);
  bus.topic<number>("a").publish(4);
  assertEquals(
    lines[2],
    'error: Event handler on topic "a" of bus "main" failed: a broke (3 similar lines not logged)',
  );
  assertEquals(bus.topic<number>("a").stats().handlerErrors, 5, "every error is counted");
});

Deno.test("EventBus logs a rejected async handler with a non-Error reason", async () => {
  const lines: string[] = [];
  using bus = new EventBus({ logger: recorder(lines), clock: new VirtualClock() });
  bus.topic<number>("t").subscribe(() => Promise.reject("plain reason"));
  bus.topic<number>("t").publish(1);
  await Promise.resolve();
  await Promise.resolve();
  assertEquals(lines, ['error: Event handler on topic "t" of bus "bus" failed: "plain reason"']);
});

Deno.test("EventBus checks its options", () => {
  assertThrows(() => new EventBus({ name: "" }), TypeError, "'name' must be a non-empty string");
  assertThrows(
    () => new EventBus({ logger: "console" as unknown as Logger }),
    TypeError,
    "'logger' must be a Logger",
  );
  assertThrows(() => new EventBus({ queueCap: 0 }), RangeError, "'queueCap'");
  assertThrows(
    () => new EventBus({ onQueued: 1 as unknown as () => void }),
    TypeError,
    "'onQueued' must be a function",
  );
  using bus = new EventBus({ name: "telemetry" });
  assertEquals([bus.name, bus.stats().name], ["telemetry", "telemetry"]);
});

Deno.test("Topic cannot be constructed outside its bus", () => {
  // @ts-expect-error: the constructor is private; topics come from bus.topic().
  const make = () => new Topic<number>("t", undefined as never);
  assertEquals(typeof make, "function");
});

Deno.test("EventScope.whenIdle() resolves at once when nothing is in flight", async () => {
  const scope = new EventScope("idle");
  await scope.whenIdle();
  assertEquals(scope.inFlight, 0);
  assertEquals("enter" in scope || "leave" in scope, false, "no public counting methods");
});

Deno.test("EventScope.whenIdle() does not resolve while an async handler runs", async () => {
  const { bus } = quietBus();
  const scope = new EventScope("plugin-a");
  const { promise: gate, resolve: open } = Promise.withResolvers<void>();
  bus.topic<number>("t").subscribe(() => gate, { scope });
  bus.topic<number>("t").publish(1);
  let idle = false;
  const done = scope.whenIdle().then(() => idle = true);
  for (let i = 0; i < 5; i++) await Promise.resolve();
  assertEquals(idle, false);
  open();
  await done;
  assertEquals(idle, true);
});

// deno-lint-ignore no-explicit-any
const loose = (value: unknown): any => value;

Deno.test("Topic.subscribe() rejects a scope that is not an EventScope and stays usable", () => {
  const { bus } = quietBus();
  const topic = bus.topic<number>("t");
  let calls = 0;
  topic.subscribe(() => void calls++);
  assertThrows(
    () => topic.subscribe(() => {}, { scope: loose({}) }),
    TypeError,
    "Cannot subscribe to a topic as 'scope' must be an EventScope: current value is {}",
  );
  assertEquals(topic.subscribers, 1);
  assertEquals(topic.publish(1), 1);
  assertEquals(calls, 1);
});

Deno.test("Topic.subscribe() rejects a signal that is not an AbortSignal without subscribing", () => {
  const { bus } = quietBus();
  const topic = bus.topic<number>("t");
  let calls = 0;
  assertThrows(
    () => topic.subscribe(() => void calls++, { signal: loose({}) }),
    TypeError,
    "Cannot subscribe to a topic as 'signal' must be an AbortSignal: current value is {}",
  );
  assertThrows(
    () => topic.subscribe(() => void calls++, { signal: loose({ aborted: false }) }),
    TypeError,
    "'signal'",
  );
  assertEquals(topic.subscribers, 0);
  topic.publish(1);
  assertEquals(calls, 0);
});

Deno.test("Topic.enqueue() rejects a scope that is not an EventScope and strands nothing", () => {
  const { bus } = quietBus();
  const topic = bus.topic<number>("t");
  const seen: number[] = [];
  topic.subscribe((n) => void seen.push(n));
  topic.enqueue(1);
  assertThrows(
    () => topic.enqueue(2, { scope: loose({ owner: "fake" }) }),
    TypeError,
    "Cannot enqueue an event as 'scope' must be an EventScope",
  );
  topic.enqueue(3);
  assertEquals([bus.queued, topic.stats().queued], [2, 2]);
  assertEquals(bus.drain(), 2);
  assertEquals(seen, [1, 3]);
  assertEquals([bus.queued, topic.stats().queued], [0, 0]);
});

Deno.test("EventBus contains a throwing onHandlerError hook, counts and logs it", async () => {
  const lines: string[] = [];
  const metrics = new MetricsRegistry({ selfMetrics: false });
  using bus = new EventBus({
    name: "main",
    metrics,
    logger: recorder(lines),
    clock: new VirtualClock(),
    onHandlerError: () => {
      throw new Error("hook broke");
    },
  });
  const topic = bus.topic<number>("t");
  const seen: number[] = [];
  topic.subscribe(() => {
    throw new Error("handler broke");
  });
  topic.subscribe(() => Promise.reject(new Error("async handler broke")));
  topic.subscribe((n) => void seen.push(n));
  assertEquals(topic.publish(1), 3);
  assertEquals(seen, [1], "the handlers after the failing one still ran");
  for (let i = 0; i < 3; i++) await Promise.resolve();
  assertEquals(topic.stats().handlerErrors, 2);
  assertEquals(bus.stats().hookErrors, 2);
  assertEquals(lines, [
    'error: The onHandlerError hook of bus "main" threw: hook broke (handler error on topic "t": handler broke)',
  ]);
  assertStringIncludes(metrics.exposeText(), 'chronetix_bus_hook_errors_total{bus="main"} 2\n');
});

Deno.test("EventBus contains a throwing onQueued hook: the event stays queued", () => {
  const lines: string[] = [];
  using bus = new EventBus({
    logger: recorder(lines),
    clock: new VirtualClock(),
    onQueued: () => {
      throw new Error("host broke");
    },
  });
  const topic = bus.topic<number>("t");
  const seen: number[] = [];
  topic.subscribe((n) => void seen.push(n));
  assertEquals(topic.enqueue(1), true);
  assertEquals(topic.enqueue(2), true);
  assertEquals([bus.queued, topic.stats().queued], [2, 2]);
  assertEquals(bus.stats().hookErrors, 1);
  assertEquals(lines, ['error: The onQueued hook of bus "bus" threw: host broke']);
  assertEquals(bus.drain(), 2);
  assertEquals(seen, [1, 2]);
});

Deno.test("EventBus.drain() returns even when a handler re-enqueues on every delivery", () => {
  let notified = 0;
  const { bus } = quietBus({ onQueued: () => void notified++ });
  const topic = bus.topic<number>("loop");
  const seen: number[] = [];
  topic.subscribe((n) => {
    seen.push(n);
    topic.enqueue(n + 1);
  });
  topic.enqueue(0);
  topic.enqueue(100);
  assertEquals(notified, 1);
  assertEquals(bus.drain(), 2, "only the events queued when it started");
  assertEquals(seen, [0, 100]);
  assertEquals(bus.queued, 2);
  assertEquals(notified, 2, "onQueued again: events remain for the next drain");
  assertEquals(bus.drain(1), 1);
  assertEquals(notified, 2, "a drain the caller bounded does not notify");
  assertEquals(bus.drain(), 2);
  assertEquals(seen, [0, 100, 1, 101, 2]);
});

Deno.test("EventBus and its topics name the parameter of a null or hostile argument", async (t) => {
  const { bus } = quietBus();
  const topic = bus.topic<number>("t");
  const cases: [string, () => unknown, string][] = [
    ["new EventBus(null)", () => new EventBus(loose(null)), "options"],
    ["new EventBus(5)", () => new EventBus(loose(5)), "options"],
    ["clock: {}", () => new EventBus({ clock: loose({}) }), "clock"],
    ["clock: null", () => new EventBus({ clock: loose(null) }), "clock"],
    ["metrics: 5", () => new EventBus({ metrics: loose(5) }), "metrics"],
    ["metrics: {}", () => new EventBus({ metrics: loose({}) }), "metrics"],
    ["name: Symbol", () => new EventBus({ name: loose(Symbol("b")) }), "name"],
    ["name: lone surrogate", () => new EventBus({ name: "\uD800" }), "name"],
    ["queueCap: '5'", () => new EventBus({ queueCap: loose("5") }), "queueCap"],
    ["queueCap: 10n", () => new EventBus({ queueCap: loose(10n) }), "queueCap"],
    ["onHandlerError: {}", () => new EventBus({ onHandlerError: loose({}) }), "onHandlerError"],
    ["topic(null)", () => bus.topic(loose(null)), "name"],
    ["topic(Symbol)", () => bus.topic(loose(Symbol("t"))), "name"],
    ["topic(lone surrogate)", () => bus.topic("\uDC00"), "name"],
    ["drain('x')", () => bus.drain(loose("x")), "max"],
    ["drain(-1)", () => bus.drain(-1), "max"],
    ["drain(NaN)", () => bus.drain(NaN), "max"],
    ["drain(1.5)", () => bus.drain(1.5), "max"],
    ["subscribe(null)", () => topic.subscribe(loose(null)), "handler"],
    ["subscribe(f, null)", () => topic.subscribe(() => {}, loose(null)), "options"],
    ["subscribe(f, 5)", () => topic.subscribe(() => {}, loose(5)), "options"],
    [
      "subscribe(f, { scope: null })",
      () => topic.subscribe(() => {}, { scope: loose(null) }),
      "scope",
    ],
    ["enqueue(e, null)", () => topic.enqueue(1, loose(null)), "options"],
    ["enqueue(e, 'x')", () => topic.enqueue(1, loose("x")), "options"],
    ["enqueue priority '1'", () => topic.enqueue(1, { priority: loose("1") }), "priority"],
    ["enqueue priority Symbol", () => topic.enqueue(1, { priority: loose(Symbol()) }), "priority"],
    ["enqueue priority 1n", () => topic.enqueue(1, { priority: loose(1n) }), "priority"],
    ["enqueue scope 5", () => topic.enqueue(1, { scope: loose(5) }), "scope"],
    ["new EventScope(null)", () => new EventScope(loose(null)), "owner"],
    ["new EventScope(Symbol)", () => new EventScope(loose(Symbol("o"))), "owner"],
  ];
  for (const [label, call, parameter] of cases) {
    await t.step(label, () => {
      const error = assertThrows(call);
      const message = (error as Error).message;
      assertEquals(error instanceof TypeError || error instanceof RangeError, true, message);
      assertEquals(message.startsWith("Cannot "), true, message);
      assertStringIncludes(message, `'${parameter}'`);
    });
  }
  assertEquals([bus.queued, topic.subscribers, bus.stats().topics.length], [0, 0, 1]);
});
