// The routed view of the bus that the manager hands each plugin instance.
// The router holds ONE real subscription per plugin and topic on the
// kernel's bus and forwards each event to the handlers of the instance that
// is routed now, or buffers it (bounded) while a hot reload switches. So a
// switch moves every subscription of a plugin at once, and no event reaches
// two instances or none.

import type { EventBus } from "../bus/event_bus.ts";
import { enterScope, EventScope, leaveScope } from "../bus/event_scope.ts";
import type { EventHandler, SubscribeOptions, Subscription } from "../bus/topic.ts";
import { requireFunction, requireOptions, show } from "../internal/validate.ts";
import type { PluginBus, PluginBusTopic } from "./host.ts";
import type { ResourceRegistry } from "./resource_registry.ts";

interface Handler {
  handler: EventHandler<unknown>;
  scope: EventScope | undefined;
  sub: RoutedSubscription;
}

interface Route {
  real: Subscription;
  /** Handlers by instance, in subscription order. */
  byInstance: Map<string, Handler[]>;
}

/** A router's counters. */
export interface RouterStats {
  /** Events handed to the routed instance's handlers. */
  delivered: number;
  /** Events that arrived while no handler of the routed instance listened on their topic. */
  unrouted: number;
  /** Events buffered while gated, in all. */
  buffered: number;
  /** The most events buffered at once. */
  maxBuffered: number;
  /** Gates abandoned because the buffer reached its bound. */
  overflows: number;
  /** Subscriptions cut by `detach()`. */
  detached: number;
}

