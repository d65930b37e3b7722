// Seeded fuzz of the event bus against a reference model: random
// subscribe / unsubscribe / abort / publish / enqueue / drain / clearQueue /
// close calls, with hostile values among the arguments and handlers that
// throw, reject, stay pending or queue more events, and hooks that throw or
// drain re-entrantly. Every call works or throws a clean error, exactly when
// the model says it should; after each call the deliveries (who got which
// event, in which order), each topic's counters, the scopes' counts, the hook
// error count and the queue match the model, and at the end nothing is left
// queued or in flight.
import { assert, assertEquals } from "@std/assert";
import { check, cleanCall, fc, hostile } from "./_hostile.ts";
import { EventBus, type EventBusOptions } from "../../src/bus/event_bus.ts";
import { EventScope } from "../../src/bus/event_scope.ts";
import type { Subscription, Topic } from "../../src/bus/topic.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { VirtualClock } from "../../src/time/virtual_clock.ts";
import type { Logger } from "../../src/logger.ts";

const TOPICS = ["a", "b", "c"];
type HandlerKind = "ok" | "throw" | "reject" | "async" | "requeue";
type HookKind = "none" | "record" | "throw" | "drain";
// deno-lint-ignore no-explicit-any
type Loose = any;

interface Event {
  id: string;
  depth: number;
}

type Op =
  | { op: "subscribe"; topic: number; kind: HandlerKind; scope: unknown; signal: unknown }
  | { op: "unsubscribe"; sub: number; dispose: boolean }
  | { op: "abort"; controller: number }
  | { op: "publish"; topic: number }
  | { op: "enqueue"; topic: number; priority: unknown; scope: unknown; options: unknown }
  | { op: "drain"; max: unknown }
  | { op: "clearQueue" }
  | { op: "settle"; index: number; reject: boolean }
  | { op: "close"; really: boolean }
  | { op: "topic"; name: unknown }
  | { op: "hostileCall"; target: number; value: unknown };

const scopeRef: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("none", "s0", "s1") },
  { weight: 1, arbitrary: hostile() },
);

const subscribe: fc.Arbitrary<Op> = fc.record({
  op: fc.constant("subscribe" as const),
  topic: fc.nat({ max: 2 }),
  kind: fc.constantFrom<HandlerKind>("ok", "ok", "throw", "reject", "async", "requeue"),
  scope: scopeRef,
  signal: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom("none", "none", "c0", "c1", "aborted") },
    { weight: 1, arbitrary: hostile() },
  ),
});

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: subscribe },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("unsubscribe" as const),
      sub: fc.nat(),
      dispose: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("abort" as const), controller: fc.nat({ max: 1 }) }),
  },
  {
    weight: 6,
    arbitrary: fc.record({ op: fc.constant("publish" as const), topic: fc.nat({ max: 2 }) }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant("enqueue" as const),
      topic: fc.nat({ max: 2 }),
      priority: fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: -2, max: 2 }) },
        { weight: 1, arbitrary: fc.constantFrom(undefined, Infinity, -Infinity, 0.5) },
        { weight: 1, arbitrary: hostile() },
      ),
      scope: scopeRef,
      options: fc.oneof(
        { weight: 12, arbitrary: fc.constant("object") },
        { weight: 1, arbitrary: hostile() },
      ),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("drain" as const),
      max: fc.oneof(
        { weight: 6, arbitrary: fc.constant(undefined) },
        { weight: 4, arbitrary: fc.integer({ min: 0, max: 4 }) },
        { weight: 1, arbitrary: hostile() },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("clearQueue" as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("settle" as const),
      index: fc.nat(),
      reject: fc.boolean(),
    }),
  },
  {
    // Rare: most of a case should run on an open bus.
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("close" as const),
      really: fc.oneof({ weight: 1, arbitrary: fc.constant(true) }, {
        weight: 7,
        arbitrary: fc.constant(false),
      }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("topic" as const),
      name: fc.oneof(fc.constantFrom(...TOPICS, "", "\uD800", "d"), hostile()),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("hostileCall" as const),
      target: fc.nat({ max: 5 }),
      value: hostile(),
    }),
  },
);

const busConfig = fc.record({
  queueCap: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 6 }) },
    { weight: 1, arbitrary: hostile() },
  ),
  onHandlerError: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom<HookKind>("none", "record", "throw") },
    { weight: 1, arbitrary: hostile() },
  ),
  onQueued: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom<HookKind>("none", "record", "throw", "drain") },
    { weight: 1, arbitrary: hostile() },
  ),
  logger: fc.constantFrom("quiet", "throwing"),
  metrics: fc.oneof(
    { weight: 6, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: hostile() },
  ),
  options: fc.oneof({ weight: 12, arbitrary: fc.constant("object") }, {
    weight: 1,
    arbitrary: hostile(),
  }),
});

const QUIET: Logger = { error: () => {}, warn: () => {}, info: () => {} };
const THROWING: Logger = {
  error: () => {
    throw new Error("logger down");
  },
  warn: () => {
    throw new Error("logger down");
  },
  info: () => {
    throw new Error("logger down");
  },
};

// --- the reference model ---------------------------------------------------

interface ModelScope {
  inFlight: number;
  total: number;
}
interface ModelSub {
  id: number;
  kind: HandlerKind;
  scope: ModelScope | undefined;
  signal: number | undefined;
  active: boolean;
}
interface ModelTopic {
  name: string;
  subs: ModelSub[];
  published: number;
  delivered: number;
  handlerErrors: number;
  queued: number;
  rejected: number;
}
interface ModelItem {
  topic: ModelTopic;
  event: Event;
  priority: number;
  seq: number;
  scope: ModelScope | undefined;
}

class Model {
  readonly topics = new Map<string, ModelTopic>();
  readonly queue: ModelItem[] = [];
  readonly log: string[] = [];
  readonly scopes: ModelScope[] = [{ inFlight: 0, total: 0 }, { inFlight: 0, total: 0 }];
  /** Async handler runs not settled yet, in the order they started. */
  readonly pending: { topic: ModelTopic; scope: ModelScope | undefined }[] = [];
  /** What the next microtask flush does (rejections, settled runs). */
  deferred: (() => void)[] = [];
  seq = 0;
  hookErrors = 0;
  queuedCalls = 0;
  recordedErrors = 0;
  closed = false;

  constructor(
    readonly cap: number,
    readonly onHandlerError: HookKind,
    readonly onQueued: HookKind,
  ) {}

  topic(name: string): ModelTopic {
    let t = this.topics.get(name);
    if (t === undefined) {
      t = { name, subs: [], published: 0, delivered: 0, handlerErrors: 0, queued: 0, rejected: 0 };
      this.topics.set(name, t);
    }
    return t;
  }

  publish(t: ModelTopic, event: Event): number {
    t.published++;
    const subs = t.subs.filter((s) => s.active);
    t.delivered += subs.length;
    for (const sub of subs) this.#run(sub, t, event);
    return subs.length;
  }