class RoutedSubscription implements Subscription {
  #active = true;
  readonly #drop: () => void;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = () => this.unsubscribe();
  constructor(drop: () => void, signal: AbortSignal | undefined) {
    this.#drop = drop;
    this.#signal = signal;
    signal?.addEventListener("abort", this.#onAbort, { once: true });
  }
  get active(): boolean {
    return this.#active;
  }
  unsubscribe(): void {
    if (!this.#active) return;
    this.#active = false;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#drop();
  }
  [Symbol.dispose](): void {
    this.unsubscribe();
  }
}

/** Routes one plugin's topics to one instance at a time. */
export class PluginRouter {
  readonly plugin: string;
  readonly #bus: EventBus;
  readonly #resources: ResourceRegistry;
  readonly #routes = new Map<string, Route>();
  #routed: string | undefined;
  #gate: { max: number; buffer: [string, unknown][] } | undefined;
  #abandoned = false;
  #ids = 0;
  readonly #stats: RouterStats = {
    delivered: 0,
    unrouted: 0,
    buffered: 0,
    maxBuffered: 0,
    overflows: 0,
    detached: 0,
  };

  constructor(plugin: string, bus: EventBus, resources: ResourceRegistry) {
    this.plugin = plugin;
    this.#bus = bus;
    this.#resources = resources;
  }

  /** The instance events go to now. */
  get routed(): string | undefined {
    return this.#routed;
  }

  /** Events waiting in the gate. */
  get pending(): number {
    return this.#gate?.buffer.length ?? 0;
  }

  /** Whether a gate is up. */
  get gated(): boolean {
    return this.#gate !== undefined;
  }

  /** `true` once the last gate was abandoned because its buffer was full. */
  get abandoned(): boolean {
    return this.#abandoned;
  }

  /** Counters. */
  stats(): RouterStats {
    return { ...this.#stats };
  }

  /** The bus as `instance` sees it. */
  view(instance: string): PluginBus {
    return {
      topic: <T>(name: string): PluginBusTopic<T> => {
        const topic = this.#bus.topic<T>(name);
        return {
          name,
          publish: (event: T) => topic.publish(event),
          subscribe: (handler: EventHandler<T>, options: SubscribeOptions = {}) =>
            this.#subscribe(instance, name, handler as EventHandler<unknown>, options),
        };
      },
    };
  }

  /** Routes every topic to `instance` from now on (atomically: one assignment). */
  route(instance: string | undefined): void {
    this.#routed = instance;
  }

  /**
   * Holds every event of the plugin's topics back, up to `max`; past it the
   * gate is abandoned: what it held goes to the instance routed now, in
   * order, and routing goes on as before (nothing is lost, the switch fails).
   */
  gate(max: number): void {
    this.#abandoned = false;
    this.#gate ??= { max, buffer: [] };
  }

  /** Lets the held events through to the instance routed now, in order; ends the gate. */
  open(): number {
    const gate = this.#gate;
    if (gate === undefined) return 0;
    let n = 0;
    // A handler may publish again on a routed topic: that event joins the buffer's end.
    while (n < gate.buffer.length) {
      const [topic, event] = gate.buffer[n++]!;
      this.#deliver(topic, event);
    }
    this.#gate = undefined;
    return n;
  }

  /** Subscriptions `instance` has now. */
  handlers(instance: string): number {
    let n = 0;
    for (const route of this.#routes.values()) n += route.byInstance.get(instance)?.length ?? 0;
    return n;
  }

  /** Ends every subscription of `instance` (force-separate). */
  detach(instance: string): number {
    let n = 0;
    for (const route of [...this.#routes.values()]) {
      for (const h of [...(route.byInstance.get(instance) ?? [])]) {
        h.sub.unsubscribe();
        n++;
      }
    }
    this.#stats.detached += n;
    return n;
  }

  /** Ends every real subscription. */
  close(): void {
    for (const route of this.#routes.values()) route.real.unsubscribe();
    this.#routes.clear();
    this.#gate = undefined;
  }

  #subscribe(
    instance: string,
    topic: string,
    handler: EventHandler<unknown>,
    options: SubscribeOptions,
  ): Subscription {
    const action = "subscribe to a topic";
    requireFunction(action, "handler", handler);
    requireOptions(action, "options", options);
    const { signal, scope } = options ?? {};
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(
        `Cannot ${action} as 'signal' must be an AbortSignal: current value is ${show(signal)}`,
      );
    }
    if (scope !== undefined && !(scope instanceof EventScope)) {
      throw new TypeError(
        `Cannot ${action} as 'scope' must be an EventScope: current value is ${show(scope)}`,
      );
    }
    if (signal?.aborted === true) {
      const dead = new RoutedSubscription(() => {}, undefined);
      dead.unsubscribe();
      return dead;
    }
    let route = this.#routes.get(topic);
    if (route === undefined) {
      const real = this.#bus.topic<unknown>(topic).subscribe((event) =>
        this.#dispatch(topic, event)
      );
      route = { real, byInstance: new Map() };
      this.#routes.set(topic, route);
    }
    const id = `${topic}#${++this.#ids}`;
    const r = route;
    const entry: Handler = {
      handler,
      scope,
      sub: new RoutedSubscription(() => {
        const list = r.byInstance.get(instance);
        if (list !== undefined) {
          const left = list.filter((h) => h !== entry);
          if (left.length === 0) r.byInstance.delete(instance);
          else r.byInstance.set(instance, left);
        }
        this.#resources.remove(instance, "subscription", id);
        if (r.byInstance.size === 0 && this.#routes.get(topic) === r) {
          this.#routes.delete(topic);
          r.real.unsubscribe();
        }
      }, signal),
    };
    route.byInstance.set(instance, [...(route.byInstance.get(instance) ?? []), entry]);
    this.#resources.upsert({ owner: instance, kind: "subscription", id, detail: topic });
    return entry.sub;
  }

  #dispatch(topic: string, event: unknown): void | Promise<void> {
    const gate = this.#gate;
    if (gate !== undefined) {
      if (gate.buffer.length < gate.max) {
        gate.buffer.push([topic, event]);
        this.#stats.buffered++;
        if (gate.buffer.length > this.#stats.maxBuffered) {
          this.#stats.maxBuffered = gate.buffer.length;
        }
        return;
      }
      // Full: give up the switch rather than lose or block anything.
      this.#stats.overflows++;
      this.#abandoned = true;
      this.open();
    }
    return this.#deliver(topic, event);
  }

  #deliver(topic: string, event: unknown): void | Promise<void> {
    const routed = this.#routed;
    const list = routed === undefined ? undefined : this.#routes.get(topic)?.byInstance.get(routed);
    if (list === undefined || list.length === 0) {
      this.#stats.unrouted++;
      return;
    }
    this.#stats.delivered++;
    if (list.length === 1) return run(list[0]!, event);
    let failure: { error: unknown } | undefined;
    const pending: Promise<void>[] = [];
    for (const h of list) {
      try {
        const result = run(h, event);
        if (result instanceof Promise) pending.push(result);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
    if (pending.length > 0) return Promise.all(pending).then(() => {});
  }
}

/** Runs one handler, counted in its scope until it finished. */
function run(h: Handler, event: unknown): void | Promise<void> {
  const scope = h.scope;
  if (scope === undefined) return h.handler(event);
  enterScope(scope);
  let result: void | Promise<void>;
  try {
    result = h.handler(event);
  } catch (error) {
    leaveScope(scope);
    throw error;
  }
  if (result instanceof Promise) return result.finally(() => leaveScope(scope));
  leaveScope(scope);
}