  #run(sub: ModelSub, t: ModelTopic, event: Event): void {
    this.log.push(`${sub.id}:${event.id}`);
    const scope = sub.scope;
    if (scope !== undefined) {
      scope.inFlight++;
      scope.total++;
    }
    const leave = () => {
      if (scope !== undefined) scope.inFlight--;
    };
    switch (sub.kind) {
      case "ok":
        leave();
        return;
      case "throw":
        leave();
        this.#handlerError(t);
        return;
      case "reject":
        this.deferred.push(() => {
          leave();
          this.#handlerError(t);
        });
        return;
      case "async":
        this.pending.push({ topic: t, scope });
        return;
      case "requeue":
        if (event.depth < 2) {
          this.enqueue(t, { id: `${event.id}r`, depth: event.depth + 1 }, 0, undefined);
        }
        leave();
        return;
    }
  }

  settle(index: number, reject: boolean): void {
    const [run] = this.pending.splice(index, 1);
    this.deferred.push(() => {
      if (run!.scope !== undefined) run!.scope.inFlight--;
      if (reject) this.#handlerError(run!.topic);
    });
  }

  #handlerError(t: ModelTopic): void {
    t.handlerErrors++;
    if (this.onHandlerError === "record") this.recordedErrors++;
    if (this.onHandlerError === "throw") this.hookErrors++;
  }

  #queuedHook(): void {
    if (this.onQueued === "record") this.queuedCalls++;
    if (this.onQueued === "throw") this.hookErrors++;
    if (this.onQueued === "drain") this.drain(Infinity);
  }

  enqueue(t: ModelTopic, event: Event, priority: number, scope: ModelScope | undefined): boolean {
    if (this.queue.length >= this.cap) {
      t.rejected++;
      return false;
    }
    if (scope !== undefined) {
      scope.inFlight++;
      scope.total++;
    }
    t.queued++;
    this.queue.push({ topic: t, event, priority, seq: this.seq++, scope });
    if (this.queue.length === 1) this.#queuedHook();
    return true;
  }

  drain(max: number): number {
    const atStart = this.queue.length;
    const limit = Math.min(max, atStart);
    let done = 0;
    while (done < limit && this.queue.length > 0) {
      let best = 0;
      for (let i = 1; i < this.queue.length; i++) {
        const a = this.queue[i]!;
        const b = this.queue[best]!;
        if (a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq)) best = i;
      }
      const [item] = this.queue.splice(best, 1);
      done++;
      item!.topic.queued--;
      this.publish(item!.topic, item!.event);
      if (item!.scope !== undefined) item!.scope.inFlight--;
    }
    if (!this.closed && this.queue.length > 0 && limit === atStart) this.#queuedHook();
    return done;
  }

  clearQueue(): number {
    const items = this.queue.splice(0);
    for (const item of items) {
      item.topic.queued--;
      if (item.scope !== undefined) item.scope.inFlight--;
    }
    return items.length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearQueue();
    for (const t of this.topics.values()) {
      for (const s of t.subs) s.active = false;
      t.subs = [];
    }
  }

  flush(): void {
    while (this.deferred.length > 0) {
      const effects = this.deferred;
      this.deferred = [];
      for (const effect of effects) effect();
    }
  }
}

// --- the run -----------------------------------------------------------------

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 8; i++) await Promise.resolve();
}

const validMax = (max: unknown) =>
  max === undefined || max === Infinity ||
  (typeof max === "number" && Number.isInteger(max) && max >= 0);
const validOptions = (o: unknown) => o === undefined || (o !== null && typeof o === "object");

async function runCase(config: Loose, ops: readonly Op[]): Promise<void> {
  const registry = new MetricsRegistry({ selfMetrics: false, logger: QUIET });
  const actualLog: string[] = [];
  const pending: PromiseWithResolvers<void>[] = [];
  let recorded = 0;
  let queuedCalls = 0;
  const hook = (kind: unknown, on: "error" | "queued") => {
    if (kind === "none") return undefined;
    if (kind === "record") {
      return on === "error" ? () => void recorded++ : () => void queuedCalls++;
    }
    if (kind === "throw") {
      return () => {
        throw new Error(`${on} hook broke`);
      };
    }
    if (kind === "drain") return () => void bus.drain();
    return kind; // hostile
  };
  const options: EventBusOptions = {
    name: "fuzz",
    clock: new VirtualClock(),
    logger: config.logger === "throwing" ? THROWING : QUIET,
    queueCap: config.queueCap,
    onHandlerError: hook(config.onHandlerError, "error") as Loose,
    onQueued: hook(config.onQueued, "queued") as Loose,
    metrics: config.metrics === true
      ? registry
      : config.metrics === false
      ? undefined
      : config.metrics,
  };
  const names = ["options", "queueCap", "onHandlerError", "onQueued", "metrics"];
  // A hostile options value is tried, then a quiet default bus is used (a
  // bus made from it would log to the console).
  if (config.options !== "object") cleanCall(() => new EventBus(config.options).close(), names);
  const made = config.options === "object"
    ? cleanCall(() => new EventBus(options), names)
    : undefined;
  const bus = made ?? new EventBus({ name: "fuzz", logger: QUIET, clock: new VirtualClock() });
  // The model follows the bus actually made.
  const model = made === undefined
    ? new Model(65536, "none", "none")
    : new Model(config.queueCap ?? 65536, config.onHandlerError, config.onQueued);
  const metricsOn = made !== undefined && config.metrics === true;
  let exported: Map<string, number> | undefined;

  const scopes = [new EventScope("s0"), new EventScope("s1")];
  const controllers = [new AbortController(), new AbortController()];
  const subs: { sub: Subscription; model: ModelSub }[] = [];
  let nextSub = 0;
  let nextEvent = 0;
  const topicOf = (i: number) => TOPICS[i]!;
  // A closed bus refuses with a ClosedError, which names no parameter.
  const named = (names: string[]) => model.closed ? undefined : names;
  // Getting a topic makes it, also when the call on it is then refused.
  const actualTopic = (name: string): Topic<Event> => {
    const topic = bus.topic<Event>(name);
    model.topic(name);
    return topic;
  };
  const resolveScope = (ref: unknown) =>
    ref === "none" ? undefined : ref === "s0" ? scopes[0] : ref === "s1" ? scopes[1] : ref;
  const modelScope = (ref: unknown) =>
    ref === "s0" ? model.scopes[0] : ref === "s1" ? model.scopes[1] : undefined;
  const validScope = (ref: unknown) =>
    ref === undefined || ref === "none" || ref === "s0" || ref === "s1";

  const handler = (kind: HandlerKind, id: number, topicName: string) => (event: Event) => {
    actualLog.push(`${id}:${event.id}`);
    switch (kind) {
      case "ok":
        return;
      case "throw":
        throw new Error(`handler ${id}`);
      case "reject":
        return Promise.reject(new Error(`handler ${id} rejected`));
      case "async": {
        const run = Promise.withResolvers<void>();
        pending.push(run);
        return run.promise;
      }
      case "requeue":
        if (event.depth < 2) {
          bus.topic<Event>(topicName).enqueue({ id: `${event.id}r`, depth: event.depth + 1 });
        }
        return;
    }
  };

  for (const o of ops) {
    // A call on a closed bus throws a ClosedError: the model says which.
    switch (o.op) {
      case "subscribe": {
        const name = topicOf(o.topic);
        const signal = o.signal === "none"
          ? undefined
          : o.signal === "c0"
          ? controllers[0]!.signal
          : o.signal === "c1"
          ? controllers[1]!.signal
          : o.signal === "aborted"
          ? AbortSignal.abort()
          : o.signal;
        const validSignal = o.signal === undefined ||
          (typeof o.signal === "string" && ["none", "c0", "c1", "aborted"].includes(o.signal));
        const id = nextSub++;
        const sub = cleanCall(
          () =>
            actualTopic(name).subscribe(handler(o.kind, id, name), {
              scope: resolveScope(o.scope) as Loose,
              signal: signal as Loose,
            }),
          named(["scope", "signal"]),
        );
        assertEquals(sub !== undefined, !model.closed && validScope(o.scope) && validSignal);
        if (sub === undefined) break;
        const aborted = o.signal === "aborted" ||
          (signal as AbortSignal | undefined)?.aborted === true;
        const m: ModelSub = {
          id,
          kind: o.kind,
          scope: modelScope(o.scope),
          signal: o.signal === "c0" ? 0 : o.signal === "c1" ? 1 : undefined,
          active: !aborted,
        };
        if (!aborted) model.topic(name).subs.push(m);
        else model.topic(name);
        subs.push({ sub, model: m });
        assertEquals(sub.active, m.active);
        break;
      }
      case "unsubscribe": {
        if (subs.length === 0) break;
        const { sub, model: m } = subs[o.sub % subs.length]!;
        if (o.dispose) sub[Symbol.dispose]();
        else sub.unsubscribe();
        if (m.active) {
          m.active = false;
          for (const t of model.topics.values()) t.subs = t.subs.filter((s) => s !== m);
        }
        break;
      }
      case "abort": {
        controllers[o.controller]!.abort();
        for (const t of model.topics.values()) {
          for (const s of t.subs) if (s.signal === o.controller) s.active = false;
          t.subs = t.subs.filter((s) => s.active);
        }
        break;
      }
      case "publish": {
        const name = topicOf(o.topic);
        const event = { id: `e${nextEvent++}`, depth: 0 };
        const n = cleanCall(() => actualTopic(name).publish(event));
        assertEquals(n === undefined, model.closed);
        if (n !== undefined) assertEquals(n, model.publish(model.topic(name), event));
        break;
      }
      case "enqueue": {
        const name = topicOf(o.topic);
        const event = { id: `e${nextEvent++}`, depth: 0 };
        const options = o.options === "object"
          ? { priority: o.priority, scope: resolveScope(o.scope) }
          : o.options;
        const valid = !model.closed && (o.options === "object"
          ? (o.priority === undefined ||
            (typeof o.priority === "number" && !Number.isNaN(o.priority))) && validScope(o.scope)
          : validOptions(o.options));
        const queued = cleanCall(
          () => actualTopic(name).enqueue(event, options as Loose),
          named(["options", "priority", "scope"]),
        );
        assertEquals(queued !== undefined, valid, `enqueue ${fc.stringify(options)}`);
        if (queued === undefined) break;
        const priority = o.options === "object" ? (o.priority as number | undefined) ?? 0 : 0;
        const scope = o.options === "object" ? modelScope(o.scope) : undefined;
        assertEquals(queued, model.enqueue(model.topic(name), event, priority, scope));
        break;
      }
      case "drain": {
        const done = cleanCall(() => bus.drain(o.max as number), named(["max"]));
        assertEquals(done !== undefined, !model.closed && validMax(o.max));
        if (done !== undefined) {
          assertEquals(done, model.drain((o.max as number | undefined) ?? Infinity));
        }
        break;
      }
      case "clearQueue":
        assertEquals(bus.clearQueue(), model.clearQueue());
        break;
      case "settle": {
        if (pending.length === 0) break;
        const index = o.index % pending.length;
        const [run] = pending.splice(index, 1);
        if (o.reject) run!.reject(new Error("settled with an error"));
        else run!.resolve();
        model.settle(index, o.reject);
        break;
      }
      case "close":
        if (!o.really) break;
        bus.close();
        model.close();
        // The metrics stop at close, after a final update: remember what they show.
        exported ??= metricFigures(model);
        break;
      case "topic": {
        const valid = !model.closed && typeof o.name === "string" && o.name !== "" &&
          o.name.isWellFormed();
        const topic = cleanCall(() => bus.topic(o.name as string), named(["name"]));
        assertEquals(topic !== undefined, valid);
        if (topic !== undefined) model.topic(o.name as string);
        break;
      }
      case "hostileCall": {
        // Hostile values where the bus expects something else: a clean error, no change.
        const v = o.value as Loose;
        const calls = [
          () => actualTopic("a").subscribe(v),
          () => actualTopic("a").subscribe(() => {}, v),
          () => actualTopic("b").enqueue({ id: "x", depth: 9 }, { priority: 0, scope: v }),
          () => new EventScope(v),
          () => new EventBus({ clock: v, logger: QUIET }).close(),
          () => new EventBus({ metrics: v, logger: QUIET }).close(),
        ];
        const result = cleanCall(calls[o.target]!);
        if (o.target > 2 || model.closed) break;
        // The topic was made before the call was refused.
        const t = model.topic(o.target === 2 ? "b" : "a");
        if (result === undefined) break;
        // The value was a valid one after all: mirror the call.
        if (o.target === 2) model.enqueue(t, { id: "x", depth: 9 }, 0, undefined);
        else (result as Subscription).unsubscribe();
        break;
      }
    }
    await flushMicrotasks();
    model.flush();
    compare(bus, model, actualLog, scopes, recorded, queuedCalls);
  }

  // Nothing stranded: settle every run and drain, until nothing is left
  // (a drained event may start new async runs; requeues stop at depth 2).
  for (let round = 0; round < 20; round++) {
    while (pending.length > 0) {
      pending.pop()!.resolve();
      model.settle(model.pending.length - 1, false);
    }
    await flushMicrotasks();
    model.flush();
    if (model.closed || model.queue.length === 0) break;
    assertEquals(bus.drain(), model.drain(Infinity));
    await flushMicrotasks();
    model.flush();
  }
  compare(bus, model, actualLog, scopes, recorded, queuedCalls);
  assertEquals(bus.queued, 0, "nothing left queued");
  for (const scope of scopes) {
    assertEquals(scope.inFlight, 0, `scope ${scope.owner} idle`);
    let idle = false;
    scope.whenIdle().then(() => idle = true);
    await flushMicrotasks();
    assert(idle, "whenIdle() resolves once nothing is in flight");
  }
  if (metricsOn) {
    const expected = exported ?? metricFigures(model);
    const actual = new Map<string, number>();
    for (const s of registry.flatten()) {
      if (s.name === "chronetix_bus_hook_errors_total") actual.set("hookErrors", s.value);
      if (s.name === "chronetix_bus_published_total") {
        actual.set(`published:${s.labels.topic}`, s.value);
      }
      if (s.name === "chronetix_bus_handler_errors_total") {
        actual.set(`handlerErrors:${s.labels.topic}`, s.value);
      }
    }
    assertEquals(actual, expected, "the metrics say what the model says");
  }
  bus.close();
}

/** What the bus's metrics must show, from the model. */
function metricFigures(model: Model): Map<string, number> {
  const figures = new Map<string, number>([["hookErrors", model.hookErrors]]);
  for (const t of model.topics.values()) {
    figures.set(`published:${t.name}`, t.published);
    figures.set(`handlerErrors:${t.name}`, t.handlerErrors);
  }
  return figures;
}

function compare(
  bus: EventBus,
  model: Model,
  actualLog: readonly string[],
  scopes: readonly EventScope[],
  recorded: number,
  queuedCalls: number,
): void {
  assertEquals(actualLog, model.log, "deliveries: who got which event, in order");
  const stats = bus.stats();
  assertEquals(stats.queued, model.queue.length);
  assertEquals(stats.hookErrors, model.hookErrors);
  assertEquals(
    stats.topics.map((t) => [
      t.topic,
      t.published,
      t.delivered,
      t.handlerErrors,
      t.queued,
      t.rejected,
      t.subscribers,
    ]),
    [...model.topics.values()].map((t) => [
      t.name,
      t.published,
      t.delivered,
      t.handlerErrors,
      t.queued,
      t.rejected,
      t.subs.length,
    ]),
  );
  assertEquals(
    scopes.map((s) => [s.inFlight, s.total]),
    model.scopes.map((s) => [s.inFlight, s.total]),
    "scopes count exactly",
  );
  assertEquals([recorded, queuedCalls], [model.recordedErrors, model.queuedCalls]);
}

Deno.test("bus fuzz: random operations match a reference model, nothing stranded", async () => {
  await check(
    fc.asyncProperty(
      busConfig,
      fc.array(subscribe, { minLength: 1, maxLength: 6 }),
      fc.array(op, { maxLength: 60, size: "max" }),
      (config, first, ops) => runCase(config, [...first, ...ops]),
    ),
  );
});
